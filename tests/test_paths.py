"""Files and paths (issue 17 item 10): a stored run id cannot send a report outside its
directory, and output options that cannot work are usage errors (exit 2) before any work."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from redline.core.errors import UsageError
from redline.core.paths import check_run_id, run_dir

ECHO = "python:redline.plugins.targets.toys:echo"


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("bad", ["../../x", "..", "a/b", "/abs", "a\\b", "", ".hidden",
                                 "x" * 200, "run\x1b[2J"])
def test_bad_run_ids_are_refused_as_path_parts(bad: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a valid run id"):
        run_dir(tmp_path, bad)


def test_generated_run_ids_are_valid() -> None:
    from redline.store import new_run_id

    assert check_run_id(new_run_id())


def test_a_stored_dotdot_run_id_cannot_write_outside_the_report_directory(
        tmp_path: Path) -> None:
    proc = redline("scan", "-t", ECHO, "-s", "jb-dan-persona", "--db", "r.db", "--out", "out",
                   "--no-progress", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    with sqlite3.connect(tmp_path / "r.db") as con:
        con.execute("PRAGMA foreign_keys=OFF")
        con.execute("UPDATE runs SET id = '../../x'")
    (tmp_path / "a" / "b").mkdir(parents=True)
    proc = redline("report", "latest", "--db", "../../r.db", "-o", "out", cwd=tmp_path / "a" / "b")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not a valid run id" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args,needle", [
    (["scan", "-t", ECHO, "--db", "afile/r.db", "--no-progress"], "afile is a file"),
    (["scan", "-t", ECHO, "--db", "adir", "--no-progress"], "is a directory"),
    (["scan", "-t", ECHO, "--db", "new.db", "--out", "afile", "--no-progress"], "is a file"),
    (["export", "latest", "--db", "r.db", "-o", "adir"], "is a directory"),
    (["export", "latest", "--db", "r.db", "-o", "afile/x.tgz"], "afile is a file"),
    (["report", "latest", "--db", "r.db", "-o", "afile"], "is a file"),
    (["replay", "latest", "--db", "r.db", "-o", "afile"], "is a file"),
    (["gate", "latest", "--db", "r.db", "-o", "afile"], "is a file"),
    (["runs", "list", "--db", "afile/r.db"], "afile is a file"),
    (["load", "--db", "adir", "--levels", "1"], "is a directory"),
    (["serve", ECHO, "--port", "70000"], "65535"),
    (["serve", ECHO, "--port", "-1"], "--port"),
])
def test_unusable_output_options_exit_2_before_any_work(
        tmp_path: Path, args: list[str], needle: str) -> None:
    (tmp_path / "afile").write_text("not a directory")
    (tmp_path / "adir").mkdir()
    if "latest" in args:
        done = redline("scan", "-t", ECHO, "-s", "jb-dan-persona", "--db", "r.db", "--out",
                       "out", "--no-progress", cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr
    proc = redline(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "new.db").exists()  # the scan did not start
