"""Paths built from user input or stored data, checked before any work is done.

A run id is a path part (`OUT/RUN_ID/report.html`), and a stored one is data like any other:
`../../x` must not send a report outside its directory. Output options that name a file
where a directory is needed (or the reverse) are usage errors (exit 2) named after the option,
raised before a scan starts rather than after it ran.
"""

from __future__ import annotations

import re
from pathlib import Path

from redline.core.errors import UsageError

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_run_id(run_id: str) -> str:
    """`run_id` if it is safe as one path part: letters, digits, `_`, `.`, `-`; no `..`."""
    if not RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise UsageError(f"run id {run_id!r} is not a valid run id (letters, digits, '_', '.', "
                         "'-'); it cannot be used as a directory name")
    return run_id


def _blocking_ancestor(path: Path) -> Path | None:
    """The first existing ancestor of `path` that is not a directory, if any."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def check_dir_option(path: Path, option: str) -> Path:
    """`path` can be (or already is) a directory to write into."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path}: is a file, not a directory")
    blocker = _blocking_ancestor(path)
    if blocker is not None:
        raise UsageError(f"{option} {path}: {blocker} is a file, not a directory")
    return path


def check_file_option(path: Path, option: str) -> Path:
    """`path` can be (or already is) a file: not a directory, and under directories."""
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file path")
    blocker = _blocking_ancestor(path)
    if blocker is not None:
        raise UsageError(f"{option} {path}: {blocker} is a file, not a directory")
    return path


def run_dir(base: Path, run_id: str, option: str = "--out") -> Path:
    """`base/run_id`, with the run id checked as a path part and `base` as a directory."""
    return check_dir_option(base, option) / check_run_id(run_id)
