"""Peak memory of reading a large run from PostgreSQL: fetched whole vs server-side cursor.

One scan of N attempts (default 100,000; an instant echo target) into a throw-away local
PostgreSQL server (tests/pg_server.py). Then each read is made in a fresh process, whose own
peak RSS and wall time are measured, twice: with the store's run-sized reads fetched whole
on execute (what psycopg's client cursor does, and what the backend did before) and through
its server-side cursor (PostgresStore._stream). Prints the peak RSS of each, and the ratio.
    verify      redline.evidence.verify.verify_run (what `redline verify` and the gate run)
    verdicts    every attempt's outcome and verdicts (replay's and report's read)
    results     every result, decoded (training export, bundles)
    python bench/pg_large_reads.py [--attempts 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _common import ROOT, WORK, make_suite, redline_python, run_child, write_result

sys.path.insert(0, str(ROOT / "tests"))
from pg_server import postgres_server
from redline.core.config import load_config
from redline.core.scan import scan
from redline.store import Store

READS = ("verify", "verdicts", "results")


def child(read: str, mode: str, url: str, run_id: str) -> None:
    """One read in this process; `whole` restores fetch-everything for run-sized reads."""
    from redline.store.postgres import PostgresStore

    if mode == "whole":
        PostgresStore._stream = PostgresStore._rows  # type: ignore[method-assign]
    store = Store(url, migrate=False)
    if read == "verify":
        from redline.evidence.verify import verify_run

        assert verify_run(store, run_id).ok
    elif read == "verdicts":
        n = sum(1 for _ in store.verdict_rows(run_id))
        assert n == sum(1 for _ in store.outcome_rows(run_id))
    else:
        n = sum(1 for _ in store.results(run_id))
        assert n == store.get_run(run_id).planned
    store.close()


def scanned(url: str, attempts: int) -> tuple[str, float]:
    suite = WORK / f"pg-reads-suite-{attempts}"
    make_suite(suite, attempts)
    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(suite), "db": url, "concurrency": 64,
                                "out": str(WORK / "pg-reads-out")})
    started = time.perf_counter()
    return scan(config).run.id, time.perf_counter() - started


def measure(url: str, run_id: str) -> list[dict[str, Any]]:
    rows = []
    for read in READS:
        got = {}
        for mode in ("whole", "stream"):
            done = run_child([redline_python(), __file__, "--child", read, mode, url, run_id],
                             timeout=1800)
            if done["rc"] != 0:
                raise SystemExit(f"{read} ({mode}) failed: {done['stderr'][-2000:]}")
            got[mode] = done
        rows.append({"read": read,
                     "whole_peak_rss_mb": round(got["whole"]["peak_rss_mb"], 1),
                     "stream_peak_rss_mb": round(got["stream"]["peak_rss_mb"], 1),
                     "rss_ratio": round(got["stream"]["peak_rss_mb"]
                                        / got["whole"]["peak_rss_mb"], 3),
                     "whole_s": round(got["whole"]["wall_s"], 2),
                     "stream_s": round(got["stream"]["wall_s"], 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--child", nargs=4, metavar=("READ", "MODE", "URL", "RUN"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with postgres_server() as server:
        url = server.new_database()
        run_id, took = scanned(url, args.attempts)
        print(f"scan: {args.attempts} attempts into PostgreSQL in {took:.1f} s")
        rows = measure(url, run_id)
    print(f"{'read':10} {'fetched whole':>14} {'server cursor':>14}  ratio   seconds")
    for r in rows:
        print(f"{r['read']:10} {r['whole_peak_rss_mb']:11.1f} MB {r['stream_peak_rss_mb']:11.1f}"
              f" MB  x{r['rss_ratio']:.3f}  {r['whole_s']:.1f} / {r['stream_s']:.1f}")
    write_result("pg_large_reads", {"attempts": args.attempts, "scan_s": round(took, 1),
                                    "reads": rows})


if __name__ == "__main__":
    main()
