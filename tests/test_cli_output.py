"""The main job's output is the tool's own and reads well at 80 columns; honest progress."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rich.progress import Progress

from redline.cli.scan import EtaColumn, RateColumn


def redline(*args: str, cwd: Path, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, env=env)


def test_rate_and_eta_are_the_scan_average_not_a_burst():
    """A batched model answers a batch at once after a long wait (and a filter's blocks are
    instant): a windowed rate reads such a burst as the pace."""
    now = [0.0]
    progress = Progress(get_time=lambda: now[0], disable=True)
    task_id = progress.add_task("scan", total=120)
    now[0] = 40.0  # the first batch generates for 40 s, then its 16 replies land together
    for _ in range(16):
        now[0] += 0.001
        progress.advance(task_id, 1)
    task = progress.tasks[0]
    assert task.speed is not None and task.speed > 1000  # what rich's own rate reads
    assert RateColumn().render(task).plain == "0.4/s"  # 16 attempts in 40 s
    assert EtaColumn().render(task).plain == "ETA 0:04:20"  # 104 left at 0.4/s


def _lines_fit(text: str, width: int = 80) -> list[str]:
    return [line for line in text.splitlines() if len(line) > width or "…" in line]


def test_scan_summary_and_runs_list_fit_80_columns(tmp_path):
    proc = redline("scan", "-t", "python:redline.plugins.targets.toys:echo", "--db", "r.db",
                   "--out", "out", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Scenarios over their criterion" in proc.stdout
    assert _lines_fit(proc.stdout) == [], proc.stdout
    assert "ii-web-page-hidden-instruction-marker" in proc.stdout  # ids are never cut
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr
    listed = redline("runs", "list", "--db", "r.db", cwd=tmp_path)
    assert listed.returncode == 0
    assert _lines_fit(listed.stdout) == [], listed.stdout
    assert "completed" in listed.stdout and "228/228" in listed.stdout


def test_runs_list_json(tmp_path):
    proc = redline("scan", "-t", "python:redline.plugins.targets.toys:echo", "-s", "bc-*", "--db",
                   "r.db", "--out", "out", "--no-progress", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    listed = redline("runs", "list", "--db", "r.db", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["status"] == "completed" and row["suite"] == "bc-*"
    assert row["target"] == "python:redline.plugins.targets.toys:echo"
    assert row["attempts"] == row["planned"] and row["exit_code"] == proc.returncode
    assert {"id", "created_at", "finished_at", "failures", "errors", "unclear"} <= set(row)
