"""Errors that redline reports to the user as a clear message, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class RedlineError(Exception):
    """Base for every error redline turns into a one-line message and an exit code."""

    exit_code = 2


@dataclass
class Problem:
    """One located problem in an input file."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class InputFileError(RedlineError):
    """A scenario, policy or config file is malformed; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(RedlineError):
    """A command-line argument or target spec is wrong."""


class RunAborted(RedlineError):
    """The run could not complete (target unreachable, too many errors)."""

    exit_code = 3
