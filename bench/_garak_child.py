"""Run garak's own harness on the shared prompt set; executed by the garak venv's python.

    .garak-venv/bin/python bench/_garak_child.py PROMPTS.json WORKDIR

Uses garak's Harness.run (the loop that `garak --probes ...` drives: probe -> generator ->
attempts -> report JSONL -> detector -> evaluator) with a function generator that returns at
once, one generation per prompt, and a string detector for the same marker redline judges.
Prints one JSON line with the timings.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    prompts = json.loads(Path(sys.argv[1]).read_text())
    work = Path(sys.argv[2])
    os.environ.setdefault("XDG_DATA_HOME", str(work / "xdg-data"))
    os.environ.setdefault("XDG_CONFIG_HOME", str(work / "xdg-config"))
    os.environ.setdefault("XDG_CACHE_HOME", str(work / "xdg-cache"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    t_import = time.perf_counter()
    import garak
    import garak.command as command
    import garak.detectors.base
    import garak.evaluators
    import garak.generators.function
    import garak.probes.test
    from garak import _config
    from garak.harnesses.base import Harness

    t_setup = time.perf_counter()
    _config.load_base_config()
    _config.run.generations = 1
    _config.system.parallel_attempts = False
    _config.system.parallel_requests = False
    _config.system.verbose = 0
    _config.system.narrow_output = True
    _config.system.show_z = False
    _config.reporting.report_dir = str(work / "reports")
    _config.reporting.report_prefix = "bench"
    _config.system.lite = False  # skips start_run's hint, which reads CLI arguments
    import datetime

    _config.transient.starttime = datetime.datetime.now()
    _config.transient.starttime_iso = _config.transient.starttime.isoformat()
    command.start_run()

    generator = garak.generators.function.Single(name="_garak_target#echo")
    probe = garak.probes.test.Test()  # garak's own test probe, posing our prompts
    probe.prompts = list(prompts)
    detector = garak.detectors.base.StringDetector(["ZORBLAX-4471"])
    evaluator = garak.evaluators.ThresholdEvaluator(_config.run.eval_threshold)
    harness = Harness()
    t_run = time.perf_counter()
    harness.run(generator, [probe], [detector], evaluator, announce_probe=False)
    t_end = time.perf_counter()
    command.end_run()
    attempts = 0
    report = Path(_config.transient.report_filename)
    with report.open(encoding="utf-8") as fh:
        for line in fh:
            entry = json.loads(line)
            if entry.get("entry_type") == "attempt" and entry.get("status") == 2:
                attempts += 1
    print(json.dumps({
        "garak_version": garak.__version__, "prompts": len(prompts),
        "attempts_in_report": attempts, "import_s": t_setup - t_import,
        "setup_s": t_run - t_setup, "run_s": t_end - t_run,
    }))


if __name__ == "__main__":
    main()
