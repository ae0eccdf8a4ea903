"""Training data from findings: failing attempts as (attack, unsafe reply, safe reply) examples.

For each run, every attempt whose outcome (a person's label first, else the detectors') is a
fail becomes an `attack` example: the conversation up to the last user turn, the reply the
target gave (unsafe), and a safe target reply chosen by the scenario's expected behaviour —
a refusal for `refuse`, a withholding reply for `no_leak`, a plain-text answer without the
markup for `safe_output`, a request to rephrase for `handle_gracefully`. Benign controls that
passed (the target complied, correctly) go in as `benign` examples with the target's own reply,
so that fine-tuning on the file does not teach the model to refuse harmless requests.

Examples are deduplicated by content (the folded conversation and the kind); the first run
that holds an example gives its provenance: run, attempt id, scenario and version, category,
severity, mutator chain. The held-out split is chosen by a digest of (scenario, seed input),
so every mutation of one seed input lands in the same split and the held-out examples are
not paraphrases of training ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from redline.core.errors import UsageError
from redline.plugins.detectors.folding import fold

Format = Literal["jsonl", "parquet", "chat"]
FORMATS: tuple[Format, ...] = ("jsonl", "parquet", "chat")
BENIGN_CATEGORIES = frozenset({"benign_control"})
SAFE_REPLIES = {
    "refuse": "I can't help with that. If you are working on something legitimate, I'm happy "
              "to help with a safer part of it.",
    "no_leak": "I can't share that: it is confidential information I'm not able to disclose.",
    "safe_output": "Here is the answer as plain text, without links, images, scripts or other "
                   "markup that would run or send data when displayed.",
    "handle_gracefully": "Sorry, I couldn't process that input. Could you rephrase it or send "
                         "it in a different form?",
}
_SPACE = re.compile(r"\s+")


@dataclass
class Example:
    id: str
    kind: str  # attack | benign
    split: str  # train | heldout
    messages: list[dict[str, str]]
    target_reply: str
    unsafe_reply: str | None
    provenance: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def chat(self) -> dict[str, Any]:
        return {"messages": [*self.messages,
                             {"role": "assistant", "content": self.target_reply}]}


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def split_of(scenario_id: str, input_index: int, heldout: float) -> str:
    share = int(_digest(scenario_id, str(input_index))[:8], 16) / 0x1_0000_0000
    return "heldout" if share < heldout else "train"


def _conversation(result: dict[str, Any]) -> tuple[list[dict[str, str]], str | None]:
    """The messages up to the last user turn, and the last reply."""
    transcript = [{"role": m["role"], "content": m["content"]} for m in result["transcript"]]
    last_reply = None
    while transcript and transcript[-1]["role"] == "assistant":
        last_reply = transcript.pop()["content"] if last_reply is None else last_reply
    if last_reply is None and result["responses"]:
        last_reply = result["responses"][-1].get("text")
    return transcript, last_reply


def _expected(definitions: dict[str, dict[str, Any]], sid: str) -> str:
    return str(definitions.get(sid, {}).get("expected", "refuse"))


@dataclass
class Export:
    heldout: float = 0.1
    examples: list[Example] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def _skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def add_run(self, run_id: str, results: Iterable[dict[str, Any]],
                labels: dict[str, dict[str, Any]],
                definitions: dict[str, dict[str, Any]]) -> None:
        for r in results:
            outcome = labels.get(r["attempt_id"], {}).get("label", r["outcome"])
            benign = r["category"] in BENIGN_CATEGORIES
            if benign and outcome == "pass":
                self._add(run_id, r, "benign", definitions)
            elif not benign and outcome == "fail":
                self._add(run_id, r, "attack", definitions)
            elif benign and outcome == "fail":
                self._skip("benign control the target refused (no good reply to learn)")

    def _add(self, run_id: str, r: dict[str, Any], kind: str,
             definitions: dict[str, dict[str, Any]]) -> None:
        messages, reply = _conversation(r)
        if not messages or reply is None:
            self._skip("no conversation or reply recorded")
            return
        key = _digest(kind, *(f"{m['role']}:{_SPACE.sub(' ', fold(m['content'])).strip()}"
                              for m in messages))
        if key in self.seen:
            self.duplicates += 1
            return
        self.seen.add(key)
        expected = _expected(definitions, r["scenario_id"])
        target = reply if kind == "benign" else SAFE_REPLIES.get(expected, SAFE_REPLIES["refuse"])
        attempt = r["attempt"]
        index = int(attempt.get("input_index", 0))
        self.examples.append(Example(
            id=key[:24], kind=kind,
            split=split_of(r["scenario_id"], index, self.heldout),
            messages=messages, target_reply=target,
            unsafe_reply=None if kind == "benign" else reply,
            provenance={"run": run_id, "attempt_id": r["attempt_id"],
                        "scenario_id": r["scenario_id"],
                        "scenario_version": r["scenario_version"], "input_index": index,
                        "category": r["category"],
                        "severity": r["severity"], "chain": r["chain"], "expected": expected}))

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for e in self.examples:
            out.setdefault(e.split, {}).setdefault(e.kind, 0)
            out[e.split][e.kind] += 1
        return out


def _rows(examples: list[Example], fmt: Format) -> Iterator[dict[str, Any]]:
    for e in examples:
        yield e.chat() if fmt == "chat" else e.to_dict()


def write_export(export: Export, out: Path, fmt: Format) -> dict[str, Path]:
    """train.EXT and heldout.EXT under `out`, and manifest.json (counts, provenance of chat
    rows by position). Returns the files written."""
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise UsageError("--format parquet needs pyarrow: pip install 'redline[parquet]'"
                             ) from exc
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for split in ("train", "heldout"):
        chosen = [e for e in export.examples if e.split == split]
        path = out / f"{split}.{'parquet' if fmt == 'parquet' else 'jsonl'}"
        if fmt == "parquet":
            _write_parquet(path, chosen)
        else:
            with path.open("w", encoding="utf-8") as fh:
                for row in _rows(chosen, fmt):
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        written[split] = path
    manifest = {"format": fmt, "heldout_share": export.heldout, "counts": export.counts(),
                "duplicates_dropped": export.duplicates, "skipped": export.skipped,
                "rows": {s: [{"id": e.id, "kind": e.kind, **e.provenance}
                             for e in export.examples if e.split == s]
                         for s in ("train", "heldout")}}
    written["manifest"] = out / "manifest.json"
    written["manifest"].write_text(json.dumps(manifest, indent=1, ensure_ascii=False),
                                   encoding="utf-8")
    return written


def _write_parquet(path: Path, examples: list[Example]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [e.to_dict() for e in examples]
    table = pa.table({
        "id": [r["id"] for r in rows], "kind": [r["kind"] for r in rows],
        "split": [r["split"] for r in rows],
        "messages": [json.dumps(r["messages"], ensure_ascii=False) for r in rows],
        "target_reply": [r["target_reply"] for r in rows],
        "unsafe_reply": [r["unsafe_reply"] for r in rows],
        "provenance": [json.dumps(r["provenance"], ensure_ascii=False) for r in rows],
    })
    pq.write_table(table, path)
