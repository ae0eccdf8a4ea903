"""The store interface: runs, their scenarios and every attempt result, chained as written.

`Store(location)` opens the backend the location names: a file path (or `sqlite:///PATH`) is
a SQLite store, `postgresql://...` a PostgreSQL one (backends are `store` plugins in the
registry). Every backend shares the SQL below and in the mixins (reads, chain, queries) and
implements the primitives of redline.store.access plus a few dialect hooks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from redline.core.errors import RedlineError
from redline.core.paths import check_file_option
from redline.store.audit import plan_digest, record_digest
from redline.store.chain import Chain
from redline.store.queries import Queries, ViewQueries
from redline.store.reads import Reads
from redline.store.records import RESULT_COLUMNS, RESULT_NAMES, dumps, dumps_text, utc_now
from redline.store.schema import (
    MIGRATIONS,
    PRODUCTION_HIT_NAMES,
    PRODUCTION_HITS,
    Migration,
    pending,
)


def backend_name(location: str) -> str:
    """The store plugin a location names: its URL scheme, or `sqlite` for a plain path."""
    scheme, sep, _ = location.partition("://")
    if not sep:
        return "sqlite"
    return {"postgres": "postgresql", "file": "sqlite"}.get(scheme.lower(), scheme.lower())


def is_url(location: object) -> bool:
    """Whether a --db value names a server store rather than a file."""
    return isinstance(location, str) and backend_name(location) != "sqlite"


def db_location(value: str | Path, option: str = "--db") -> str | Path:
    """A --db value as Store takes it: a server URL as is, a file path checked as a file."""
    if is_url(value):
        return str(value)
    return check_file_option(Path(value), option)


def describe_location(value: str | Path) -> str:
    """A --db value fit to print: a server URL without its credentials."""
    if is_url(value):
        from redline.evidence.credentials import redact_url

        return redact_url(str(value))
    return str(value)


class Store(Reads, Chain, Queries, ViewQueries):
    """A run store. `Store(location)` returns the backend's subclass for that location."""

    def __new__(cls, location: Any = None, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            from redline.core import registry

            name = backend_name(str(location))
            try:
                cls = registry.get("store", name).obj
            except registry.UnknownPlugin as exc:
                raise RedlineError(f"--db {location}: no store backend {name!r} ({exc})"
                                   ) from None
        return super().__new__(cls)

    # --- writing runs ------------------------------------------------------------------

    def create_run(self, run_id: str, target: str, suite: str, seed: int, planned: int,
                   config: dict[str, Any], manifest: dict[str, Any],
                   scenarios: list[tuple[str, int, dict[str, Any]]],
                   plan: Iterable[str] | None = None) -> None:
        """Store a new run; `plan` (the attempt ids in order) is committed in the chain, so
        verify can refuse results for attempts the run never planned."""
        with self.transaction():
            self._lock_chain(run_id)
            if plan is not None:
                manifest = {**manifest, "plan": self._store_plan(run_id, plan, planned)}
            self._exec(
                "INSERT INTO runs (id, created_at, status, target, suite, seed, planned, config,"
                " manifest) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                (run_id, utc_now(), target, suite, seed, planned, dumps(config), dumps(manifest)),
            )
            self._many(
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

        self._many("INSERT INTO plan (run_id, seq, attempt_id) VALUES (?,?,?)", rows())
        count, digest = plan_digest(self.plan_ids(run_id))
        if count != planned:
            raise RedlineError(f"run {run_id}: plan has {count} attempts, {planned} expected")
        return {"attempts": count, "sha256": digest}

    def add_results(self, rows: list[tuple[Any, ...]]) -> None:
        """Store result rows (redline.store.records.result_row) and chain each one."""
        if not rows:
            return
        marks = ",".join("?" * len(rows[0]))
        with self.transaction():
            for run_id in sorted({row[0] for row in rows}):  # one order: no deadlock
                self._head(run_id)  # lock each run's chain before writing its rows
            self._many(f"INSERT INTO results ({RESULT_COLUMNS}) VALUES ({marks})", rows)
            links = []
            for row in rows:
                record = dict(zip(RESULT_NAMES, row, strict=True))
                links.append(self._next_link(row[0], "result", row[1], record_digest(record)))
            self._insert_links(links)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None) -> None:
        finished = utc_now()
        summary_text = dumps(summary) if summary is not None else None
        with self.transaction():
            self._lock_chain(run_id)
            self._exec(
                "UPDATE runs SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                (status, finished, summary_text, run_id),
            )
            row = self._row("SELECT count(*) FROM chain WHERE run_id = ? AND kind = 'result'",
                            (run_id,))
            results = int(row[0]) if row else 0
            self.append_event(run_id, "finish", {"status": status, "finished_at": finished,
                                                 "summary": summary_text, "results": results})

    def mark_resumed(self, run_id: str) -> None:
        with self.transaction():
            self._lock_chain(run_id)
            self._exec("UPDATE runs SET status = 'running' WHERE id = ?", (run_id,))
            self.append_event(run_id, "resume", {"resumed_at": utc_now()})

    def record_decision(self, run_id: str, decision: dict[str, Any]) -> int:
        """Store a gate decision (the Decision's JSON form); returns its id."""
        with self.transaction():
            self._lock_chain(run_id)
            rows = list(self._rows(  # consumed at once: the INSERT is done before the SELECT
                "INSERT INTO decisions (id, run_id, baseline_id, verdict, exit_code,"
                " policy_digest, created_at, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (self._new_decision_id(), run_id, (decision.get("baseline") or {}).get("id"),
                 decision["verdict"],
                 int(decision["exit_code"]), (decision.get("policy") or {}).get("digest", ""),
                 decision.get("created_at") or utc_now(), dumps_text(decision)),
            ))
            decision_id = int(rows[0][0])
            record = next(self._dict_rows("SELECT * FROM decisions WHERE id = ?",
                                          (decision_id,)))
            self.chain_record(run_id, "decision", str(decision_id), record)
            return decision_id

    def _new_decision_id(self) -> int | None:
        """The next decision id, inside the transaction (None: the database assigns it).
        Ids only grow and a rolled-back one is issued again, so a gap means a deletion."""
        return None

    def add_signature(self, run_id: str, seq: int, head: str, key_id: str, public_key: str,
                      signature: str) -> None:
        self._exec(
            "INSERT INTO signatures (run_id, seq, hash, key_id, public_key, signature,"
            " signed_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (run_id, seq, key_id) DO UPDATE"
            " SET hash = excluded.hash, public_key = excluded.public_key,"
            " signature = excluded.signature, signed_at = excluded.signed_at",
            (run_id, seq, head, key_id, public_key, signature, utc_now()),
        )

    def add_timestamp(self, run_id: str, seq: int, head: str, tsa: str, token: str,
                      gen_time: str) -> None:
        """An RFC 3161 token (base64 DER) over a signed head, from the TSA at `tsa`."""
        self._exec(
            "INSERT INTO timestamps (run_id, seq, hash, tsa, token, gen_time)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT (run_id, seq, tsa) DO UPDATE"
            " SET hash = excluded.hash, token = excluded.token, gen_time = excluded.gen_time",
            (run_id, seq, head, tsa, token, gen_time))

    # --- production hits (redline monitor) ---------------------------------------------

    def add_production_hits(self, rows: list[dict[str, Any]]) -> int:
        """Store monitor hits (redline.monitor.recurrence rows); a key already stored stays
        as it was, so reading a log twice stores each hit once. Returns how many were new."""
        names = (*PRODUCTION_HIT_NAMES, "recorded_at")
        now = utc_now()
        with self.transaction():
            self._exec(PRODUCTION_HITS)
            before = self.production_hit_count()
            self._many(
                f"INSERT INTO production_hits ({', '.join(names)}) VALUES"
                f" ({','.join('?' * len(names))}) ON CONFLICT (key) DO NOTHING",
                [(*(dumps_text(r[n]) if n == "detectors" else r[n]
                    for n in PRODUCTION_HIT_NAMES), now) for r in rows])
            return self.production_hit_count() - before

    # --- one process per run ------------------------------------------------------------

    def hold_run(self, run_id: str) -> contextlib.AbstractContextManager[None]:
        """Held while a scan or resume writes run_id; RunBusy if another process holds it."""
        raise NotImplementedError

    # --- schema versions ----------------------------------------------------------------

    def applied_migrations(self) -> dict[int, str]:
        """version -> when it was applied (none for a store made before versions)."""
        if not self._has_table("schema_migrations"):
            return {}
        return {int(v): at for v, at in self._rows(
            "SELECT version, applied_at FROM schema_migrations ORDER BY version")}

    def pending_migrations(self) -> list[Migration]:
        return pending(set(self.applied_migrations()))

    def migrate(self) -> list[Migration]:
        """Apply the pending migrations in order, once even with several processes at it;
        returns those this call applied."""
        raise NotImplementedError

    def _record_migration(self, migration: Migration) -> None:
        self._exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?,?,?)",
                   (migration.version, migration.name, utc_now()))

    def _has_table(self, name: str) -> bool:
        raise NotImplementedError


__all__ = ["MIGRATIONS", "Store", "backend_name", "db_location", "describe_location", "is_url"]
