"""Opening a SQLite store so that it is never seen half-made, from any number of processes.

A new store is built in a private temporary file beside the target (WAL mode set, schema
created, schema id stamped in `user_version`) and then hard-linked into place, which fails
if another process got there first; then that one is used. So the path either does not exist
or holds a complete store: a process killed at any point leaves no half-created file, and
creators racing for one path never contend for its locks (changing the journal mode and
creating tables on a shared fresh file is what gave "database is locked").

An existing store whose `user_version` differs from the schema id (older schema, or a file
left half-made by an older redline) gets the idempotent schema in one BEGIN IMMEDIATE
transaction, with a busy timeout, then its pending migrations (redline.store.schema), and
then the id.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

BUSY_TIMEOUT_S = 30.0

Migration = Callable[[sqlite3.Connection], None]


def schema_id(schema: str, version: int = 0) -> int:
    """A positive 31-bit id of the schema text and version, kept in `user_version`."""
    text = schema if not version else f"{schema}\n-- schema version {version}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:7], 16) or 1


def statements(schema: str) -> list[str]:
    return [s.strip() for s in schema.split(";") if s.strip()]


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=BUSY_TIMEOUT_S)


def ensure_schema(db: sqlite3.Connection, schema: str, migrate: Migration | None = None,
                  version: int = 0) -> None:
    """Create what is missing, all or nothing; a no-op read when the id already matches."""
    sid = schema_id(schema, version)
    if db.execute("PRAGMA user_version").fetchone()[0] == sid:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for stmt in statements(schema):
            db.execute(stmt)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if migrate is not None:
        migrate(db)
    db.execute(f"PRAGMA user_version = {sid}")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _create(path: Path, schema: str, migrate: Migration | None, version: int) -> None:
    """Build a complete store privately and link it to `path` unless one is there already."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        db = connect(tmp)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            ensure_schema(db, schema, migrate, version)
        finally:
            db.close()  # the last connection checkpoints and removes -wal/-shm
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        _remove(tmp)


def open_store(path: Path, schema: str, migrate: Migration | None = None,
               version: int = 0) -> sqlite3.Connection:
    """Open (creating if need be) the store at `path`; raises sqlite3.DatabaseError if the
    file is not a usable SQLite database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # no hard links here (or no temp file): ensure_schema below creates it in place
        with contextlib.suppress(OSError):
            _create(path, schema, migrate, version)
    db = connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        ensure_schema(db, schema, migrate, version)
    except BaseException:
        db.close()
        raise
    return db
