"""Races on a fresh store: P forked processes open it at the same instant and write a run.

Prints how many of the races had at least one process fail (e.g. "database is locked").
    python bench/store_race.py [--races 50] [--procs 16]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from collections import Counter
from pathlib import Path

from redline.store import Store


def _open_at(path: str, at: float, queue) -> None:
    while time.time() < at:
        time.sleep(0.0005)
    try:
        store = Store(Path(path))
        store.create_run(f"r{mp.current_process().pid}", "t", "s", 1, 0, {}, {}, [])
        store.close()
        queue.put("ok")
    except Exception as exc:
        queue.put(f"{type(exc).__name__}: {str(exc).rsplit(':', 1)[-1].strip()}")


def race(path: Path, procs: int) -> list[str]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    at = time.time() + 0.3
    children = [ctx.Process(target=_open_at, args=(str(path), at, queue)) for _ in range(procs)]
    for c in children:
        c.start()
    outcomes = [queue.get(timeout=120) for _ in children]
    for c in children:
        c.join(timeout=30)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--races", type=int, default=50)
    parser.add_argument("--procs", type=int, default=16)
    args = parser.parse_args()
    failed, errors = 0, Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.races):
            bad = [o for o in race(Path(tmp) / f"r{i}" / "r.db", args.procs) if o != "ok"]
            failed += bool(bad)
            errors.update(bad)
    print(f"{failed}/{args.races} races of {args.procs} processes had a failure; "
          f"failed opens: {dict(errors) or 0}")


if __name__ == "__main__":
    main()
