"""Validation time of a YAML file against its number of keys: linear, not quadratic.

    python bench/yaml_validation.py [--sizes 5000,10000,20000,100000] [--old-src DIR]

Each size is a scenario file with N extra top-level keys (`kNNN: NNN`, 100k keys = 1.4 MB),
the shape of issue 16's hostile file: every key is an unknown field, so validation reports
(at most 100 of) N problems with file:line. Prints the time per size, the time per key
and the ratio of each size's per-key time to the smallest size's (1.0 = linear; the old code
grew ~2x per doubling). `--old-src` also times another source tree (e.g. the code before the
fix: `git archive <commit> src | tar -x -C /tmp/old`) in a subprocess, as the baseline.
Writes bench/results/yaml_validation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, write_result

SCENARIO = ROOT / "src/redline/catalog/scenarios/worst_case_input/wc-empty-input.yaml"

CHILD = """
import sys, time
from pathlib import Path
from redline.catalog import load_scenarios
from redline.core.errors import InputFileError
t = time.perf_counter()
try:
    load_scenarios([Path(sys.argv[1])])
except InputFileError as exc:
    problems = len(exc.problems)
else:
    problems = 0
print(time.perf_counter() - t, problems)
"""


def make_file(directory: Path, keys: int) -> Path:
    path = directory / f"keys-{keys}.yaml"
    path.write_text(SCENARIO.read_text() + "".join(f"k{i}: {i}\n" for i in range(keys)))
    return path


def time_one(path: Path, src: Path, timeout: float) -> tuple[float | None, int]:
    env = {**os.environ, "PYTHONPATH": str(src), "REDLINE_MAX_FILE_BYTES": str(10**9)}
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, text=True,
                             capture_output=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None, 0
    seconds, problems = out.stdout.split()
    return float(seconds), int(problems)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="5000,10000,20000,100000")
    ap.add_argument("--old-src", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    trees = {"current": ROOT / "src"}
    if args.old_src is not None:
        trees["old"] = args.old_src
    results: dict[str, list[dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {n: make_file(Path(tmp), n) for n in sizes}
        for label, src in trees.items():
            rows = []
            base = None
            for n in sizes:
                seconds, problems = time_one(files[n], src, args.timeout)
                per_k = None if seconds is None else seconds / n * 1000  # ms per key
                base = per_k if base is None else base
                ratio = None if per_k is None or not base else per_k / base
                rows.append({"keys": n, "bytes": files[n].stat().st_size, "seconds": seconds,
                             "ms_per_key": per_k, "per_key_ratio": ratio,
                             "problems": problems})
                shown = "timed out" if seconds is None else (
                    f"{seconds:7.2f} s  {per_k:6.3f} ms/key  per-key x{ratio:.2f}")
                print(f"{label:8s} {n:>7,} keys ({files[n].stat().st_size:>9,} B): {shown}",
                      flush=True)
            results[label] = rows
    write_result("yaml_validation", {"sizes": sizes, "results": results})
    print(json.dumps({k: [r["seconds"] for r in v] for k, v in results.items()}))


if __name__ == "__main__":
    main()
