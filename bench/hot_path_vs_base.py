"""The hot path of this tree against another checkout of redline, in one run.

    python bench/hot_path_vs_base.py --base PATH [--attempts 10000] [--rounds 3]
                                     [--http LEVELS [--seconds 10]]

PATH is a checkout of an earlier commit (`git worktree add --detach /tmp/base COMMIT`). Each
round runs both trees' own `bench/profile_hot_path.py --no-profile`, each in a fresh process,
alternating which goes first, in two modes:

* `full`: the synthetic suite as each tree's `_common.DETECTORS` writes it (the marker,
  harmful-compliance and canary detectors): what a scan costs end to end, detectors included,
  so a change of the detectors themselves shows here;
* `engine`: the same suite judged by one detector that does nothing, registered the same way
  in both trees: expansion, engine, target call, verdict, store and reports, without the
  detectors' own cost.

With `--http 64,256`, each round also runs both trees' `bench/http_latency.py` at those
levels (the 100 ms loopback server), in the same two modes; the do-nothing detector reaches
the scan's child process through a `sitecustomize` module on its PYTHONPATH.

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
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, write_result

# Imported at start-up by every Python process of a run (the benchmark, its scan child, the
# HTTP server): registers the do-nothing detector, with the tree's own src/ on sys.path.
SITE = '''
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
'''

# Runs the tree's benchmark script, with the suite's detectors replaced in engine mode.
DRIVER = r'''
import runpy, sys
tree, mode, script, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
sys.path.insert(0, tree + "/bench")
import _common
if mode == "engine":
    _common.DETECTORS[:] = ["bench_nothing"]
sys.argv = [script, *args]
runpy.run_path(tree + "/bench/" + script, run_name="__main__")
'''
RATE = re.compile(r"([\d,]+) attempts/s")
LEVEL = re.compile(r"^\s*(\d+) in flight:\s+([\d.]+) att/s", re.MULTILINE)


def child(tree: Path, mode: str, site: Path, script: str, *args: str, ok: tuple[int, ...] = (0,)
          ) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(tree / "src")])}
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(tree), mode, script, *args],
                          capture_output=True, text=True, env=env, cwd=tree, timeout=1800)
    if proc.returncode not in ok:
        raise SystemExit(f"{tree} ({mode}, {script}) failed, exit {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    return proc.stdout


def hot_path(tree: Path, mode: str, site: Path, attempts: int) -> float:
    out = child(tree, mode, site, "profile_hot_path.py", "--no-profile", "--attempts",
                str(attempts), "--label", "vs-base")
    (tree / "bench" / "results" / "profile_hot_path-vs-base.json").unlink(missing_ok=True)
    found = RATE.search(out)
    if found is None:
        raise SystemExit(f"{tree} ({mode}): no attempts/s in its output:\n{out[-2000:]}")
    return float(found.group(1).replace(",", ""))


def http(tree: Path, mode: str, site: Path, levels: str, seconds: float) -> dict[str, float]:
    out = child(tree, mode, site, "http_latency.py", "--levels", levels, "--seconds",
                str(seconds), "--result-name", "http_latency-vs-base",
                ok=(0, 1))  # 1: its own goal (>= 90% of ideal at 64) not met or not measured
    (tree / "bench" / "results" / "http_latency-vs-base.json").unlink(missing_ok=True)
    found = {level: float(rate) for level, rate in LEVEL.findall(out)}
    if sorted(found) != sorted(levels.split(",")):
        raise SystemExit(f"{tree} ({mode}): levels missing from its output:\n{out[-2000:]}")
    return found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, required=True, help="a checkout of the earlier commit")
    ap.add_argument("--attempts", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--http", metavar="LEVELS", help="also bench/http_latency.py at these levels")
    ap.add_argument("--seconds", type=float, default=10.0, help="http_latency time per level")
    args = ap.parse_args()
    base = args.base.resolve()
    if not (base / "bench" / "profile_hot_path.py").is_file():
        raise SystemExit(f"{base}: no bench/profile_hot_path.py there (not a redline checkout)")
    trees = {"base": base, "head": ROOT}
    series: dict[str, dict[str, list[float]]] = {}

    def note(key: str, name: str, rate: float, r: int) -> None:
        series.setdefault(key, {t: [] for t in trees})[name].append(rate)
        print(f"round {r + 1} {key:18s} {name}: {rate:,.0f} attempts/s", flush=True)

    with tempfile.TemporaryDirectory() as site:
        (Path(site) / "sitecustomize.py").write_text(SITE)
        for r in range(args.rounds):
            order = list(trees) if r % 2 == 0 else list(reversed(trees))
            for mode in ("full", "engine"):
                for name in order:
                    note(f"hot_path {mode}", name,
                         hot_path(trees[name], mode, Path(site), args.attempts), r)
                if args.http:
                    for name in order:
                        found = http(trees[name], mode, Path(site), args.http, args.seconds)
                        for level, rate in found.items():
                            note(f"http@{level} {mode}", name, rate, r)
    result: dict[str, object] = {"attempts": args.attempts, "rounds": args.rounds,
                                 "base": str(base), "http_levels": args.http, "series": {}}
    for key, per in series.items():
        med = {t: statistics.median(v) for t, v in per.items()}
        ratio = med["head"] / med["base"]
        print(f"{key:18s}: base {med['base']:,.0f} attempts/s, head {med['head']:,.0f} "
              f"attempts/s, head/base {ratio:.2f}x ({(ratio - 1) * 100:+.1f}%)")
        result["series"][key] = {  # type: ignore[index]
            "base": per["base"], "head": per["head"], "median_base": med["base"],
            "median_head": med["head"], "ratio": round(ratio, 3)}
    write_result("hot_path_vs_base", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
