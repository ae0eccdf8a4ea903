"""The hot path of this tree against another checkout of redline, in one run.

    python bench/hot_path_vs_base.py --base PATH [--attempts 10000] [--rounds 3]

PATH is a checkout of an earlier commit (`git worktree add --detach /tmp/base COMMIT`). Each
round runs both trees' own `bench/profile_hot_path.py --no-profile`, each in a fresh process,
alternating which goes first, in two modes:

* `full`: the synthetic suite as each tree's `_common.DETECTORS` writes it (the marker,
  harmful-compliance and canary detectors): what a scan costs end to end, detectors included,
  so a change of the detectors themselves shows here;
* `engine`: the same suite judged by one detector that does nothing, registered the same way
  in both trees: expansion, engine, target call, verdict, store and reports, without the
  detectors' own cost.

Prints attempts/s per tree and mode (the median of the rounds) and this tree's ratio to the
other; writes bench/results/hot_path_vs_base.json.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, write_result

# Runs in the child, with the tree's own src/ first on sys.path.
DRIVER = r'''
import runpy, sys
tree, mode, attempts = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, tree + "/bench")
import _common
if mode == "engine":
    try:
        from redline.core.models import Verdict
        from redline.plugins.detectors.base import detector
    except ImportError:  # the layout before the second wave
        from redline.detectors.base import detector
        from redline.models import Verdict

    @detector("bench_nothing")
    def bench_nothing(text, ctx, **params):
        """Detects nothing (the benchmark's engine mode)."""
        return Verdict("bench_nothing", False, 0.0, {})

    _common.DETECTORS[:] = ["bench_nothing"]
sys.argv = ["profile_hot_path.py", "--no-profile", "--attempts", attempts,
            "--label", "vs-base-" + mode]
runpy.run_path(tree + "/bench/profile_hot_path.py", run_name="__main__")
'''
RATE = re.compile(r"([\d,]+) attempts/s")


def one(tree: Path, mode: str, attempts: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(tree), mode, str(attempts)],
                          capture_output=True, text=True, env=env, cwd=tree, timeout=1800)
    (tree / "bench" / "results" / f"profile_hot_path-vs-base-{mode}.json").unlink(
        missing_ok=True)
    found = RATE.search(proc.stdout)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"{tree} ({mode}) failed, exit {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    return float(found.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, required=True, help="a checkout of the earlier commit")
    ap.add_argument("--attempts", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = args.base.resolve()
    if not (base / "bench" / "profile_hot_path.py").is_file():
        raise SystemExit(f"{base}: no bench/profile_hot_path.py there (not a redline checkout)")
    trees = {"base": base, "head": ROOT}
    rates: dict[str, dict[str, list[float]]] = {
        m: {t: [] for t in trees} for m in ("full", "engine")}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for mode in rates:
            for name in order:
                rate = one(trees[name], mode, args.attempts)
                rates[mode][name].append(rate)
                print(f"round {r + 1} {mode:6s} {name}: {rate:,.0f} attempts/s", flush=True)
    result: dict[str, object] = {"attempts": args.attempts, "rounds": args.rounds,
                                 "base": str(base), "modes": {}}
    for mode, per in rates.items():
        med = {t: statistics.median(v) for t, v in per.items()}
        ratio = med["head"] / med["base"]
        print(f"{mode:6s}: base {med['base']:,.0f} attempts/s, head {med['head']:,.0f} "
              f"attempts/s, head/base {ratio:.2f}x ({(ratio - 1) * 100:+.1f}%)")
        result["modes"][mode] = {"base": per["base"], "head": per["head"],  # type: ignore[index]
                                 "median_base": med["base"], "median_head": med["head"],
                                 "ratio": round(ratio, 3)}
    write_result("hot_path_vs_base", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
