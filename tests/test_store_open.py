"""A store is never seen half-created, and many processes can create one at once."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from redline.store import SCHEMA, Store

STATEMENTS = [s.strip() for s in SCHEMA.split(";") if s.strip()]
TABLES = sorted({line.split()[5] for line in SCHEMA.splitlines()
                 if line.startswith("CREATE TABLE IF NOT EXISTS")})

# Kills its own process (SIGKILL: no clean-up) when the store's creation reaches `stmt`.
KILL_DURING_CREATION = """
import os, signal, sqlite3, sys
from pathlib import Path
real = sqlite3.connect
def connect(*args, **kwargs):
    db = real(*args, **kwargs)
    def trace(stmt):
        if sys.argv[2] in stmt:
            os.kill(os.getpid(), signal.SIGKILL)
    db.set_trace_callback(trace)
    return db
sqlite3.connect = connect
from redline.store import Store
Store(Path(sys.argv[1]))
"""


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return sorted(n for (n,) in rows if n != "sqlite_sequence")


@pytest.mark.parametrize("stmt", ["CREATE TABLE IF NOT EXISTS scenarios",
                                  "CREATE TABLE IF NOT EXISTS chain",
                                  "CREATE TABLE IF NOT EXISTS decisions"])
def test_a_kill_during_creation_leaves_no_half_made_store(tmp_path, stmt):
    db = tmp_path / "r.db"
    proc = subprocess.run([sys.executable, "-c", KILL_DURING_CREATION, str(db), stmt],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr  # the kill landed mid-creation
    if db.exists():  # what a reader sees at the path is a complete store, or nothing
        assert tables(db) == TABLES
    store = Store(db)
    assert store.runs() == []
    store.close()
    assert tables(db) == TABLES


@pytest.mark.parametrize("made", [0, 1, 3])
def test_a_half_made_store_from_an_older_redline_is_completed(tmp_path, made):
    """Older code created the file, then each table in its own transaction."""
    db = tmp_path / "r.db"
    db.touch()
    with sqlite3.connect(db) as con:
        for stmt in STATEMENTS[:made]:
            con.execute(stmt)
    Store(db).close()
    assert tables(db) == TABLES


def _open_at(path: str, at: float, queue) -> None:
    while time.time() < at:  # all children start opening within a few microseconds
        time.sleep(0.0005)
    try:
        store = Store(Path(path))
        store.create_run(f"r{mp.current_process().pid}", "t", "s", 1, 0, {}, {}, [])
        store.close()
        queue.put("ok")
    except Exception as exc:
        queue.put(f"{type(exc).__name__}: {exc}")


def test_many_processes_create_one_fresh_store_at_once(tmp_path):
    ctx = mp.get_context("fork")
    procs = 24
    for trial in range(4):
        db = tmp_path / f"t{trial}" / "r.db"
        queue = ctx.Queue()
        at = time.time() + 0.5
        children = [ctx.Process(target=_open_at, args=(str(db), at, queue))
                    for _ in range(procs)]
        for c in children:
            c.start()
        outcomes = [queue.get(timeout=120) for _ in children]
        for c in children:
            c.join(timeout=30)
        assert outcomes == ["ok"] * procs, f"trial {trial}: {set(outcomes)}"
        assert len(Store(db).runs(limit=1000)) == procs
        assert not [p for p in db.parent.iterdir() if p.suffix == ".new"]


def _open_in_threads(db: Path, n: int) -> list[str]:
    barrier = threading.Barrier(n)
    errors: list[str] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Store(db).close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=open_it) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_many_threads_create_one_fresh_store_at_once(tmp_path):
    for trial in range(20):
        db = tmp_path / f"t{trial}" / "r.db"
        assert _open_in_threads(db, 8) == [], f"trial {trial}"
        assert tables(db) == TABLES
