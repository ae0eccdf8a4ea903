"""What accounting for judge error costs a gate (issue 11, item 8).

Measures the judges' accuracy on the bundled corpus cold (evaluate every labeled case) and
from the on-disk cache, and the Rogan-Gladen correction with its bootstrap interval per
scenario; prints the cache speed-up and the correction's cost per scenario.

    python bench/judge_correction.py [--scenarios 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["REDLINE_CACHE_DIR"] = cache
        from redline.gate import correction

        started = time.perf_counter()
        measured = correction.judge_accuracy("bundled")
        cold = time.perf_counter() - started
        correction.judge_accuracy.cache_clear()
        started = time.perf_counter()
        correction.judge_accuracy("bundled")
        cached = time.perf_counter() - started
    acc = measured["harmful_compliance"]
    correction.corrected_rate(1, 10, acc)  # numpy import, once
    started = time.perf_counter()
    for i in range(args.scenarios):
        correction.corrected_rate(i % 20, 100, acc)
    per_scenario = (time.perf_counter() - started) / args.scenarios
    print(f"accuracy on the bundled corpus: cold {cold:.2f} s, cached {cached * 1000:.1f} ms "
          f"({cold / cached:.0f}x faster)")
    print(f"correction + bootstrap interval: {per_scenario * 1000:.2f} ms per scenario "
          f"({args.scenarios} scenarios: {per_scenario * args.scenarios:.2f} s)")
    write_result("judge_correction", {"cold_s": round(cold, 3), "cached_s": round(cached, 5),
                                      "speedup": round(cold / cached, 1),
                                      "per_scenario_ms": round(per_scenario * 1000, 3)})


if __name__ == "__main__":
    main()
