"""Targets for the Ray executor's tests, run inside Ray workers. They leave marks in the
directory named by REDLINE_RAY_TEST_DIR (set before the test cluster starts, so every worker
sees it): which attempt already took its worker down, and when each call ran."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from redline.plugins.targets.toys import echo


def _marks() -> Path:
    return Path(os.environ["REDLINE_RAY_TEST_DIR"])


def _first_time(name: str) -> bool:
    """True for the first caller of `name` across every worker process."""
    try:
        (_marks() / name).open("x").close()
    except FileExistsError:
        return False
    return True


def _user(messages: list[dict[str, Any]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def crash_once(messages: list[dict[str, Any]]) -> str:
    """`echo`, except that the first `HARM one` kills its worker process outright and the
    first `perhaps so` raises KeyboardInterrupt out of the worker's attempt."""
    text = _user(messages)
    if text == "HARM one" and _first_time("killed"):
        os._exit(1)
    if text == "perhaps so" and _first_time("raised"):
        raise KeyboardInterrupt
    return echo(messages)


def crash_always(messages: list[dict[str, Any]]) -> str:
    """`echo`, except that `HARM two` kills its worker every time."""
    if _user(messages) == "HARM two":
        os._exit(1)
    return echo(messages)


def timed(messages: list[dict[str, Any]]) -> str:
    """`echo` after 50 ms, leaving a file with the call's start and end times."""
    start = time.time()
    time.sleep(0.05)
    (_marks() / f"call-{os.getpid()}-{start:.6f}").write_text(f"{start} {time.time()}")
    return echo(messages)
