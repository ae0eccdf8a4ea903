"""Public prompt sets in, as catalog scenarios (`redline catalog import`).

A local copy of HarmBench, AdvBench, JailbreakBench, XSTest, or any CSV / JSON-lines file
with a `prompt` column becomes one scenario per row, written as catalog YAML into a
directory that `redline scan --suite DIR` runs. Harmful rows become probes (expected:
refuse, judged by `harmful_compliance`) or, with `as_kind="attack"`, objectives of an
attack strategy; safe rows (XSTest's `safe` label, `--benign`) become benign controls
(category `benign_control`, expected: comply, judged by `over_refusal`), the catalog's
over-refusal convention. Every scenario carries its provenance (set, licence, file, row).

Ids come from the row's id in the set (HarmBench BehaviorID, JailbreakBench Index, XSTest
id, an `id` column), else its row number; a re-import of the same file gives identical
files, and a row whose content changed gets the next version of its id. Repeated prompts
are imported once. A malformed file or row is an `InputFileError` naming file:line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from redline.catalog.prompt_sets import FORMATS, PromptSet, Row, fail_at
from redline.core import registry
from redline.core.errors import UsageError

AsKind = Literal["probe", "attack"]
MAX_TITLE = 90


@dataclass
class ImportResult:
    written: list[Path] = field(default_factory=list)  # new or new version
    unchanged: list[Path] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, first line)
    benign: int = 0


# harm areas named in the sets' categories -> severity (the rest: high)
CRITICAL_AREAS = ("chemical", "biolog", "weapon", "explosive", "self-harm", "self_harm",
                  "suicide", "child", "physical harm")
LOW_AREAS = ("copyright", "expert advice", "government")


def severity_of(source_category: str | None) -> str:
    area = (source_category or "").lower()
    if any(a in area for a in CRITICAL_AREAS):
        return "critical"
    if any(a in area for a in LOW_AREAS):
        return "medium"
    return "high"


def category_of(row: Row) -> str:
    """A registered redline category: benign rows are benign controls; a row whose set
    category is a registered one keeps it; the sets' harm areas are harmful content."""
    if not row.harmful:
        return "benign_control"
    if row.source_category in registry.names("category"):
        return row.source_category
    return "harmful_content"


@cache
def _catalog_owasp() -> dict[str, list[str]]:
    """category -> the OWASP ids the built-in catalog gives it (its first scenario's)."""
    from redline.catalog import builtin_catalog

    out: dict[str, list[str]] = {}
    for s in builtin_catalog():
        out.setdefault(s.category, list(s.tags.owasp))
    return out


def _owasp_of(category: str) -> list[str]:
    return list(_catalog_owasp().get(category, ["LLM01"]))


def slug(key: str) -> str:
    """A key as an id part: lower case, runs of other characters as '-'; long or emptied
    keys keep a short hash of the original so that distinct keys stay distinct."""
    text = re.sub(r"[^a-z0-9_.]+", "-", key.lower()).strip("-._")
    if text == key.lower() and 0 < len(text) <= 60:
        return text
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{text[:50].rstrip('-')}-{digest}".lstrip("-")


def _title(pset: PromptSet, row: Row) -> str:
    first = " ".join(row.prompt.split("---")[-1].split())
    short = first if len(first) <= MAX_TITLE else first[:MAX_TITLE - 3].rstrip() + "..."
    return f"{pset.name} {row.key}: {short}"


REMEDIATION = {
    True: "Add this request and close variants to refusal training and the safety evals; "
          "check the safety classifier covers its harm area.",
    False: "Recalibrate the safety filter or system prompt so that this safe request is "
           "answered; add it to the benign regression set.",
}
ROLLBACK = {
    True: "Roll back to the last model, prompt or filter release that refused this request.",
    False: "Revert the filter, threshold or prompt change that made the assistant refuse "
           "this safe request.",
}


def scenario_data(pset: PromptSet, row: Row, file: Path, prefix: str, as_kind: AsKind,
                  strategy: dict[str, Any]) -> dict[str, Any]:
    """One row as a catalog scenario (version 1; `versioned` sets the real one)."""
    category = category_of(row)
    attack = as_kind == "attack" and row.harmful
    where = f"{pset.name} {row.key} ({file.name} line {row.line})"
    data: dict[str, Any] = {
        **({"kind": "attack"} if attack else {}),
        "id": f"{prefix}-{slug(row.key)}", "version": 1, "title": _title(pset, row),
        "objective": (f"Imported from {where}: " + (
            "the target must not be driven to comply." if attack else
            "the target must refuse." if row.harmful else
            "a safe request (over-refusal control) that must be answered.")),
        "category": category, "tags": {"owasp": _owasp_of(category)},
        "severity": severity_of(row.source_category) if row.harmful else "medium",
        "author": f"import:{pset.name}", "expected": "refuse" if row.harmful else "comply",
        "remediation": REMEDIATION[row.harmful], "rollback": ROLLBACK[row.harmful],
        "references": [pset.url] if pset.url else [],
        "provenance": {"source": pset.name, "licence": pset.licence, "file": file.name,
                       "row": row.line, "key": row.key,
                       "source_category": row.source_category},
        "inputs": [row.prompt],
        "detectors": ["harmful_compliance" if row.harmful else "over_refusal"],
    }
    if attack:
        data["strategy"] = strategy
    return data


def _without_version(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "version"}


def versioned(data: dict[str, Any], existing: Path) -> tuple[dict[str, Any], bool]:
    """(data with its version, changed): an existing file of the same id keeps its version
    when the content is the same and gets the next one when it changed."""
    if not existing.exists():
        return data, True
    try:
        old = yaml.safe_load(existing.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        fail_at(existing, None, f"cannot read the earlier import ({str(exc).splitlines()[0]})")
    if not isinstance(old, dict) or not isinstance(old.get("version"), int):
        fail_at(existing, None, "the earlier import has no integer version")
    if _without_version(old) == _without_version(data):
        return {**data, "version": old["version"]}, False
    return {**data, "version": old["version"] + 1}, True


def _checked(data: dict[str, Any], file: Path, line: int) -> None:
    """The scenario validates as its kind; a row that cannot make one is an error there."""
    from redline.catalog.schema import scenario_model

    try:
        scenario_model(data.get("kind", "probe")).model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        fail_at(file, line, f"cannot become a scenario: {where}: {first['msg']}")


def _unique_rows(file: Path, rows: Iterator[Row], result: ImportResult) -> list[Row]:
    """Rows with repeated prompts dropped (first kept); a repeated id is an error."""
    by_prompt: dict[str, int] = {}
    by_key: dict[str, int] = {}
    kept = []
    for row in rows:
        norm = " ".join(row.prompt.casefold().split())
        if norm in by_prompt:
            result.duplicates.append((row.line, by_prompt[norm]))
            continue
        if slug(row.key) in by_key:
            fail_at(file, row.line, f"id {row.key!r} repeats the id of line "
                     f"{by_key[slug(row.key)]} with another prompt", "id")
        by_prompt[norm] = by_key[slug(row.key)] = row.line
        kept.append(row)
    return kept


def _attack_strategy(strategy: dict[str, Any]) -> None:
    """`strategy` ({name: params}) names an attack strategy whose params are valid."""
    from redline.attack.schema import _attack_strategy as default_prompt

    ((name, params),) = strategy.items()
    try:
        default_prompt(name)
        registry.params_dict("strategy", name, params)
    except (ValueError, ValidationError) as exc:
        raise UsageError(f"--strategy: {str(exc).splitlines()[0]}") from None


def _dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def import_file(file: Path, fmt: str, out: Path, *, as_kind: AsKind = "probe",
                strategy: dict[str, Any] | None = None, prefix: str | None = None,
                benign: bool = False, licence: str | None = None,
                max_queries: int | None = None) -> ImportResult:
    """Import `file` (a local copy of a `fmt` set) into catalog YAML files under `out`."""
    pset = FORMATS[fmt]
    strategy = strategy or {"pair": {}}
    if as_kind == "attack":
        _attack_strategy(strategy)
    if licence:
        pset = PromptSet(pset.name, licence, pset.url, pset.prefix, pset.read)
    prefix = slug(prefix or pset.prefix or file.stem)
    result = ImportResult()
    rows = _unique_rows(file, pset.read(file), result)
    if not rows:
        fail_at(file, None, "no rows to import")
    planned = [_planned(pset, row, file, out, prefix, as_kind, strategy, benign, max_queries)
               for row in rows]  # every row checked before any file is written
    _make_dir(out)
    for target, data, changed in planned:
        if changed:
            target.write_text(_dump(data), encoding="utf-8")
        (result.written if changed else result.unchanged).append(target)
        result.benign += data["category"] == "benign_control" and data["expected"] == "comply"
    return result


def _make_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create it ({exc.strerror})") from None


def _planned(pset: PromptSet, row: Row, file: Path, out: Path, prefix: str, as_kind: AsKind,
             strategy: dict[str, Any], benign: bool,
             max_queries: int | None) -> tuple[Path, dict[str, Any], bool]:
    """(file to write, scenario data at its version, whether it is new or changed)."""
    if benign:
        row = Row(row.line, row.key, row.prompt, False, row.source_category)
    data = scenario_data(pset, row, file, prefix, as_kind, strategy)
    if max_queries is not None and data.get("kind") == "attack":
        data["budget"] = {"max_queries": max_queries}
    _checked(data, file, row.line)
    target = out / f"{data['id']}.yaml"
    return (target, *versioned(data, target))
