"""`redline store copy SRC DST`: every run of one store into another (SQLite <-> PostgreSQL).

Rows are copied as stored, column by column, so every record hash and chain link stays
valid; each run goes in one transaction on the destination and is verified there before
that transaction commits (a copy that would not verify is not kept). Runs already in the
destination are skipped, so a copy cut short can be run again. Decision ids are store-wide
and referenced by the chain: they are kept, and a clash is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from redline.core.errors import RedlineError
from redline.store.base import Store
from redline.store.records import RESULT_NAMES, RUN_COLUMNS

# table -> (columns, the column that names the run, order)
TABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "runs": (RUN_COLUMNS, "id", "id"),
    "scenarios": (("run_id", "scenario_id", "version", "definition"), "run_id", "scenario_id"),
    "plan": (("run_id", "seq", "attempt_id"), "run_id", "seq"),
    "results": (RESULT_NAMES, "run_id", "seq"),
    "chain": (("run_id", "seq", "kind", "ref", "ts", "record_sha256", "prev", "hash",
               "payload"), "run_id", "seq"),
    "signatures": (("run_id", "seq", "hash", "key_id", "public_key", "signature",
                    "signed_at"), "run_id", "seq, key_id"),
    "timestamps": (("run_id", "seq", "hash", "tsa", "token", "gen_time"), "run_id",
                   "seq, tsa"),
    "decisions": (("id", "run_id", "baseline_id", "verdict", "exit_code", "policy_digest",
                   "created_at", "decision"), "run_id", "id"),
}
CHUNK = 1000


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rows: int = 0


def _copy_table(src: Store, dst: Store, table: str, run_id: str) -> int:
    columns, key, order = TABLES[table]
    cols = ", ".join(columns)
    insert = f"INSERT INTO {table} ({cols}) VALUES ({','.join('?' * len(columns))})"
    batch: list[tuple[object, ...]] = []
    n = 0
    for row in src._rows(f"SELECT {cols} FROM {table} WHERE {key} = ? ORDER BY {order}",
                         (run_id,)):
        batch.append(tuple(row))
        if len(batch) >= CHUNK:
            dst._many(insert, batch)
            n, batch = n + len(batch), []
    dst._many(insert, batch)
    return n + len(batch)


def copy_run(src: Store, dst: Store, run_id: str) -> int:
    """Copy one run (all its tables) and verify it on `dst`; returns the rows copied."""
    with dst.transaction():
        clash = [str(d) for d in src.decision_records(run_id)
                 if dst._row("SELECT 1 FROM decisions WHERE id = ?", (int(d),))]
        if clash:
            raise RedlineError(f"run {run_id}: decision ids {', '.join(clash)} are taken in "
                               f"{dst.location} by other runs (decision ids are store-wide)")
        rows = sum(_copy_table(src, dst, table, run_id) for table in TABLES)
        check = dst.verify(run_id)
        if not check.ok:
            raise RedlineError(f"run {run_id}: the copy does not verify on {dst.location}: "
                               f"{check.first_bad} (nothing of it kept)")
        return rows


def copy_store(src: Store, dst: Store, on_run: Callable[[str, str], None] | None = None
               ) -> CopyReport:
    """Copy every run of `src` (oldest first) that `dst` lacks."""
    report = CopyReport()
    have = {run_id for (run_id,) in dst._rows("SELECT id FROM runs")}
    for (run_id,) in list(src._rows("SELECT id FROM runs ORDER BY created_at, id")):
        if run_id in have:
            report.skipped.append(run_id)
            if on_run:
                on_run(run_id, "skipped (already there)")
            continue
        report.rows += copy_run(src, dst, run_id)
        report.copied.append(run_id)
        if on_run:
            on_run(run_id, "copied, verified")
    newest = dst._row("SELECT max(id) FROM decisions")
    top = max(src._issued_decision_id() or 0, int(newest[0] or 0) if newest else 0)
    if top:
        with dst.transaction():
            dst._raise_issued_decision_id(top)
    return report
