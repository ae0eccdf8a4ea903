"""Nothing a target raises ends a scan early with a false result, and SIGTERM stops it cleanly.

Each case runs the real `redline scan` in a subprocess against a Python target written to a
temporary module, with a real SQLite store.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TARGET = """\
import asyncio, time

CALLS = {{"n": 0}}

def _exc():
    return {exc}

def sync_fn(messages):
    CALLS["n"] += 1
    if CALLS["n"] > 10:
        raise _exc()
    return "fine"

def inline_fn(messages):
    return sync_fn(messages)
inline_fn.redline_inline = True

async def async_fn(messages):
    await asyncio.sleep(0)
    return sync_fn(messages)

def slow(messages):
    time.sleep(0.2)
    return "fine"
"""


def scan(tmp_path: Path, target: str, *extra: str,
         exc: str = "SystemExit(0)") -> subprocess.Popen[str]:
    (tmp_path / "badtarget.py").write_text(TARGET.format(exc=exc))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "redline", "scan", "-t", f"python:badtarget:{target}",
         "--db", "r.db", "--out", "out", "--no-progress", *extra],
        cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stored(tmp_path: Path) -> tuple[str, int, int, str | None]:
    with sqlite3.connect(tmp_path / "r.db") as con:
        status, planned, problem = con.execute(
            "SELECT status, planned, json_extract(summary, '$.problem') FROM runs").fetchone()
        (n,) = con.execute("SELECT count(*) FROM results").fetchone()
    return status, planned, n, problem


@pytest.mark.parametrize("target,exc", [
    ("sync_fn", "SystemExit(0)"), ("sync_fn", "KeyboardInterrupt()"),
    ("sync_fn", "GeneratorExit()"), ("inline_fn", "SystemExit('bye')"),
    ("inline_fn", "GeneratorExit()"), ("async_fn", "KeyboardInterrupt()"),
    ("async_fn", "GeneratorExit()"),
])
def test_a_target_raising_a_base_exception_is_an_error_or_a_clean_stop(
        tmp_path: Path, target: str, exc: str) -> None:
    proc = scan(tmp_path, target, "-s", "prompt_injection", exc=exc)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out + err  # mostly errors: incomplete, never 0
    assert "Traceback" not in out + err and "never retrieved" not in out + err
    status, planned, n, _ = stored(tmp_path)
    if exc.startswith("KeyboardInterrupt"):  # Ctrl-C, wherever it lands: a clean stop
        assert (status, n) == ("interrupted", 10)
        return
    assert (status, n) == ("completed", planned)  # every planned attempt is stored
    with sqlite3.connect(tmp_path / "r.db") as con:
        errors = [e for (e,) in con.execute(
            "SELECT error FROM results WHERE outcome = 'error'")]
    assert len(errors) == planned - 10
    assert all("raised by the target" in e for e in errors)


def test_sigterm_stops_a_scan_like_ctrl_c(tmp_path: Path) -> None:
    proc = scan(tmp_path, "slow", "-c", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some results are stored
        time.sleep(0.5)
        try:
            if stored(tmp_path)[2] >= 4:
                break
        except (sqlite3.Error, TypeError):
            continue
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, out + err
    assert "Traceback" not in out + err
    assert "terminated by SIGTERM" in err
    status, planned, n, problem = stored(tmp_path)
    assert status == "interrupted" and problem == "terminated by SIGTERM"
    assert 4 <= n < planned
