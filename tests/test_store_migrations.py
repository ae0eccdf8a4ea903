"""Schema versions: every store records its applied migrations, an older store is brought
up to date on open, a newer one is refused (parallel writers: tests/test_store_backends.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from redline.core.errors import RedlineError
from redline.store import MIGRATIONS, SCHEMA, SCHEMA_VERSION, Store
from redline.store.sqlite_open import schema_id

PRE_VERSIONS = SCHEMA.replace("'error', 'unclear'", "'error'")


def test_a_new_store_records_every_migration(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    assert sorted(store.applied_migrations()) == [m.version for m in MIGRATIONS]
    assert store.pending_migrations() == []
    assert store.migrate() == []
    store.close()


def test_a_store_from_before_schema_versions_is_migrated_on_open(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    con = sqlite3.connect(db)
    con.executescript(PRE_VERSIONS.split("CREATE TABLE IF NOT EXISTS schema_migrations")[0])
    con.execute(f"PRAGMA user_version = {schema_id(PRE_VERSIONS)}")
    con.close()
    old = Store(db, migrate=False)
    assert old.applied_migrations() == {}
    assert [m.version for m in old.pending_migrations()] == [1, 2, 3]
    assert [m.version for m in old.migrate()] == [1, 2, 3]
    assert old.migrate() == []
    old.db.execute("INSERT INTO runs (id, created_at, status, target, suite, seed, planned,"
                   " config, manifest) VALUES ('r', 't', 'running', 'x', 's', 1, 1, '{}', '{}')")
    old.db.execute("INSERT INTO results VALUES ('r','a',0,'s',1,'c','low','[]','unclear',NULL,"
                   "1,1.0,NULL,'{}','[]','[]','[]','t')")  # the widened CHECK
    old.close()
    assert sorted(Store(db).applied_migrations()) == [1, 2, 3]


def test_a_store_from_a_newer_redline_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', 'later')",
                (SCHEMA_VERSION + 1,))
    con.execute("PRAGMA user_version = 7")
    con.commit()
    con.close()
    with pytest.raises(RedlineError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        Store(db)

