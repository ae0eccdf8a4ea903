"""Reading public prompt sets: each set's file format, as rows (prompt, id, label, category).

HarmBench (its CSV, context rows as context + behaviour), AdvBench, JailbreakBench, XSTest,
and any CSV or JSON-lines file with a `prompt` column. A malformed file or row is an
`InputFileError` naming file:line. `redline.catalog.importer` turns the rows into scenarios.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from redline.core.errors import InputFileError, Problem


@dataclass(frozen=True)
class Row:
    """One prompt of a set: where it starts in the file, its id in the set, and its label."""

    line: int
    key: str
    prompt: str
    harmful: bool
    source_category: str | None = None


@dataclass(frozen=True)
class PromptSet:
    """A public set's name, licence, home page, id prefix and its file reader."""

    name: str
    licence: str
    url: str
    prefix: str
    read: Callable[[Path], Iterator[Row]]


def fail_at(path: Path, line: int | None, message: str,
             column: str | None = None) -> NoReturn:
    raise InputFileError([Problem(str(path), line, column, message)])


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail_at(path, None, "no such file")
    except UnicodeDecodeError as exc:
        fail_at(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        fail_at(path, None, f"cannot read ({exc.strerror})")


def csv_records(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line, row) for each data row; a missing column or a short/long row is an
    error at its line. An unnamed leading column (a pandas index) is ignored."""
    lines = _text(path).splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        fail_at(path, 1, "empty file: expected a header row")
    except csv.Error as exc:
        fail_at(path, 1, f"malformed CSV header ({exc})")
    missing = [c for c in required if c not in header]
    if missing:
        fail_at(path, 1, f"missing column(s) {', '.join(missing)} (header: "
                 f"{', '.join(header)})")
    yield from _csv_rows(path, reader, header)


def _csv_rows(path: Path, reader: Any, header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    end = reader.line_num
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            fail_at(path, start, f"malformed CSV row ({exc})")
        end = reader.line_num
        if not cells:
            continue  # a blank line
        if len(cells) != len(header):
            fail_at(path, start, f"{len(cells)} fields, the header has {len(header)}")
        yield start, {h: c.strip() for h, c in zip(header, cells, strict=True) if h}


def jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, object) for each non-blank line; bad JSON or a non-object is an error there."""
    for n, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            fail_at(path, n, f"not JSON ({exc.msg} at column {exc.colno})")
        if not isinstance(obj, dict):
            fail_at(path, n, f"expected a JSON object, got {type(obj).__name__}")
        yield n, {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in obj.items()
                  if v is not None}


def _need(path: Path, line: int, row: dict[str, str], column: str) -> str:
    value = row.get(column, "").strip()
    if not value:
        fail_at(path, line, "empty", column)
    return value


def _label(path: Path, line: int, value: str, column: str) -> bool:
    """True for a harmful row: XSTest's safe/unsafe, or benign/harmful."""
    harmful = {"unsafe": True, "harmful": True, "safe": False, "benign": False}.get(
        value.strip().lower())
    if harmful is None:
        fail_at(path, line, f"expected safe/unsafe (or benign/harmful), got {value!r}", column)
    return bool(harmful)


def read_harmbench(path: Path) -> Iterator[Row]:
    """HarmBench behaviors CSV; a contextual behavior's prompt is its context, a rule, then
    the behavior, as HarmBench builds it."""
    for line, r in csv_records(path, ("Behavior", "SemanticCategory", "BehaviorID")):
        behavior = _need(path, line, r, "Behavior")
        context = r.get("ContextString", "")
        prompt = f"{context}\n\n---\n\n{behavior}" if context else behavior
        yield Row(line, _need(path, line, r, "BehaviorID"), prompt, True,
                  r.get("SemanticCategory") or None)


def read_advbench(path: Path) -> Iterator[Row]:
    """AdvBench harmful_behaviors.csv (goal,target): rows have no id, the row number is it."""
    for n, (line, r) in enumerate(csv_records(path, ("goal",)), start=1):
        yield Row(line, str(n), _need(path, line, r, "goal"), True)


def read_jailbreakbench(path: Path) -> Iterator[Row]:
    """JailbreakBench behaviors CSV (Index, Goal, Target, Behavior, Category, Source)."""
    for n, (line, r) in enumerate(csv_records(path, ("Goal", "Category")), start=1):
        yield Row(line, r.get("Index") or str(n), _need(path, line, r, "Goal"), True,
                  r.get("Category") or None)


def read_xstest(path: Path) -> Iterator[Row]:
    """XSTest prompts CSV (id, prompt, type, label, focus, note): `safe` rows are benign."""
    for line, r in csv_records(path, ("id", "prompt", "type", "label")):
        yield Row(line, _need(path, line, r, "id"), _need(path, line, r, "prompt"),
                  _label(path, line, _need(path, line, r, "label"), "label"),
                  r.get("type") or None)


def _generic(path: Path, records: Iterator[tuple[int, dict[str, str]]]) -> Iterator[Row]:
    """A `prompt` per row; optional `id`, `category` and `label` (safe/unsafe)."""
    for n, (line, r) in enumerate(records, start=1):
        label = r.get("label", "")
        yield Row(line, r.get("id", "").strip() or str(n), _need(path, line, r, "prompt"),
                  _label(path, line, label, "label") if label.strip() else True,
                  r.get("category") or None)


def read_csv(path: Path) -> Iterator[Row]:
    return _generic(path, csv_records(path, ("prompt",)))


def read_jsonl(path: Path) -> Iterator[Row]:
    return _generic(path, jsonl_records(path))


FORMATS: dict[str, PromptSet] = {
    "harmbench": PromptSet("HarmBench", "MIT", "https://github.com/centerforaisafety/HarmBench",
                           "harmbench", read_harmbench),
    "advbench": PromptSet("AdvBench", "MIT", "https://github.com/llm-attacks/llm-attacks",
                          "advbench", read_advbench),
    "jailbreakbench": PromptSet("JailbreakBench", "MIT",
                                "https://github.com/JailbreakBench/jailbreakbench", "jbb",
                                read_jailbreakbench),
    "xstest": PromptSet("XSTest", "CC-BY-4.0", "https://github.com/paul-rottger/xstest",
                        "xstest", read_xstest),
    "csv": PromptSet("csv", "unknown", "", "", read_csv),
    "jsonl": PromptSet("jsonl", "unknown", "", "", read_jsonl),
}
