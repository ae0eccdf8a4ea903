"""Profile the hot path (expand -> engine -> target -> judge -> store) against an instant target.

    python bench/profile_hot_path.py [--attempts 20000] [--top 30] [--no-profile]

Runs redline.core.scan.scan in-process on a synthetic suite with the
python:redline.plugins.targets.toys:echo target, prints attempts/s without the profiler (the
figure to compare) and then the top functions by own time under cProfile. Writes
bench/results/profile_hot_path.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, make_suite, write_result

from redline.core.config import ScanConfig, parse_target
from redline.core.scan import scan


def one_scan(suite: Path, db: Path, out: Path, concurrency: int) -> tuple[float, int]:
    cfg = ScanConfig(target=parse_target("python:redline.plugins.targets.toys:echo"),
                     suite=str(suite),
                     db=str(db), out=str(out), concurrency=concurrency, max_error_rate=1.0)
    started = time.perf_counter()
    result = scan(cfg)
    return time.perf_counter() - started, result.summary.total.attempts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attempts", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--label", default="current")
    args = ap.parse_args()

    base = WORK / "profile"
    shutil.rmtree(base, ignore_errors=True)
    suite = base / "suite"
    n = make_suite(suite, args.attempts)
    wall, done = one_scan(suite, base / "plain.db", base / "out-plain", args.concurrency)
    rate = done / wall
    print(f"{done} attempts in {wall:.2f}s: {rate:,.0f} attempts/s "
          f"({wall / done * 1e6:,.0f} us per attempt, end to end incl. reports)")
    result = {"label": args.label, "attempts": n, "concurrency": args.concurrency,
              "wall_s": round(wall, 3), "attempts_per_s": round(rate, 1)}
    if not args.no_profile:
        prof = cProfile.Profile()
        prof.enable()
        one_scan(suite, base / "prof.db", base / "out-prof", args.concurrency)
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).sort_stats("tottime")
        stats.print_stats(args.top)
        print(buf.getvalue())
        cum = io.StringIO()
        pstats.Stats(prof, stream=cum).sort_stats("cumulative").print_stats(args.top)
        print(cum.getvalue())
        rows = []
        for (file, line, fn), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append({"function": f"{Path(file).name}:{line}:{fn}", "calls": nc,
                         "tottime_s": round(tt, 4), "cumtime_s": round(ct, 4)})
        rows.sort(key=lambda r: -r["tottime_s"])
        result["top_by_tottime"] = rows[: args.top]
    write_result(f"profile_hot_path-{args.label}", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
