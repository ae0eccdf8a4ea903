"""Start-up cost and install footprint of redline's core (no extras).

    python bench/import_and_size.py [--runs 15] [--skip-install]

1. Import time: `python -c "import X"` in a fresh process, median of N runs, for redline,
   redline.cli (what the `redline` command loads) and redline.core.scan, against the baseline
   `python -c pass` measured in the same run, interleaved. Also `redline version` end to end.
2. Core install size: builds redline's wheel, installs it without extras into a throwaway
   venv, and sums site-packages for redline and for everything it pulled in (an empty venv's
   site-packages, pip and friends, is subtracted).
Writes bench/results/import_and_size.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, redline_python, write_result

MODULES = ("redline", "redline.cli", "redline.core.scan")


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def import_times(python: str, runs: int) -> dict:
    cmds = {"baseline: python -c pass": [python, "-c", "pass"]}
    cmds.update({f"import {m}": [python, "-c", f"import {m}"] for m in MODULES})
    cmds["redline version"] = [python, "-m", "redline", "version"]
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for cmd in cmds.values():  # warm the OS file cache and .pyc files first
        timed(cmd)
    for _ in range(runs):
        for name, cmd in cmds.items():
            samples[name].append(timed(cmd))
    base = statistics.median(samples["baseline: python -c pass"])
    out = {}
    for name, values in samples.items():
        med = statistics.median(values)
        out[name] = {"median_ms": round(med * 1000, 1), "min_ms": round(min(values) * 1000, 1),
                     "over_baseline_ms": round((med - base) * 1000, 1),
                     "ratio_to_baseline": round(med / base, 2)}
        print(f"{name:28} median {med * 1000:7.1f} ms  ({med / base:5.2f}x baseline, "
              f"+{(med - base) * 1000:6.1f} ms)")
    return out


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def install_size() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="redline-size-"))
    try:
        wheels = tmp / "wheels"
        subprocess.run([redline_python(), "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                        str(wheels), str(ROOT)], check=True, capture_output=True)
        wheel = next(wheels.glob("redline-*.whl"))
        venv = tmp / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        site = site_packages(venv)
        empty = {p.name for p in site.iterdir()}
        empty_size = tree_size(site)
        started = time.perf_counter()
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                       check=True, capture_output=True)
        install_s = time.perf_counter() - started
        added = sorted(p for p in site.iterdir() if p.name not in empty
                       and p.name != "__pycache__")
        sizes: dict[str, int] = {}
        for p in added:
            key = p.name.split("-")[0].split(".")[0].lower()
            sizes[key] = sizes.get(key, 0) + tree_size(p)
        ours = sizes.get("redline", 0)
        total = tree_size(site) - empty_size
        top = dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:12])
        print(f"core install: {total / 1e6:.1f} MB in site-packages ({len(added)} entries), "
              f"redline itself {ours / 1e6:.2f} MB, wheel {wheel.stat().st_size / 1e3:.0f} kB, "
              f"pip install {install_s:.0f}s")
        for name, size in top.items():
            print(f"  {name:24} {size / 1e6:8.2f} MB")
        return {"wheel": wheel.name, "wheel_kb": round(wheel.stat().st_size / 1e3, 1),
                "site_packages_added_mb": round(total / 1e6, 2),
                "redline_package_mb": round(ours / 1e6, 3), "entries_added": len(added),
                "pip_install_s": round(install_s, 1),
                "largest_mb": {k: round(v / 1e6, 2) for k, v in top.items()}}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--skip-install", action="store_true")
    args = ap.parse_args()
    result: dict = {"command": " ".join(["python", "bench/import_and_size.py", *sys.argv[1:]]),
                    "runs": args.runs, "import": import_times(redline_python(), args.runs)}
    if not args.skip_install:
        result["install"] = install_size()
    write_result("import_and_size", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
