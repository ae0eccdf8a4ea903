"""Harness throughput against an instant in-process target: redline vs garak, same prompts.

    python bench/throughput_vs_garak.py [--prompts 2000] [--repeats 3] [--install-timeout 1800]

Both tools pose the same N prompts once each (garak: generations=1) to a target that echoes
the prompt at once (garak: a function.Single generator; redline:
python:redline.plugins.targets.toys:echo) and judge each reply for the same marker string (garak:
a StringDetector; redline: the marker detector). Each side runs in its own fresh process,
alternating, `repeats` times; the figure is the median attempts/s of each and their ratio.

garak goes into a throwaway venv, bench/.garak-venv (gitignored; ~6 GB, it pulls torch with
CUDA), created on first use with `pip install garak`. If that fails or takes longer than
--install-timeout, the script says so, still reports redline's figure and exits 1.
Goal: redline >= 100x garak's attempts/s. Writes bench/results/throughput_vs_garak.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH,
    WORK,
    prompts,
    redline_python,
    run_child,
    scenario_yaml,
    write_result,
)

GARAK_VENV = BENCH / ".garak-venv"
GARAK_PY = GARAK_VENV / "bin" / "python"
GOAL_RATIO = 100.0


def garak_ready() -> bool:
    if not GARAK_PY.exists():
        return False
    probe = subprocess.run([str(GARAK_PY), "-c", "import garak"], capture_output=True)
    return probe.returncode == 0


def install_garak(timeout: float) -> str | None:
    """Create the throwaway venv and pip install garak; None when ready, else why not."""
    if garak_ready():
        return None
    print(f"installing garak into {GARAK_VENV} (large: torch, transformers, ...; "
          f"up to {timeout:.0f}s)...", flush=True)
    started = time.monotonic()
    steps = [[sys.executable, "-m", "venv", str(GARAK_VENV)],
             [str(GARAK_PY), "-m", "pip", "install", "-q", "-U", "pip"],
             [str(GARAK_PY), "-m", "pip", "install", "-q", "garak"]]
    for step in steps:
        left = timeout - (time.monotonic() - started)
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=max(1, left))
        except subprocess.TimeoutExpired:
            return f"garak installation timed out after {timeout:.0f}s ({' '.join(step[-3:])})"
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout)[-800:]
            return f"garak installation failed at `{' '.join(step[-3:])}`: {tail}"
    if not garak_ready():
        return "garak installed but `import garak` fails in the venv"
    print(f"garak installed in {time.monotonic() - started:.0f}s", flush=True)
    return None


def redline_child(prompts_file: str, work: str) -> None:
    """In a fresh redline process: the shared prompts as one scenario, identity only."""
    t0 = time.perf_counter()
    from redline.core.config import ScanConfig, parse_target
    from redline.core.scan import scan

    t1 = time.perf_counter()
    items = json.loads(Path(prompts_file).read_text())
    base = Path(work)
    suite = base / "suite"
    suite.mkdir(parents=True, exist_ok=True)
    doc = json.loads(scenario_yaml("bench-shared", items, [["identity"]]))
    doc["detectors"] = [{"marker": {"markers": ["ZORBLAX-4471"]}}]
    (suite / "shared.yaml").write_text(json.dumps(doc))
    marks: dict[str, float] = {}
    cfg = ScanConfig(target=parse_target("python:redline.plugins.targets.toys:echo"),
                     suite=str(suite),
                     db=str(base / "r.db"), out=str(base / "out"), max_error_rate=1.0)
    t2 = time.perf_counter()
    result = scan(cfg, on_start=lambda run_id, n: marks.setdefault("start", time.perf_counter()),
                  on_result=lambda r: marks.__setitem__("last", time.perf_counter()))
    t3 = time.perf_counter()
    print(json.dumps({"prompts": len(items), "attempts": result.summary.total.attempts,
                      "failures": result.summary.total.failures, "import_s": t1 - t0,
                      "setup_s": t2 - t1, "run_s": t3 - t2,
                      "engine_s": marks["last"] - marks["start"]}))


def one(cmd: list[str], timeout: float) -> dict:
    run = run_child(cmd, timeout=timeout)
    if run["rc"] != 0:
        raise RuntimeError(f"{cmd[1]} exited {run['rc']}: {run['stderr'][-1500:]}")
    out = json.loads(run["stdout"].strip().splitlines()[-1])
    out["process_wall_s"] = run["wall_s"]
    out["peak_rss_mb"] = run["peak_rss_mb"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--install-timeout", type=float, default=1800)
    ap.add_argument("--redline-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.redline_child:
        redline_child(*args.redline_child)
        return 0

    work = WORK / "garak"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prompts_file = work / "prompts.json"
    prompts_file.write_text(json.dumps(prompts(args.prompts)))
    problem = install_garak(args.install_timeout)
    if problem:
        print(f"GARAK NOT AVAILABLE: {problem}", flush=True)

    runs: dict[str, list[dict]] = {"redline": [], "garak": []}
    for i in range(args.repeats):
        rdir = work / f"redline-{i}"
        runs["redline"].append(one([redline_python(), __file__, "--redline-child",
                                    str(prompts_file), str(rdir)], timeout=1800))
        shutil.rmtree(rdir, ignore_errors=True)
        if not problem:
            gdir = work / f"garak-{i}"
            gdir.mkdir()
            runs["garak"].append(one([str(GARAK_PY), str(BENCH / "_garak_child.py"),
                                      str(prompts_file), str(gdir)], timeout=1800))
            shutil.rmtree(gdir, ignore_errors=True)

    def rate(r: dict, key: str = "run_s") -> float:
        return r["prompts"] / r[key]

    red = statistics.median(rate(r) for r in runs["redline"])
    red_engine = statistics.median(rate(r, "engine_s") for r in runs["redline"])
    print(f"redline: {red:,.0f} attempts/s for scan() (store, judging, reports included), "
          f"{red_engine:,.0f}/s engine only; {1e6 / red:,.0f} us per prompt")
    result: dict = {
        "command": " ".join(["python", "bench/throughput_vs_garak.py", *sys.argv[1:]]),
        "prompts": args.prompts, "repeats": args.repeats,
        "redline": {"attempts_per_s": round(red, 1), "engine_attempts_per_s": round(red_engine, 1),
                    "us_per_prompt": round(1e6 / red, 1), "runs": runs["redline"]},
    }
    if problem:
        result["garak"] = {"error": problem}
        write_result("throughput_vs_garak", result)
        print(f"no comparison: {problem}")
        return 1
    gar = statistics.median(rate(r) for r in runs["garak"])
    ratio = red / gar
    print(f"garak {runs['garak'][0]['garak_version']}: {gar:,.0f} attempts/s for Harness.run "
          f"({1e3 / gar:,.2f} ms per prompt)")
    print(f"redline / garak = {ratio:,.1f}x (goal >= {GOAL_RATIO:.0f}x: "
          f"{'met' if ratio >= GOAL_RATIO else 'NOT met'})")
    result["garak"] = {"attempts_per_s": round(gar, 1), "ms_per_prompt": round(1e3 / gar, 3),
                       "version": runs["garak"][0]["garak_version"], "runs": runs["garak"]}
    result["ratio"] = round(ratio, 2)
    result["goal"] = f"redline >= {GOAL_RATIO:.0f}x garak"
    result["goal_met"] = ratio >= GOAL_RATIO
    write_result("throughput_vs_garak", result)
    return 0 if ratio >= GOAL_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
