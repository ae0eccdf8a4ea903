"""The PostgreSQL backend (`--db postgresql://USER@HOST:PORT/DB`, the `postgres` extra).

For a team: several CI jobs write one store at once. Each transaction that appends to a
run's chain first takes a transaction-scoped advisory lock on that run
(pg_advisory_xact_lock), then reads the head: appends to one run are serialized, appends to
different runs run in parallel, and no writer ever chains onto a stale head. Decision ids
come from a transactional counter (a rolled-back decision does not use up an id, so a gap
still means a deletion, as SQLite's AUTOINCREMENT gives). A scan or resume holds a
session-level advisory lock on its run on a connection of its own, released when the
process ends however it ends. The tables are the SQLite ones with PostgreSQL's types
(64-bit integers, double precision), so every row, and so every hash, reads back the same.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from redline.core.errors import RedlineError
from redline.core.registry import NoParams, plugin
from redline.evidence.credentials import redact_url
from redline.store.access import Row
from redline.store.base import Store
from redline.store.runlock import RunBusy
from redline.store.schema import RESULT_INDEXES, SCHEMA, SCHEMA_VERSION, Migration, pending
from redline.store.sqlite_open import statements

STREAM_ROWS = 1000  # rows per fetch of a server-side cursor (see _stream)
COUNTERS = "CREATE TABLE IF NOT EXISTS id_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)"


def postgres_schema(schema: str = SCHEMA) -> list[str]:
    """The SQLite schema in PostgreSQL's types, plus the id counter table."""
    text = schema.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT PRIMARY KEY")
    text = re.sub(r"\bINTEGER\b", "BIGINT", text)
    text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
    return [*statements(text), COUNTERS]


def _convert(sql: str) -> str:
    """`?` placeholders to psycopg's `%s` (and a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise RedlineError("a postgresql:// store needs psycopg: pip install "
                           "'redline[postgres]'") from None
    return psycopg


# version -> the step for PostgreSQL (its base schema already allows 'unclear')
STEPS: dict[int, str | None] = {1: None, 2: None, 3: RESULT_INDEXES}


@plugin("store", "postgresql", params=NoParams)
class PostgresStore(Store):
    """A PostgreSQL database (postgresql://USER[:PASSWORD]@HOST[:PORT]/DB)."""

    def __init__(self, location: str, migrate: bool = True):
        self.url = str(location).replace("postgres://", "postgresql://", 1)
        self.location = redact_url(self.url)
        self._init_access()
        self._sql: dict[str, str] = {}
        self._cursors = 0
        self.db = self._connect()
        try:
            if migrate and self._version() != SCHEMA_VERSION:
                self.migrate()
        except BaseException:
            self.db.close()
            raise

    def _connect(self) -> Any:
        psycopg = _psycopg()
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise RedlineError(f"--db {self.location}: cannot connect: "
                               f"{str(exc).strip()}") from None

    def close(self) -> None:
        self.db.close()

    def _q(self, sql: str) -> str:
        converted = self._sql.get(sql)
        if converted is None:
            converted = self._sql[sql] = _convert(sql)
        return converted

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> Iterator[Row]:
        cur = self.db.execute(self._q(sql), tuple(args))
        return iter(cur.fetchall()) if cur.description is not None else iter(())

    def _stream(self, sql: str, args: Iterable[Any] = ()) -> Iterator[Row]:
        """Through a server-side cursor, STREAM_ROWS rows per fetch; WITH HOLD, so it
        outlives the implicit transaction of its DECLARE and any statement run between two
        fetches, and is closed when the rows are done (or the iterator is dropped)."""
        self._cursors += 1
        with self.db.cursor(name=f"redline_stream_{self._cursors}", withhold=True) as cur:
            cur.itersize = STREAM_ROWS
            cur.execute(self._q(sql), tuple(args))
            yield from cur

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> None:
        self.db.execute(self._q(sql), tuple(args))

    def _many(self, sql: str, rows: Iterable[Row]) -> None:
        batch = list(rows)
        if batch:
            with self.db.cursor() as cur:
                cur.executemany(self._q(sql), batch)

    def _dict_rows(self, sql: str, args: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
        cur = self.db.execute(self._q(sql), args)
        names = [d.name for d in cur.description]
        for row in cur.fetchall():
            yield dict(zip(names, row, strict=True))

    def _begin(self) -> None:
        self.db.execute("BEGIN")

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):
            self.db.execute("ROLLBACK")

    def _lock_chain(self, run_id: str) -> None:
        self._exec("SELECT pg_advisory_xact_lock(hashtext(?))", (f"redline.chain:{run_id}",))

    def _json_field(self, column: str, field: str) -> str:
        return f"({column}::jsonb ->> '{field}')"

    def _new_decision_id(self) -> int | None:
        row = self._row("INSERT INTO id_counters (name, value) VALUES ('decisions', 1)"
                        " ON CONFLICT (name) DO UPDATE SET value = id_counters.value + 1"
                        " RETURNING value")
        assert row is not None
        return int(row[0])

    def _issued_decision_id(self) -> int | None:
        row = self._row("SELECT value FROM id_counters WHERE name = 'decisions'")
        return int(row[0]) if row else None

    def _raise_issued_decision_id(self, issued: int) -> None:
        self._exec("INSERT INTO id_counters (name, value) VALUES ('decisions', ?)"
                   " ON CONFLICT (name) DO UPDATE"
                   " SET value = greatest(id_counters.value, excluded.value)", (issued,))

    def change_token(self) -> str | None:
        """The current snapshot (xmin:xmax:in-progress ids): every commit of a transaction
        that wrote anything moves its xmax or drops its id from the in-progress list."""
        row = self._row("SELECT pg_current_snapshot()::text")
        return str(row[0]) if row else None

    def _has_table(self, name: str) -> bool:
        row = self._row("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(row and row[0])

    # --- schema versions ----------------------------------------------------------------

    def _version(self) -> int | None:
        if not self._has_table("schema_migrations"):
            return None
        row = self._row("SELECT max(version) FROM schema_migrations")
        return int(row[0]) if row and row[0] is not None else None

    def migrate(self) -> list[Migration]:
        psycopg = _psycopg()
        try:
            with self.transaction():
                self._exec("SELECT pg_advisory_xact_lock(hashtext('redline.schema'))")
                for stmt in postgres_schema():
                    self._exec(stmt)
                todo = pending(set(self.applied_migrations()))
                for migration in todo:
                    for stmt in statements(STEPS[migration.version] or ""):
                        self._exec(stmt)
                    self._record_migration(migration)
        except psycopg.Error as exc:
            raise RedlineError(f"--db {self.location}: cannot migrate: "
                               f"{str(exc).strip()}") from None
        return todo

    # --- one process per run --------------------------------------------------------------

    @contextlib.contextmanager
    def hold_run(self, run_id: str) -> Iterator[None]:
        conn = self._connect()
        key = f"redline.run:{run_id}"
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
            if not got or not got[0]:
                raise RunBusy(f"run {run_id} is being run or resumed by another process; "
                              "wait for it to end, or stop it first")
            yield
        finally:
            conn.close()  # ends the session: releases the lock
