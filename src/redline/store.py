"""The SQLite store: runs, their scenarios and every attempt result, written in batches."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redline.errors import RedlineError
from redline.models import AttemptResult

DEFAULT_DB = Path(".redline") / "redline.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    target TEXT NOT NULL,
    suite TEXT NOT NULL,
    seed INTEGER NOT NULL,
    planned INTEGER NOT NULL,
    config TEXT NOT NULL,
    manifest TEXT NOT NULL,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS scenarios (
    run_id TEXT NOT NULL REFERENCES runs(id),
    scenario_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (run_id, scenario_id)
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL REFERENCES runs(id),
    attempt_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    scenario_id TEXT NOT NULL,
    scenario_version INTEGER NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    chain TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    error TEXT,
    tries INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    tokens INTEGER,
    attempt TEXT NOT NULL,
    transcript TEXT NOT NULL,
    responses TEXT NOT NULL,
    verdicts TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, attempt_id)
);
CREATE INDEX IF NOT EXISTS results_by_run_seq ON results (run_id, seq);
"""

RESULT_COLUMNS = (
    "run_id, attempt_id, seq, scenario_id, scenario_version, category, severity, chain, "
    "outcome, error, tries, latency_ms, tokens, attempt, transcript, responses, verdicts, "
    "recorded_at"
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _text(value: str | None) -> str | None:
    """SQLite stores UTF-8: keep lone surrogates from attacker input as escapes."""
    if value is None:
        return None
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")


def result_row(run_id: str, r: AttemptResult) -> tuple[Any, ...]:
    a = r.attempt
    responses = [
        {"text": _text(x.text), "error": x.error, "status": x.status,
         "latency_ms": round(x.latency_s * 1000, 3), "tokens": x.tokens}
        for x in r.responses
    ]
    tokens = sum(x.tokens or 0 for x in r.responses) or None
    return (
        run_id, a.id, a.seq, a.scenario_id, a.scenario_version, a.category, a.severity,
        dumps(list(a.chain)), r.outcome, r.error, r.tries, round(r.latency_s * 1000, 3), tokens,
        _text(dumps(a.to_dict())), _text(dumps([m.to_dict() for m in r.transcript])),
        dumps(responses), dumps([v.to_dict() for v in r.verdicts]), utc_now(),
    )


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


class Store:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise RedlineError(f"{path}: not a usable redline store: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def create_run(self, run_id: str, target: str, suite: str, seed: int, planned: int,
                   config: dict[str, Any], manifest: dict[str, Any],
                   scenarios: list[tuple[str, int, dict[str, Any]]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO runs (id, created_at, status, target, suite, seed, planned, config,"
                " manifest) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (run_id, utc_now(), target, suite, seed, planned, dumps(config), dumps(manifest)),
            )
            self.db.executemany(
                "INSERT INTO scenarios (run_id, scenario_id, version, definition) VALUES (?,?,?,?)",
                [(run_id, sid, ver, dumps(defn)) for sid, ver, defn in scenarios],
            )

    def add_results(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        marks = ",".join("?" * len(rows[0]))
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(f"INSERT INTO results ({RESULT_COLUMNS}) VALUES ({marks})", rows)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None) -> None:
        self.db.execute(
            "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
            (status, utc_now(), dumps(summary) if summary is not None else None, run_id),
        )

    def _run(self, row: tuple[Any, ...]) -> RunInfo:
        return RunInfo(
            id=row[0], created_at=row[1], finished_at=row[2], status=row[3], target=row[4],
            suite=row[5], seed=row[6], planned=row[7], config=json.loads(row[8]),
            manifest=json.loads(row[9]), summary=json.loads(row[10]) if row[10] else None,
        )

    def runs(self, limit: int = 50) -> list[RunInfo]:
        cur = self.db.execute(
            "SELECT id, created_at, finished_at, status, target, suite, seed, planned, config,"
            " manifest, summary FROM runs ORDER BY created_at DESC, id DESC LIMIT ?", (limit,),
        )
        return [self._run(r) for r in cur]

    def get_run(self, ref: str) -> RunInfo:
        """A run by id, unique id prefix, or `latest`."""
        cols = ("SELECT id, created_at, finished_at, status, target, suite, seed, planned, config,"
                " manifest, summary FROM runs")
        if ref == "latest":
            rows = self.db.execute(f"{cols} ORDER BY created_at DESC, id DESC LIMIT 1").fetchall()
        else:
            pattern = ref.replace("%", "").replace("_", "") + "%"
            rows = self.db.execute(f"{cols} WHERE id LIKE ? LIMIT 2", (pattern,)).fetchall()
        if not rows:
            raise RedlineError(f"no run {ref!r} in {self.path}")
        if len(rows) > 1:
            raise RedlineError(f"run id prefix {ref!r} is ambiguous in {self.path}")
        return self._run(rows[0])

    def scenario_definitions(self, run_id: str) -> dict[str, dict[str, Any]]:
        cur = self.db.execute(
            "SELECT scenario_id, definition FROM scenarios WHERE run_id = ?", (run_id,)
        )
        return {sid: json.loads(defn) for sid, defn in cur}

    def results(self, run_id: str, outcome: str | None = None) -> Iterator[dict[str, Any]]:
        """Stream a run's results in plan order; JSON columns decoded."""
        sql = f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ?"
        args: tuple[Any, ...] = (run_id,)
        if outcome:
            sql += " AND outcome = ?"
            args += (outcome,)
        cur = self.db.execute(sql + " ORDER BY seq", args)
        names = [c.strip() for c in RESULT_COLUMNS.split(",")]
        for row in cur:
            rec = dict(zip(names, row, strict=True))
            for key in ("chain", "attempt", "transcript", "responses", "verdicts"):
                rec[key] = json.loads(rec[key])
            yield rec

    def outcome_rows(self, run_id: str) -> Iterator[tuple[str, str, str, str, float, int | None]]:
        """Just what a summary needs: scenario, category, severity, outcome, latency, tokens."""
        yield from self.db.execute(
            "SELECT scenario_id, category, severity, outcome, latency_ms, tokens FROM results"
            " WHERE run_id = ? ORDER BY seq", (run_id,),
        )

    def done_attempt_ids(self, run_id: str) -> set[str]:
        cur = self.db.execute("SELECT attempt_id FROM results WHERE run_id = ?", (run_id,))
        return {r[0] for r in cur}


class BatchWriter:
    """Buffers result rows and writes them in one transaction per batch or per interval."""

    def __init__(self, store: Store, run_id: str, batch: int = 256, interval_s: float = 1.0):
        self.store = store
        self.run_id = run_id
        self.batch = batch
        self.interval_s = interval_s
        self.rows: list[tuple[Any, ...]] = []
        self.last_flush = time.monotonic()
        self.written = 0

    def add(self, result: AttemptResult) -> None:
        self.rows.append(result_row(self.run_id, result))
        if len(self.rows) >= self.batch or time.monotonic() - self.last_flush >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        self.store.add_results(rows)
        self.written += len(rows)
        self.last_flush = time.monotonic()
