"""The SQLite backend: one file, zero setup, the default.

Writers take the database's write lock at BEGIN (BEGIN IMMEDIATE), so a transaction never
fails half-way on a lock upgrade and two processes never chain onto the same head: the chain
head is read inside the locked transaction. Opening is in redline.store.sqlite_open.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from redline.core.errors import RedlineError
from redline.core.registry import NoParams, plugin
from redline.store.access import Row
from redline.store.base import Store
from redline.store.schema import RESULT_INDEXES, SCHEMA, SCHEMA_VERSION, Migration, pending
from redline.store.sqlite_open import connect, ensure_schema, open_store, statements

_OLD_OUTCOMES = "CHECK (outcome IN ('pass', 'fail', 'error'))"


def _allow_unclear(db: sqlite3.Connection) -> None:
    """Stores made before outcomes could be `unclear` refuse that value (a CHECK constraint,
    which SQLite cannot alter): widen it in place. Rows, and so every hash, stay the same.
    Runs inside the migration's BEGIN IMMEDIATE transaction."""
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'results'"
                     ).fetchone()
    if row is None or _OLD_OUTCOMES not in row[0]:
        return
    new_sql = row[0].replace(_OLD_OUTCOMES,
                             "CHECK (outcome IN ('pass', 'fail', 'error', 'unclear'))")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'results'",
               (new_sql,))
    db.execute(f"PRAGMA schema_version = {int(version) + 1}")
    db.execute("PRAGMA writable_schema = OFF")


def _add_result_indexes(db: sqlite3.Connection) -> None:
    for stmt in statements(RESULT_INDEXES):
        db.execute(stmt)


# version -> the step that brings a SQLite store to it (1: the idempotent base schema,
# created before the migrations run)
STEPS = {1: lambda db: None, 2: _allow_unclear, 3: _add_result_indexes}


def _migrate(db: sqlite3.Connection, done: list[Migration] | None = None) -> None:
    """Apply the pending migrations in one BEGIN IMMEDIATE transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        applied = {int(v) for (v,) in db.execute("SELECT version FROM schema_migrations")}
        todo = pending(applied)
        for migration in todo:
            STEPS[migration.version](db)
            db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES"
                       " (?,?,strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                       (migration.version, migration.name))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if todo:
        db.execute("PRAGMA integrity_check").fetchall()
    if done is not None:
        done.extend(todo)


@plugin("store", "sqlite", params=NoParams)
class SqliteStore(Store):
    """A SQLite file (a path, or sqlite:///PATH)."""

    def __init__(self, location: Path | str, migrate: bool = True):
        self.path = Path(str(location).removeprefix("sqlite://").removeprefix("file://"))
        self.location = str(self.path)
        self._init_access()
        try:  # a new store appears complete or not at all (see redline.store.sqlite_open)
            if migrate:
                self.db = open_store(self.path, SCHEMA, migrate=_migrate,
                                     version=SCHEMA_VERSION)
            else:
                if not self.path.exists():
                    raise RedlineError(f"no store at {self.path}")
                self.db = connect(self.path)
        except sqlite3.DatabaseError as exc:
            raise RedlineError(f"{self.path}: not a usable redline store: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> Iterator[Row]:
        return self.db.execute(sql, tuple(args))

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> None:
        self.db.execute(sql, tuple(args))

    def _many(self, sql: str, rows: Iterable[Row]) -> None:
        self.db.executemany(sql, rows)

    def _dict_rows(self, sql: str, args: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(names, row, strict=True))

    def _begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _json_field(self, column: str, field: str) -> str:
        return f"json_extract({column}, '$.{field}')"

    def _issued_decision_id(self) -> int | None:
        try:
            row = self.db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'decisions'").fetchone()
        except sqlite3.OperationalError:  # no AUTOINCREMENT row was ever issued
            return None
        return int(row[0]) if row else None

    def _raise_issued_decision_id(self, issued: int) -> None:
        self._exec("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'decisions'",
                   (issued,))
        if self._issued_decision_id() is None:
            self._exec("INSERT INTO sqlite_sequence (name, seq) VALUES ('decisions', ?)",
                       (issued,))

    def change_token(self) -> str | None:
        """PRAGMA data_version moves on every commit by another connection, total_changes on
        every row this one writes."""
        (version,) = self.db.execute("PRAGMA data_version").fetchone()
        return f"{version}:{self.db.total_changes}"

    def _has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (name,)).fetchone() is not None

    def hold_run(self, run_id: str) -> contextlib.AbstractContextManager[None]:
        from redline.store.runlock import hold_run

        return hold_run(self.path, run_id)

    def migrate(self) -> list[Migration]:
        done: list[Migration] = []
        try:
            ensure_schema(self.db, SCHEMA, lambda db: _migrate(db, done), SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            raise RedlineError(f"{self.path}: cannot migrate: {exc}") from exc
        return done
