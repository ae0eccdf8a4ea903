"""A run is driven by one process at a time: a second resume of a run being resumed, or a
resume of a run still being scanned, is refused with a clear message before any work; a lock
dies with its holder, so a SIGKILLed scan can be resumed at once (issue 17 item 11).

Real `redline scan` subprocesses, a real SQLite store.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

# each reply takes 0.2 s, and none comes while a file `hold` exists in the scan's directory:
# the test holds a scan mid-run, so that it is still running however loaded the machine is
SLOW = ("import os, time\n\ndef slow(messages):\n    time.sleep(0.2)\n"
        "    while os.path.exists('hold'):\n        time.sleep(0.05)\n    return 'fine'\n")


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    (tmp_path / "slowtarget.py").write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "redline", "scan", "--db", "r.db",
                             "--out", "out", "--no-progress", *args], cwd=tmp_path, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stored(tmp_path: Path) -> int:
    try:
        with sqlite3.connect(tmp_path / "r.db") as con:
            return con.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def wait_for_results(tmp_path: Path, n: int) -> None:
    deadline = time.monotonic() + 60
    while stored(tmp_path) < n:
        assert time.monotonic() < deadline, "no results stored"
        time.sleep(0.2)


def test_a_second_resume_of_a_run_is_refused(tmp_path: Path) -> None:
    scan = ["-t", "python:slowtarget:slow", "-s", "prompt_injection", "-c", "1"]
    first = start(tmp_path, *scan)
    wait_for_results(tmp_path, 2)
    hold = tmp_path / "hold"
    hold.touch()
    # the run is still being scanned: resuming it now is refused, nothing is written
    during = start(tmp_path, "--resume", "latest")
    out, err = during.communicate(timeout=60)
    assert during.returncode == 2, out + err
    assert "being run or resumed by another process" in err and "Traceback" not in err
    first.send_signal(signal.SIGKILL)  # dies holding the lock: the kernel releases it
    first.wait(timeout=30)
    killed_at = stored(tmp_path)
    hold.unlink()

    resumed = start(tmp_path, "--resume", "latest")
    wait_for_results(tmp_path, killed_at + 2)
    hold.touch()  # the resumed run stays mid-run until the second resume has been refused
    second = start(tmp_path, "--resume", "latest")
    out2, err2 = second.communicate(timeout=60)
    hold.unlink()
    out1, err1 = resumed.communicate(timeout=120)
    assert second.returncode == 2, out2 + err2
    assert f"(pid {resumed.pid})" in err2 and "IntegrityError" not in out2 + err2
    assert resumed.returncode == 0, out1 + err1
    with sqlite3.connect(tmp_path / "r.db") as con:
        planned, status = con.execute("SELECT planned, status FROM runs").fetchone()
        n, unique = con.execute(
            "SELECT count(*), count(DISTINCT attempt_id) FROM results").fetchone()
    assert (status, n, unique) == ("completed", planned, planned)
