"""The SQLite store: runs, their scenarios and every attempt result, written in batches."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redline.audit import (
    Link,
    Problem,
    Verification,
    chained_state,
    make_link,
    plan_digest,
    record_digest,
    state_problems,
    verify_links,
)
from redline.errors import RedlineError
from redline.models import AttemptResult
from redline.queries import Queries
from redline.sqlite_open import open_store

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
    outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error', 'unclear')),
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
CREATE TABLE IF NOT EXISTS plan (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    attempt_id TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS chain (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    ts TEXT NOT NULL,
    record_sha256 TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,
    payload TEXT,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS chain_by_kind ON chain (run_id, kind);
CREATE TABLE IF NOT EXISTS signatures (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq, key_id)
);
CREATE TABLE IF NOT EXISTS timestamps (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    tsa TEXT NOT NULL,
    token TEXT NOT NULL,
    gen_time TEXT NOT NULL,
    PRIMARY KEY (run_id, seq, tsa)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(id),
    baseline_id TEXT,
    verdict TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    policy_digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decision TEXT NOT NULL
);
"""

RESULT_COLUMNS = (
    "run_id, attempt_id, seq, scenario_id, scenario_version, category, severity, chain, "
    "outcome, error, tries, latency_ms, tokens, attempt, transcript, responses, verdicts, "
    "recorded_at"
)
RESULT_NAMES = tuple(c.strip() for c in RESULT_COLUMNS.split(","))
RUN_FIXED = ("id", "created_at", "target", "suite", "seed", "planned", "config", "manifest")
LINK_COLUMNS = "run_id, seq, kind, ref, ts, record_sha256, prev, hash"
EVENT_KINDS = ("finish", "resume")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _text(value: str | None) -> str | None:
    """SQLite stores UTF-8: keep lone surrogates from attacker input as escapes."""
    if value is None:
        return None
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")


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


_OLD_OUTCOMES = "CHECK (outcome IN ('pass', 'fail', 'error'))"


def _allow_unclear(db: sqlite3.Connection) -> None:
    """Stores made before outcomes could be `unclear` refuse that value (a CHECK constraint,
    which SQLite cannot alter): widen it in place. Rows, and so every hash, stay the same."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'results'"
                     ).fetchone()
    if row is None or _OLD_OUTCOMES not in row[0]:
        return
    new_sql = row[0].replace(_OLD_OUTCOMES,
                             "CHECK (outcome IN ('pass', 'fail', 'error', 'unclear'))")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    with db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'results'",
                   (new_sql,))
        db.execute(f"PRAGMA schema_version = {int(version) + 1}")
        db.execute("PRAGMA writable_schema = OFF")
    db.execute("PRAGMA integrity_check").fetchall()


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


class Store(Queries):
    def __init__(self, path: Path):
        self.path = path
        self._heads: dict[str, tuple[int, str] | None] = {}
        try:  # a new store appears complete or not at all (see redline.sqlite_open)
            self.db = open_store(path, SCHEMA, migrate=_allow_unclear)
        except sqlite3.DatabaseError as exc:
            raise RedlineError(f"{path}: not a usable redline store: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def create_run(self, run_id: str, target: str, suite: str, seed: int, planned: int,
                   config: dict[str, Any], manifest: dict[str, Any],
                   scenarios: list[tuple[str, int, dict[str, Any]]],
                   plan: Iterable[str] | None = None) -> None:
        """Store a new run; `plan` (the attempt ids in order) is committed in the chain, so
        verify can refuse results for attempts the run never planned."""
        with self.db:
            self.db.execute("BEGIN")
            if plan is not None:
                manifest = {**manifest, "plan": self._store_plan(run_id, plan, planned)}
            self.db.execute(
                "INSERT INTO runs (id, created_at, status, target, suite, seed, planned, config,"
                " manifest) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (run_id, utc_now(), target, suite, seed, planned, dumps(config), dumps(manifest)),
            )
            self.db.executemany(
                "INSERT INTO scenarios (run_id, scenario_id, version, definition) VALUES (?,?,?,?)",
                [(run_id, sid, ver, dumps(defn)) for sid, ver, defn in scenarios],
            )
            record = self.run_record(run_id)
            assert record is not None
            self._append(run_id, "run", run_id, record_digest(record))

    def _store_plan(self, run_id: str, plan: Iterable[str], planned: int) -> dict[str, Any]:

        def rows() -> Iterator[tuple[str, int, str]]:
            for seq, attempt_id in enumerate(plan):
                yield run_id, seq, attempt_id

        self.db.executemany("INSERT INTO plan (run_id, seq, attempt_id) VALUES (?,?,?)", rows())
        count, digest = plan_digest(self.plan_ids(run_id))
        if count != planned:
            raise RedlineError(f"run {run_id}: plan has {count} attempts, {planned} expected")
        return {"attempts": count, "sha256": digest}

    def add_results(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        marks = ",".join("?" * len(rows[0]))
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(f"INSERT INTO results ({RESULT_COLUMNS}) VALUES ({marks})", rows)
            links = []
            for row in rows:
                record = dict(zip(RESULT_NAMES, row, strict=True))
                links.append(self._next_link(row[0], "result", row[1], record_digest(record)))
            self._insert_links(links)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None) -> None:
        finished = utc_now()
        summary_text = dumps(summary) if summary is not None else None
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                (status, finished, summary_text, run_id),
            )
            (results,) = self.db.execute(
                "SELECT count(*) FROM chain WHERE run_id = ? AND kind = 'result'", (run_id,)
            ).fetchone()
            self.append_event(run_id, "finish", {"status": status, "finished_at": finished,
                                                 "summary": summary_text, "results": results})

    def mark_resumed(self, run_id: str) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("UPDATE runs SET status = 'running' WHERE id = ?", (run_id,))
            self.append_event(run_id, "resume", {"resumed_at": utc_now()})

    # --- the audit chain -----------------------------------------------------------------

    def _head(self, run_id: str) -> tuple[int, str] | None:
        if run_id not in self._heads:
            row = self.db.execute(
                "SELECT seq, hash FROM chain WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
            ).fetchone()
            self._heads[run_id] = (row[0], row[1]) if row else None
        return self._heads[run_id]

    def _next_link(self, run_id: str, kind: str, ref: str, record_sha: str) -> Link:
        link = make_link(self._head(run_id), run_id, kind, ref, utc_now(), record_sha)
        self._heads[run_id] = (link.seq, link.hash)
        return link

    def _insert_links(self, links: list[Link], payloads: list[str | None] | None = None) -> None:
        try:
            self.db.executemany(
                f"INSERT INTO chain ({LINK_COLUMNS}, payload) VALUES (?,?,?,?,?,?,?,?,?)",
                [(ln.run_id, ln.seq, ln.kind, ln.ref, ln.ts, ln.record_sha256, ln.prev, ln.hash,
                  (payloads or [None] * len(links))[i]) for i, ln in enumerate(links)],
            )
        except BaseException:
            self._heads.clear()  # the transaction rolls back: re-read heads from disk
            raise

    def _append(self, run_id: str, kind: str, ref: str, record_sha: str,
                payload: str | None = None) -> Link:
        """Chain one record; call inside the transaction that writes the record."""
        link = self._next_link(run_id, kind, ref, record_sha)
        self._insert_links([link], [payload])
        return link

    def append_event(self, run_id: str, kind: str, fields: dict[str, Any]) -> Link:
        """Chain an event whose content lives in the chain entry itself."""
        head = self._head(run_id)
        ref = f"{kind}-{head[0] + 1 if head else 0}"
        return self._append(run_id, kind, ref, record_digest(fields), dumps(fields))

    def chain_record(self, run_id: str, kind: str, ref: str, fields: dict[str, Any]) -> Link:
        """Chain a record stored elsewhere (e.g. a gate decision); inside its transaction."""
        return self._append(run_id, kind, ref, record_digest(fields))

    def run_record(self, run_id: str) -> dict[str, Any] | None:
        row = self.db.execute(f"SELECT {', '.join(RUN_FIXED)} FROM runs WHERE id = ?",
                              (run_id,)).fetchone()
        if row is None:
            return None
        record = dict(zip(RUN_FIXED, row, strict=True))
        record["scenarios"] = [list(r) for r in self.db.execute(
            "SELECT scenario_id, version, definition FROM scenarios WHERE run_id = ?"
            " ORDER BY scenario_id", (run_id,))]
        return record

    def result_record(self, run_id: str, attempt_id: str) -> dict[str, Any] | None:
        row = self.db.execute(f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ? AND "
                              "attempt_id = ?", (run_id, attempt_id)).fetchone()
        return dict(zip(RESULT_NAMES, row, strict=True)) if row else None

    def links(self, run_id: str) -> list[Link]:
        cur = self.db.execute(f"SELECT {LINK_COLUMNS} FROM chain WHERE run_id = ? ORDER BY seq",
                              (run_id,))
        return [Link(*row) for row in cur]

    def event_payloads(self, run_id: str) -> dict[str, dict[str, Any]]:
        cur = self.db.execute("SELECT ref, payload FROM chain WHERE run_id = ? AND payload IS NOT"
                              " NULL", (run_id,))
        return {ref: json.loads(payload) for ref, payload in cur}

    def verify(self, run_id: str) -> Verification:
        """Re-hash every record of a run and walk its chain."""
        events = self.event_payloads(run_id)
        decisions = self.decision_records(run_id)

        def lookup(kind: str, ref: str) -> tuple[dict[str, Any], dict[str, str]] | None:
            if kind == "result":
                found = self.result_record(run_id, ref)
            elif kind == "run":
                found = self.run_record(ref) if ref == run_id else None
            elif kind == "decision":
                found = decisions.get(ref)
            else:
                found = events.get(ref)
            return (found, {}) if found is not None else None

        done = self.done_attempt_ids(run_id)
        present = {"result": done, "run": {run_id}, "decision": set(decisions)}
        links = self.links(run_id)
        found = verify_links(run_id, links, lookup, present)
        extra = self._run_problems(run_id, links, events, len(done))
        return Verification(run_id, found.links, found.head, found.problems + tuple(extra))

    def _run_problems(self, run_id: str, links: list[Link], events: dict[str, dict[str, Any]],
                      results: int) -> list[Problem]:
        """The run row against its chain, and its results against its committed plan."""
        row = self.db.execute("SELECT status, finished_at, summary, planned, manifest FROM runs"
                              " WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return []
        stored = {"status": row[0], "finished_at": row[1], "summary": row[2]}
        state, problems = chained_state(links, events)
        problems += state_problems(run_id, stored, state, int(row[3]), results)
        try:
            committed = json.loads(row[4]).get("plan")
        except (ValueError, AttributeError):
            committed = None
        if isinstance(committed, dict):
            problems += self._plan_problems(run_id, committed)
        return problems + self._deleted_decisions(run_id)

    def _deleted_decisions(self, run_id: str) -> list[Problem]:
        """Decision ids only grow (AUTOINCREMENT): the newest one deleted, with its chain
        entry, still leaves its number behind."""
        try:
            issued = self.db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'decisions'").fetchone()
            (newest,) = self.db.execute("SELECT max(id) FROM decisions").fetchone()
        except sqlite3.OperationalError:
            return []
        if issued is None or (newest or 0) >= issued[0]:
            return []
        return [Problem(None, "decision", str(issued[0]),
                        f"the store issued decision ids up to {issued[0]} but the newest left "
                        f"is {newest or 'none'}: decisions were deleted (perhaps of run "
                        f"{run_id})")]

    def _plan_problems(self, run_id: str, committed: dict[str, Any]) -> list[Problem]:
        count, digest = plan_digest(self.plan_ids(run_id))
        problems = []
        if (count, digest) != (committed.get("attempts"), committed.get("sha256")):
            problems.append(Problem(None, "plan", run_id,
                                    "the stored plan differs from the one committed in the "
                                    "run record (edited)"))
        cur = self.db.execute(
            "SELECT r.attempt_id FROM results r LEFT JOIN plan p ON p.run_id = r.run_id"
            " AND p.seq = r.seq WHERE r.run_id = ? AND (p.attempt_id IS NULL"
            " OR p.attempt_id != r.attempt_id) ORDER BY r.seq", (run_id,))
        problems += [Problem(None, "result", aid, "is not an attempt of the run's plan")
                     for (aid,) in cur]
        return problems

    def decision_records(self, run_id: str) -> dict[str, dict[str, Any]]:
        exists = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'").fetchone()
        if not exists:
            return {}
        cur = self.db.execute("SELECT * FROM decisions WHERE run_id = ?", (run_id,))
        names = [d[0] for d in cur.description]
        out = {}
        for row in cur:
            record = dict(zip(names, row, strict=True))
            out[str(record.get("id", len(out)))] = record
        return out

    def add_signature(self, run_id: str, seq: int, head: str, key_id: str, public_key: str,
                      signature: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO signatures (run_id, seq, hash, key_id, public_key, signature,"
            " signed_at) VALUES (?,?,?,?,?,?,?)",
            (run_id, seq, head, key_id, public_key, signature, utc_now()),
        )

    def add_timestamp(self, run_id: str, seq: int, head: str, tsa: str, token: str,
                      gen_time: str) -> None:
        """An RFC 3161 token (base64 DER) over a signed head, from the TSA at `tsa`."""
        self.db.execute(
            "INSERT OR REPLACE INTO timestamps (run_id, seq, hash, tsa, token, gen_time)"
            " VALUES (?,?,?,?,?,?)", (run_id, seq, head, tsa, token, gen_time))

    def timestamps(self, run_id: str) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT seq, hash, tsa, token, gen_time FROM timestamps WHERE"
                              " run_id = ? ORDER BY seq", (run_id,))
        names = ("seq", "hash", "tsa", "token", "gen_time")
        return [dict(zip(names, row, strict=True)) for row in cur]

    def signatures(self, run_id: str) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT seq, hash, key_id, public_key, signature, signed_at FROM"
                              " signatures WHERE run_id = ? ORDER BY seq", (run_id,))
        names = ("seq", "hash", "key_id", "public_key", "signature", "signed_at")
        return [dict(zip(names, row, strict=True)) for row in cur]

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
        for row in cur:
            rec = dict(zip(RESULT_NAMES, row, strict=True))
            for key in ("chain", "attempt", "transcript", "responses", "verdicts"):
                rec[key] = json.loads(rec[key])
            yield rec

    def results_for(self, run_id: str, attempt_ids: list[str]) -> Iterator[dict[str, Any]]:
        """The results of these attempts, in plan order; JSON columns decoded."""
        for i in range(0, len(attempt_ids), 500):
            chunk = attempt_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            cur = self.db.execute(f"SELECT {RESULT_COLUMNS} FROM results WHERE run_id = ? AND"
                                  f" attempt_id IN ({marks}) ORDER BY seq", (run_id, *chunk))
            for row in cur:
                rec = dict(zip(RESULT_NAMES, row, strict=True))
                for key in ("chain", "attempt", "transcript", "responses", "verdicts"):
                    rec[key] = json.loads(rec[key])
                yield rec

    def outcome_rows(self, run_id: str, reviewed: bool = True
                     ) -> Iterator[tuple[str, str, str, str, float, int | None]]:
        """Just what a summary needs: scenario, category, severity, outcome, latency, tokens.

        With `reviewed`, a person's label (see labels()) replaces the detectors' outcome."""
        labels = self.labels(run_id) if reviewed else {}
        cur = self.db.execute(
            "SELECT scenario_id, category, severity, outcome, latency_ms, tokens, attempt_id"
            " FROM results WHERE run_id = ? ORDER BY seq", (run_id,),
        )
        for sid, category, severity, outcome, latency, tokens, attempt_id in cur:
            if labels and attempt_id in labels:
                outcome = labels[attempt_id]["label"]
            yield sid, category, severity, outcome, latency, tokens

    def labels(self, run_id: str) -> dict[str, dict[str, Any]]:
        """attempt id -> the latest reviewed label (chained `label` events, redline.review)."""
        cur = self.db.execute("SELECT payload FROM chain WHERE run_id = ? AND kind = 'label'"
                              " ORDER BY seq", (run_id,))
        out: dict[str, dict[str, Any]] = {}
        for (payload,) in cur:
            record = json.loads(payload)
            out[record["attempt_id"]] = record
        return out

    def verdict_rows(self, run_id: str) -> Iterator[tuple[str, str, str]]:
        """(attempt id, outcome, verdicts as stored JSON) in plan order."""
        yield from self.db.execute(
            "SELECT attempt_id, outcome, verdicts FROM results WHERE run_id = ? ORDER BY seq",
            (run_id,))

    def recorded_responses(self, run_id: str) -> dict[str, list[dict[str, Any]]]:
        """The cassette: each attempt's recorded responses, turn by turn."""
        cur = self.db.execute("SELECT attempt_id, responses FROM results WHERE run_id = ?",
                              (run_id,))
        return {attempt_id: json.loads(responses) for attempt_id, responses in cur}

    def plan_ids(self, run_id: str) -> Iterator[str]:
        """The run's planned attempt ids in plan order (none for runs made without a plan)."""
        for (attempt_id,) in self.db.execute(
                "SELECT attempt_id FROM plan WHERE run_id = ? ORDER BY seq", (run_id,)):
            yield attempt_id

    def done_attempt_ids(self, run_id: str) -> set[str]:
        cur = self.db.execute("SELECT attempt_id FROM results WHERE run_id = ?", (run_id,))
        return {r[0] for r in cur}

    def record_decision(self, run_id: str, decision: dict[str, Any]) -> int:
        """Store a gate decision (the Decision's JSON form); returns its id."""
        with self.db:
            self.db.execute("BEGIN")
            cur = self.db.execute(
                "INSERT INTO decisions (run_id, baseline_id, verdict, exit_code, policy_digest,"
                " created_at, decision) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, (decision.get("baseline") or {}).get("id"), decision["verdict"],
                 int(decision["exit_code"]), (decision.get("policy") or {}).get("digest", ""),
                 decision.get("created_at") or utc_now(), dumps_text(decision)),
            )
            decision_id = cur.lastrowid
            assert decision_id is not None
            row_cur = self.db.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,))
            names = [d[0] for d in row_cur.description]
            record = dict(zip(names, row_cur.fetchone(), strict=True))
            self.chain_record(run_id, "decision", str(decision_id), record)
            return decision_id


class BatchWriter:
    """Buffers result rows and writes them in one transaction per batch or per interval.

    The writes (SQLite and the audit chain) run in order on one background thread, so a
    batch does not stall the engine's event loop (it took 30-80 ms per 256 rows, during which
    every reply in flight waited); at most `max_pending` batches wait to be written, then
    add() waits for the oldest. A write error surfaces at the next add() or flush().
    flush() writes what is buffered and returns once everything is in the store.
    """

    def __init__(self, store: Store, run_id: str, batch: int = 256, interval_s: float = 1.0,
                 max_pending: int = 4):
        self.store = store
        self.run_id = run_id
        self.batch = batch
        self.interval_s = interval_s
        self.max_pending = max_pending
        self.rows: list[tuple[Any, ...]] = []
        self.last_flush = time.monotonic()
        self.written = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[None], int]] = deque()

    def add(self, result: AttemptResult) -> None:
        self.rows.append(result_row(self.run_id, result))
        if len(self.rows) >= self.batch or time.monotonic() - self.last_flush >= self.interval_s:
            self._submit()
            while self._pending and (len(self._pending) > self.max_pending
                                     or self._pending[0][0].done()):
                self._settle()

    def _submit(self) -> None:
        rows, self.rows = self.rows, []
        self.last_flush = time.monotonic()
        if not rows:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redline-store")
        self._pending.append((self._pool.submit(self.store.add_results, rows), len(rows)))

    def _settle(self) -> None:
        future, n = self._pending.popleft()
        future.result()  # re-raises the write's error here, in the caller's thread
        self.written += n

    def flush(self) -> None:
        self._submit()
        error: Exception | None = None
        while self._pending:
            try:
                self._settle()
            except Exception as exc:  # wait for the later batches all the same
                error = error or exc
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if error is not None:
            raise error
