"""Plain data of the store, shared by every backend: rows as they are written and hashed, the
run record, and the text/JSON encoding rules that make a row read back exactly as written."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redline.core.models import AttemptResult

DEFAULT_DB = Path(".redline") / "redline.db"

RESULT_COLUMNS = (
    "run_id, attempt_id, seq, scenario_id, scenario_version, category, severity, chain, "
    "outcome, error, tries, latency_ms, tokens, attempt, transcript, responses, verdicts, "
    "recorded_at"
)
RESULT_NAMES = tuple(c.strip() for c in RESULT_COLUMNS.split(","))
RUN_COLUMNS = ("id", "created_at", "finished_at", "status", "target", "suite", "seed",
               "planned", "config", "manifest", "summary")
RUN_FIXED = ("id", "created_at", "target", "suite", "seed", "planned", "config", "manifest")
LINK_COLUMNS = "run_id, seq, kind, ref, ts, record_sha256, prev, hash"
EVENT_KINDS = ("finish", "resume")
JSON_RESULT_FIELDS = ("chain", "attempt", "transcript", "responses", "verdicts")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _text(value: str | None) -> str | None:
    """Stores keep UTF-8 text: lone surrogates from attacker input become escapes, and so does
    NUL, which a server database refuses in text (JSON columns escape it themselves)."""
    if value is None:
        return None
    text = value.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
    return text.replace("\x00", "\\x00")


def dumps_text(value: Any) -> str:
    """JSON for a TEXT column; lone surrogates (attacker input) become \\uXXXX escapes."""
    text = dumps(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)
    return text


def result_row(run_id: str, r: AttemptResult) -> tuple[Any, ...]:
    a = r.attempt
    responses = [
        {"text": x.text, "error": _text(x.error), "status": x.status,
         "latency_ms": round(x.latency_s * 1000, 3), "tokens": x.tokens,
         **({"payload": x.payload} if x.payload is not None else {})}
        for x in r.responses
    ]
    tokens = sum(x.tokens or 0 for x in r.responses) or None
    return (
        run_id, a.id, a.seq, a.scenario_id, a.scenario_version, a.category, a.severity,
        dumps(list(a.chain)), r.outcome, _text(r.error), r.tries, round(r.latency_s * 1000, 3),
        tokens,
        dumps_text(a.to_dict()), dumps_text([m.to_dict() for m in r.transcript]),
        dumps_text(responses), dumps_text([v.to_dict() for v in r.verdicts]), utc_now(),
    )


def decode_result(row: tuple[Any, ...]) -> dict[str, Any]:
    """A results row as a dict with its JSON columns decoded."""
    rec = dict(zip(RESULT_NAMES, row, strict=True))
    for key in JSON_RESULT_FIELDS:
        rec[key] = json.loads(rec[key])
    return rec


def new_run_id() -> str:
    """A run id: UTC time stamp and a random suffix (every kind of run)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


@dataclass
class RunInfo:
    id: str
    created_at: str
    finished_at: str | None
    status: str
    target: str
    suite: str
    seed: int
    planned: int
    config: dict[str, Any]
    manifest: dict[str, Any]
    summary: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RunInfo:
        """From the RUN_COLUMNS of a runs row."""
        return cls(
            id=row[0], created_at=row[1], finished_at=row[2], status=row[3], target=row[4],
            suite=row[5], seed=row[6], planned=row[7], config=json.loads(row[8]),
            manifest=json.loads(row[9]), summary=json.loads(row[10]) if row[10] else None,
        )
