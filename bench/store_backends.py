"""Store backends: a 10k-attempt scan on SQLite vs PostgreSQL, and four parallel writers.

1. One scan of N attempts (default 10,000; a local echo target, so the store and the harness
   are the cost) into a SQLite file and into a PostgreSQL database: attempts/s, PG/SQLite.
2. Four processes each scan N/4 attempts into one store at once (four CI jobs): total
   attempts/s, rows lost (planned minus stored, must be 0) and whether every chain verifies.

The PostgreSQL server is a throw-away local one (tests/pg_server.py) with its default
durability (fsync on, synchronous_commit on); SQLite runs as redline opens it (WAL,
synchronous=NORMAL).

    python bench/store_backends.py [--attempts 10000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, WORK, make_suite, write_result

sys.path.insert(0, str(ROOT / "tests"))
from pg_server import postgres_server
from redline.core.config import load_config
from redline.core.scan import scan
from redline.store import Store


def _scan(db: str, suite: Path, out: Path) -> tuple[str, int]:
    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(suite), "seed": 1, "db": db, "out": str(out),
                                "concurrency": 64})
    result = scan(config)
    return result.run.id, result.run.planned


def one_scan(db: str, suite: Path, attempts: int) -> dict[str, Any]:
    started = time.perf_counter()
    run_id, planned = _scan(db, suite, WORK / "store-out")
    wall = time.perf_counter() - started
    store = Store(db)
    stored = len(store.done_attempt_ids(run_id))
    ok = store.verify(run_id).ok
    store.close()
    return {"attempts": planned, "stored": stored, "wall_s": round(wall, 2),
            "attempts_per_s": round(planned / wall, 1), "verifies": ok}


def _child(db: str, suite: str, out: str, queue: Any) -> None:
    try:
        queue.put(_scan(db, Path(suite), Path(out)))
    except Exception as exc:  # reported, counted as lost rows
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def parallel(db: str, suite: Path, writers: int) -> dict[str, Any]:
    Store(db).close()  # the schema exists before the writers race
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    started = time.perf_counter()
    procs = [ctx.Process(target=_child, args=(db, str(suite), str(WORK / f"out{i}"), queue))
             for i in range(writers)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join(60)
    wall = time.perf_counter() - started
    errors = [o[1] for o in outcomes if o[0] == "error"]
    runs = [o for o in outcomes if o[0] != "error"]
    store = Store(db)
    planned = sum(n for _, n in runs)
    stored = sum(len(store.done_attempt_ids(r)) for r, _ in runs)
    verifies = all(store.verify(r).ok for r, _ in runs)
    store.close()
    expected = planned + len(errors) * (runs[0][1] if runs else 0)
    return {"writers": writers, "attempts": expected, "stored": stored,
            "rows_lost": expected - stored, "errors": errors, "wall_s": round(wall, 2),
            "total_attempts_per_s": round(stored / wall, 1), "all_chains_verify": verifies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    shutil.rmtree(WORK / "store-backends", ignore_errors=True)
    base = WORK / "store-backends"
    suite, quarter = base / "suite", base / "suite-quarter"
    attempts = make_suite(suite, args.attempts)
    make_suite(quarter, args.attempts // args.writers)
    out: dict[str, Any] = {"attempts": attempts}
    with postgres_server(durable=True) as server:
        for name, db in (("sqlite", str(base / "one.db")), ("postgres", server.new_database())):
            out[f"scan_{name}"] = one_scan(db, suite, attempts)
            print(name, "one scan:", out[f"scan_{name}"])
        for name, db in (("sqlite", str(base / "many.db")), ("postgres", server.new_database())):
            out[f"parallel_{name}"] = parallel(db, quarter, args.writers)
            print(name, f"{args.writers} writers:", out[f"parallel_{name}"])
    out["ratio_scan_pg_over_sqlite"] = round(
        out["scan_postgres"]["attempts_per_s"] / out["scan_sqlite"]["attempts_per_s"], 2)
    out["ratio_parallel_pg_over_sqlite"] = round(
        out["parallel_postgres"]["total_attempts_per_s"]
        / out["parallel_sqlite"]["total_attempts_per_s"], 2)
    print(f"PG/SQLite one scan: {out['ratio_scan_pg_over_sqlite']}x, "
          f"{args.writers} writers: {out['ratio_parallel_pg_over_sqlite']}x")
    write_result("store_backends", out)


if __name__ == "__main__":
    main()
