"""The store's tables (SQLite dialect) and its schema versions.

Every store has a `schema_migrations` table: one row per applied migration (version, name,
when). Opening a store applies the pending ones in order, in one locked transaction, so
several processes opening an older store at once migrate it once; `redline store migrate`
does the same explicitly and reports what it did. A store migrated by a newer redline (a
version above SCHEMA_VERSION) is refused rather than written with an older idea of it.
Each backend implements every version (a no-op where its base schema already has it).
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.core.errors import RedlineError


@dataclass(frozen=True)
class Migration:
    version: int
    name: str


MIGRATIONS = (
    Migration(1, "base schema: runs, scenarios, results, plan, chain, signatures, "
                 "timestamps, decisions"),
    Migration(2, "results.outcome accepts 'unclear'"),
    Migration(3, "results indexes covering outcome counts, outcome listings and run pairs"),
)

# Migration 3, the same SQL on every backend: a run's outcome counts (GROUP BY), its attempts
# of one outcome in plan order (gate examples, filtered pages) and the outcome of an attempt
# id (two runs paired) read these small entries instead of the wide results rows.
RESULT_INDEXES = """
CREATE INDEX IF NOT EXISTS results_by_outcome
    ON results (run_id, outcome, seq, scenario_id, category, severity, attempt_id);
CREATE INDEX IF NOT EXISTS results_outcome_by_attempt
    ON results (run_id, attempt_id, outcome, scenario_id)
"""
SCHEMA_VERSION = MIGRATIONS[-1].version

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
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
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

# Hits of `redline monitor` (redline.monitor.recurrence): made on first use, in the SQL every
# backend shares, so a store that never saw monitoring has no such table.
PRODUCTION_HITS = """
CREATE TABLE IF NOT EXISTS production_hits (
    key TEXT PRIMARY KEY,
    at_record INTEGER NOT NULL,
    location TEXT NOT NULL,
    logged_at TEXT,
    scenario_id TEXT,
    scenario_version INTEGER,
    first_run TEXT,
    source TEXT NOT NULL,
    view TEXT,
    containment REAL,
    severity TEXT,
    unsafe INTEGER NOT NULL,
    detectors TEXT NOT NULL,
    prompt TEXT NOT NULL,
    reply TEXT NOT NULL,
    recorded_at TEXT NOT NULL
)"""
PRODUCTION_HIT_NAMES = (
    "key", "at_record", "location", "logged_at", "scenario_id", "scenario_version", "first_run",
    "source", "view", "containment", "severity", "unsafe", "detectors", "prompt", "reply")


def pending(applied: set[int]) -> list[Migration]:
    """The migrations still to apply, in order; a newer store than this code is an error."""
    newer = sorted(v for v in applied if v > SCHEMA_VERSION)
    if newer:
        raise RedlineError(f"the store is at schema version {newer[-1]}, newer than this "
                           f"redline's {SCHEMA_VERSION}: upgrade redline to use it")
    return [m for m in MIGRATIONS if m.version not in applied]
