"""Replay of a recorded run vs the run itself: 10k attempts, loopback target with 100 ms latency.

The original run scans a synthetic 10k-attempt suite against a loopback HTTP target that
answers after 100 ms, at concurrency 64. The replay re-judges that run from its recording
with the target stopped. Goal: replay wall time under 5% of the original's.

    python bench/replay_speed.py [--attempts 10000] [--concurrency 64] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, make_suite, redline_python, run_child, write_result
from http_latency import start_server

GOAL = 0.05


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.1)
    args = ap.parse_args()
    base = WORK / "replay"
    shutil.rmtree(base, ignore_errors=True)
    planned = make_suite(base / "suite", args.attempts)
    server, url = start_server(args.latency)
    try:
        original = run_child(
            [redline_python(), "-m", "redline", "scan", "-t", f"http:{url}", "--suite",
             str(base / "suite"), "-c", str(args.concurrency), "--retries", "0",
             "--no-progress", "--db", str(base / "r.db"), "--out", str(base / "out")],
            timeout=3600)
    finally:
        server.terminate()
        server.wait()
    if original["rc"] not in (0, 1):
        raise SystemExit(f"original scan failed: {original['stderr'][-2000:]}")
    with sqlite3.connect(base / "r.db") as db:
        (run_id,) = db.execute("SELECT id FROM runs").fetchone()
        (stored,) = db.execute("SELECT count(*) FROM results").fetchone()
    # the target is stopped: the replay can only use the recording
    replay = run_child([redline_python(), "-m", "redline", "replay", run_id, "--db",
                        str(base / "r.db"), "--out", str(base / "out")], timeout=3600)
    if replay["rc"] != 0:
        raise SystemExit(f"replay differed or failed: {replay['stdout'][-2000:]}"
                         f"{replay['stderr'][-2000:]}")
    ratio = replay["wall_s"] / original["wall_s"]
    print(f"original scan: {stored} attempts in {original['wall_s']:.2f}s "
          f"(concurrency {args.concurrency}, {args.latency * 1000:.0f} ms target)")
    print(f"replay:        {stored} attempts in {replay['wall_s']:.2f}s, verdicts and report "
          f"digest identical")
    print(f"replay / original wall time = {ratio:.2%} (goal < {GOAL:.0%}) -> "
          f"{'PASS' if ratio < GOAL else 'MISS'}")
    write_result("replay_speed", {
        "attempts": stored, "planned": planned, "concurrency": args.concurrency,
        "latency_s": args.latency, "original_wall_s": round(original["wall_s"], 2),
        "replay_wall_s": round(replay["wall_s"], 2), "ratio": round(ratio, 4),
        "goal_ratio": GOAL, "met": ratio < GOAL,
        "replay_peak_rss_mb": round(replay["peak_rss_mb"], 1),
    })
    shutil.rmtree(base, ignore_errors=True)
    return 0 if ratio < GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
