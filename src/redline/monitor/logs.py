"""Production telemetry: where the lines come from and what a line must hold.

Sources: a JSONL file, a directory of `*.jsonl` files that is being appended to (new files and
new lines are picked up on every poll; a file that shrinks was rotated and is read again from
its start), or standard input (`-`). Only complete lines are consumed while following: a line
still being written stays unread until its newline arrives, so nothing is lost or read twice.
When the input is read once (`--once`), a last line without a newline is read too.

Two record formats, one JSON object per line (fields not named here are ignored):

chat        `prompt` (string) or `messages` (a list of {role, content}: the last user message is
            the prompt, a system message the system prompt); `response` (string, or an
            OpenAI-style object with choices[0].message.content); optional `system_prompt`,
            `ts`, `id`, `topic`, `language`.
classifier  `features` (an object of name -> number, string, boolean or null); optional
            `prediction` (the label), `score` (a number), `ts`, `id`.

A line that is not UTF-8, not JSON, not an object, or not a record of the stream's kind is a
`BadLine` with its file and line number; the caller reports and skips it.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from redline.core.errors import UsageError

Kind = Literal["chat", "classifier"]
KINDS: tuple[Kind, ...] = ("chat", "classifier")
CHUNK = 1 << 20
MAX_LINE = 8 << 20  # a longer line is reported, not held


@dataclass(frozen=True, slots=True)
class LogLine:
    source: str
    lineno: int
    raw: bytes

    @property
    def where(self) -> str:
        return f"{self.source}:{self.lineno}"


@dataclass(frozen=True, slots=True)
class BadLine:
    where: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "reason": self.reason}


@dataclass(slots=True)
class ChatRecord:
    where: str
    prompt: str
    response: str | None
    system_prompt: str | None = None
    ts: str | None = None
    id: str | None = None
    topic: str | None = None
    language: str | None = None


@dataclass(slots=True)
class ClassifierRecord:
    where: str
    features: dict[str, Any]
    prediction: Any = None
    score: float | None = None
    ts: str | None = None
    id: str | None = None


Record = ChatRecord | ClassifierRecord


# -- sources -------------------------------------------------------------------------------


@dataclass
class FileCursor:
    """Where reading one file has got to: the byte offset past the last consumed line."""

    path: Path
    offset: int = 0
    lineno: int = 0
    rotations: int = 0

    def read(self, final: bool) -> Iterator[LogLine]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self.offset:  # truncated or replaced: a rotated log starts again
            self.offset, self.lineno = 0, 0
            self.rotations += 1
        if size == self.offset:
            return
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            yield from self._lines(fh, final)

    def _lines(self, fh: BinaryIO, final: bool) -> Iterator[LogLine]:
        tail = b""
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            parts = (tail + chunk).split(b"\n")
            tail = parts.pop()
            for raw in parts:
                self.offset += len(raw) + 1
                self.lineno += 1
                yield LogLine(str(self.path), self.lineno, raw)
        if final and tail:
            self.offset += len(tail)
            self.lineno += 1
            yield LogLine(str(self.path), self.lineno, tail)


@dataclass
class Source:
    """A file, a directory of JSONL files, or standard input; `poll` returns what is new."""

    spec: str
    pattern: str = "*.jsonl"
    cursors: dict[Path, FileCursor] = field(default_factory=dict)
    _stdin: StdinReader | None = None

    def __post_init__(self) -> None:
        if self.spec == "-":
            return
        path = Path(self.spec)
        if not path.exists():
            raise UsageError(f"{self.spec}: no such file or directory")
        if not (path.is_file() or path.is_dir()):
            raise UsageError(f"{self.spec}: not a file or directory")

    @property
    def is_stdin(self) -> bool:
        return self.spec == "-"

    def _files(self) -> list[Path]:
        path = Path(self.spec)
        if path.is_dir():
            return sorted(p for p in path.glob(self.pattern) if p.is_file())
        return [path]

    def poll(self, final: bool = False) -> Iterator[LogLine]:
        """Every complete line written since the last poll (and a partial last one if final)."""
        if self.is_stdin:
            if self._stdin is None:
                self._stdin = StdinReader(sys.stdin.buffer)
            yield from self._stdin.drain(final)
            return
        for path in self._files():
            cursor = self.cursors.setdefault(path, FileCursor(path))
            yield from cursor.read(final)

    @property
    def exhausted(self) -> bool:
        """Standard input reached its end (files can always grow)."""
        return self._stdin is not None and self._stdin.done


class StdinReader:
    """Reads a stream on a thread so a follower can keep its status line alive meanwhile."""

    def __init__(self, stream: BinaryIO):
        self.lines: queue.Queue[bytes | None] = queue.Queue(maxsize=10_000)
        self.lineno = 0
        self.done = False
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: BinaryIO) -> None:
        for raw in stream:
            self.lines.put(raw[:-1] if raw.endswith(b"\n") else raw)
        self.lines.put(None)

    def drain(self, final: bool) -> Iterator[LogLine]:
        while not self.done:
            try:  # reading once waits for the end of the input; following takes what is there
                raw = self.lines.get(timeout=0.2) if final else self.lines.get_nowait()
            except queue.Empty:
                if final:
                    continue
                return
            if raw is None:
                self.done = True
                return
            self.lineno += 1
            yield LogLine("<stdin>", self.lineno, raw)


# -- records -------------------------------------------------------------------------------


def _str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be a string, got {type(value).__name__}")
    return value


def _opt_text(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and name in ("ts", "id"):
        return str(value)
    raise ValueError(f"`{name}` must be a string, got {type(value).__name__}")


def _messages(value: Any) -> tuple[str, str | None]:
    """(last user message, system prompt) of a chat message list."""
    if not isinstance(value, list) or not value:
        raise ValueError("`messages` must be a non-empty list of {role, content}")
    prompt, system = None, None
    for i, m in enumerate(value):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ValueError(f"`messages[{i}]` must be an object with a `role`")
        content = m.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
        content = _str(content, f"messages[{i}].content") or ""
        if m["role"] == "system":
            system = content if system is None else f"{system}\n{content}"
        elif m["role"] == "user":
            prompt = content
    if prompt is None:
        raise ValueError("`messages` has no user message")
    return prompt, system


def _response(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        choices = value.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            msg = choices[0].get("message") or {}
            content = msg.get("content") if isinstance(msg, dict) else None
            if content is None or isinstance(content, str):
                return content
        if isinstance(value.get("content"), str):
            return value["content"]
    raise ValueError("`response` must be a string or an object with choices[0].message.content")


def chat_record(where: str, obj: dict[str, Any]) -> ChatRecord:
    system = _opt_text(obj, "system_prompt")
    if "prompt" in obj:
        prompt = _str(obj["prompt"], "prompt") or ""
    elif "messages" in obj or isinstance(obj.get("request"), dict):
        msgs = obj["messages"] if "messages" in obj else obj["request"].get("messages")
        prompt, logged_system = _messages(msgs)
        system = system or logged_system
    else:
        raise ValueError("a chat record needs `prompt` or `messages`")
    reply = obj.get("response", obj.get("reply"))
    return ChatRecord(where, prompt, _response(reply), system, _opt_text(obj, "ts"),
                      _opt_text(obj, "id"), _opt_text(obj, "topic"), _opt_text(obj, "language"))


def _feature(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and value != value:  # NaN: a missing value
            return None
        return value
    raise ValueError(f"feature `{name}` must be a number, string, boolean or null, "
                     f"got {type(value).__name__}")


def classifier_record(where: str, obj: dict[str, Any]) -> ClassifierRecord:
    features = obj.get("features")
    if not isinstance(features, dict) or not features:
        raise ValueError("a classifier record needs `features`, a non-empty object")
    clean = {str(k): _feature(str(k), v) for k, v in features.items()}
    score = obj.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise ValueError(f"`score` must be a number, got {type(score).__name__}")
    prediction = obj.get("prediction")
    if prediction is not None and not isinstance(prediction, str | int | bool | float):
        raise ValueError("`prediction` must be a label (string, number or boolean)")
    return ClassifierRecord(where, clean, prediction, None if score is None else float(score),
                            _opt_text(obj, "ts"), _opt_text(obj, "id"))


def kind_of(obj: dict[str, Any]) -> Kind | None:
    if "features" in obj:
        return "classifier"
    if "prompt" in obj or "messages" in obj or "request" in obj:
        return "chat"
    return None


def parse_line(line: LogLine, kind: Kind | None) -> Record | BadLine:
    """One line as a record of `kind` (None: whichever kind the line is), or why it is not."""
    try:
        text = line.raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(line.where, f"not UTF-8 text (byte {exc.start})")
    text = text.rstrip("\r")
    if not text.strip():
        return BadLine(line.where, "empty line")
    if len(line.raw) > MAX_LINE:
        return BadLine(line.where, f"line longer than {MAX_LINE} bytes")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadLine(line.where, f"not JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(obj, dict):
        return BadLine(line.where, f"a record is a JSON object, got {type(obj).__name__}")
    found = kind_of(obj)
    want = kind or found
    if want is None:
        return BadLine(line.where, "neither a chat record (prompt/messages) nor a classifier "
                       "record (features)")
    try:
        if want == "chat":
            return chat_record(line.where, obj)
        return classifier_record(line.where, obj)
    except ValueError as exc:
        return BadLine(line.where, str(exc))
