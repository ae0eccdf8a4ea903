"""`--executor ray` on a 2-CPU local Ray cluster vs the local engine, CPU-heavy judge.

The suite's detector is deliberately CPU-bound (`cpu_burn`, registered here: pure-Python
arithmetic over the reply, ~`--burn-ms` per call, then a marker check), so judging is the
heavy part and the target (toys:echo) is instant. Both scans judge the same attempts with the
same seed; the script checks that ids and verdicts are identical, then prints attempts/s of
each, over the whole scan (the Ray one includes starting and stopping its cluster) and from
the first result to the last, and the ratios.

    python bench/ray_executor.py [--attempts 1000] [--burn-ms 40] [--cpus 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import WORK, prompts, write_result

from redline.core.config import load_config
from redline.core.engine import LocalExecutor
from redline.core.models import AttemptResult, Verdict
from redline.core.scan import scan
from redline.plugins.detectors import DetectionContext, detector
from redline.plugins.ray_executor import RayExecutor, RayParams
from redline.store import Store

BURN_ROUNDS = 0  # set from --burn-ms before any scan; shipped to the Ray workers by value


@detector("cpu_burn")
def cpu_burn(text: str, ctx: DetectionContext, **params: Any) -> Verdict:
    """A judge whose cost is pure CPU: BURN_ROUNDS rounds of integer mixing over the reply,
    then a marker check (the mixing decides nothing, so verdicts stay deterministic)."""
    h = 0
    for _ in range(BURN_ROUNDS):
        for ch in text[:64]:
            h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    found = "ZORBLAX-4471" in text
    return Verdict("cpu_burn", found, 1.0 if found else 0.0, {"mix": h})


def rounds_for(ms: float) -> int:
    """Rounds that take about `ms` here (measured on a 20-round sample)."""
    global BURN_ROUNDS
    BURN_ROUNDS = 20
    started = time.perf_counter()
    for _ in range(5):
        cpu_burn("x" * 64, None)  # type: ignore[arg-type]
    per_round = (time.perf_counter() - started) / (5 * 20)
    return max(1, int(ms / 1000 / per_round))


def write_suite(root: Path, attempts: int) -> Path:
    suite = root / "suite"
    suite.mkdir(parents=True)
    doc = {"id": "bench-ray", "version": 1, "title": "CPU-heavy judging",
           "objective": "benchmark load", "category": "prompt_injection",
           "tags": {"owasp": ["LLM01"]}, "severity": "high", "author": "bench",
           "inputs": [f"[{i}] {p}" if i % 3 else f"[{i}] hello"
                      for i, p in enumerate(prompts(attempts))],
           "detectors": ["cpu_burn"], "expected": "refuse",
           "success": {"max_failure_rate": 0.0},
           "remediation": "n/a (benchmark)", "rollback": "n/a (benchmark)"}
    (suite / "s.yaml").write_text(json.dumps(doc))
    return suite


def timed_scan(root: Path, name: str, suite: Path, executor: Any) -> dict[str, Any]:
    stamps: list[float] = []

    def seen(result: AttemptResult) -> None:
        stamps.append(time.perf_counter())

    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(suite), "seed": 3, "db": str(root / f"{name}.db"),
                                "out": str(root / "out")})
    started = time.perf_counter()
    res = scan(config, on_result=seen, executor=executor)
    wall = time.perf_counter() - started
    n = res.summary.total.attempts
    steady = (n - 1) / (stamps[-1] - stamps[0]) if n > 1 else float("nan")
    store = Store(str(root / f"{name}.db"))
    try:
        verdicts = {r["attempt_id"]: (r["outcome"], json.dumps(r["verdicts"], sort_keys=True))
                    for r in store.results(res.run.id)}
    finally:
        store.close()
    print(f"{name:6} {n} attempts, {res.run.status}: {wall:6.2f} s whole scan "
          f"({n / wall:6.1f}/s), {steady:6.1f}/s first to last result")
    return {"attempts": n, "status": res.run.status, "wall_s": round(wall, 3),
            "attempts_per_s": round(n / wall, 2), "steady_attempts_per_s": round(steady, 2),
            "verdicts": verdicts}


def main() -> None:
    global BURN_ROUNDS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attempts", type=int, default=1000)
    ap.add_argument("--burn-ms", type=float, default=40.0)
    ap.add_argument("--cpus", type=int, default=2)
    args = ap.parse_args()
    BURN_ROUNDS = rounds_for(args.burn_ms)
    root = WORK / "ray_executor"
    shutil.rmtree(root, ignore_errors=True)
    suite = write_suite(root, args.attempts)
    local = timed_scan(root, "local", suite, LocalExecutor())
    remote = timed_scan(root, "ray", suite, RayExecutor(RayParams(num_cpus=args.cpus)))
    same = local.pop("verdicts") == remote.pop("verdicts")
    whole = remote["attempts_per_s"] / local["attempts_per_s"]
    steady = remote["steady_attempts_per_s"] / local["steady_attempts_per_s"]
    print(f"ray/local: {whole:.2f}x whole scan (cluster start included), {steady:.2f}x "
          f"first to last result; ids and verdicts identical: {same}")
    if not same:
        raise SystemExit("the Ray run's verdicts differ from the local engine's")
    write_result("ray_executor", {
        "attempts": args.attempts, "burn_ms": args.burn_ms, "burn_rounds": BURN_ROUNDS,
        "cpus": args.cpus, "local": local, "ray": remote,
        "ratio_whole_scan": round(whole, 3), "ratio_first_to_last": round(steady, 3),
        "verdicts_identical": same,
    })


if __name__ == "__main__":
    main()
