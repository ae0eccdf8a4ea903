"""Peak RSS of a whole `redline scan` at 10k, 100k and 1M attempts against an instant target.

    python bench/memory_scaling.py [--sizes 10000,100000,1000000] [--target SPEC]
                                   [--concurrency 16] [--timeout 3600]

Each size runs the real CLI in a fresh process (store, reports and all) on a synthetic suite
of 1000-input scenarios with 10 mutator chains each; peak RSS comes from wait4 for that
process alone. The baseline is the same CLI on a 100-attempt suite in the same run, so the
figure to read is the growth: peak RSS at N over peak RSS at the baseline. Goal: flat, under
300 MB. Writes bench/results/memory_scaling.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, make_suite, redline_python, run_child, write_result

GOAL_MB = 300.0
FLAT_RATIO = 1.5  # largest over smallest peak RSS that still counts as flat


def scan_once(size: int, target: str, concurrency: int, timeout: float) -> dict:
    base = WORK / f"memory-{size}"
    shutil.rmtree(base, ignore_errors=True)
    suite = base / "suite"
    planned = make_suite(suite, size)
    cmd = [redline_python(), "-m", "redline", "scan", "-t", target, "-s", str(suite),
           "--db", str(base / "r.db"), "--out", str(base / "out"), "--no-progress",
           "-c", str(concurrency), "--max-error-rate", "1"]
    run = run_child(cmd, timeout=timeout)
    db_mb = (base / "r.db").stat().st_size / 1e6 if (base / "r.db").exists() else None
    reports = sum(p.stat().st_size for p in (base / "out").rglob("*") if p.is_file()) \
        if (base / "out").exists() else 0
    row = {
        "attempts": planned, "rc": run["rc"], "timed_out": run["timed_out"],
        "wall_s": round(run["wall_s"], 1), "cpu_s": round(run["cpu_s"], 1),
        "attempts_per_s": round(planned / run["wall_s"], 1),
        "peak_rss_mb": round(run["peak_rss_mb"], 1), "db_mb": round(db_mb or 0, 1),
        "reports_mb": round(reports / 1e6, 2),
    }
    if run["rc"] not in (0, 1):
        row["stderr_tail"] = run["stderr"][-2000:]
    shutil.rmtree(base, ignore_errors=True)  # a 1M-attempt store is ~1 GB: do not keep it
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--target", default="python:redline.plugins.targets.toys:echo")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--result-name", default="memory_scaling",
                    help="results file name (bench/results/NAME.json)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    baseline = scan_once(100, args.target, args.concurrency, args.timeout)
    print(f"baseline {baseline['attempts']:>9,} attempts: peak RSS "
          f"{baseline['peak_rss_mb']:.1f} MB in {baseline['wall_s']}s")
    rows = []
    for size in sizes:
        row = scan_once(size, args.target, args.concurrency, args.timeout)
        row["rss_vs_baseline"] = round(row["peak_rss_mb"] / baseline["peak_rss_mb"], 2)
        rows.append(row)
        status = "TIMED OUT" if row["timed_out"] else f"rc {row['rc']}"
        print(f"{row['attempts']:>9,} attempts: peak RSS {row['peak_rss_mb']:7.1f} MB "
              f"({row['rss_vs_baseline']:.2f}x baseline), {row['wall_s']:8.1f}s wall, "
              f"{row['attempts_per_s']:8,.0f} att/s, store {row['db_mb']:.0f} MB, "
              f"reports {row['reports_mb']:.1f} MB, {status}")
    ok = [r for r in rows if r["rc"] in (0, 1)]
    flat = max(r["peak_rss_mb"] for r in ok) / min(r["peak_rss_mb"] for r in ok) if ok else None
    worst = max((r["peak_rss_mb"] for r in ok), default=None)
    goal_met = (bool(ok) and len(ok) == len(rows) and worst is not None and worst < GOAL_MB
                and flat is not None and flat <= FLAT_RATIO)
    if flat is not None:
        print(f"largest/smallest peak RSS: {flat:.2f}x; worst {worst:.1f} MB "
              f"(goal < {GOAL_MB:.0f} MB, flat: <= {FLAT_RATIO}x): "
              f"{'met' if goal_met else 'NOT met'}")
    write_result(args.result_name, {
        "command": " ".join(["python", "bench/memory_scaling.py", *sys.argv[1:]]),
        "target": args.target, "concurrency": args.concurrency,
        "baseline": baseline, "sizes": rows,
        "largest_over_smallest": round(flat, 2) if flat else None,
        "goal": f"flat (largest/smallest <= {FLAT_RATIO}), peak RSS < {GOAL_MB:.0f} MB",
        "goal_met": goal_met,
    })
    return 0 if goal_met else 1


if __name__ == "__main__":
    raise SystemExit(main())
