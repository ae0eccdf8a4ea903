"""Regex alternations rewritten so Python's engine can skip failing branches at once.

`re` tests a branch that starts with a literal character (or a character set) against the next
character before entering it, but a branch that starts with `\\b` is entered at every position.
The detectors' lexicons are long alternations of `\\b...` branches, so `compile` groups each run
of consecutive `\\b` branches under one leading `\\b`: `\\ba|\\bb` becomes `\\b(?:a|b)`, which
matches exactly the same spans (the branches keep their order) several times faster.
"""

from __future__ import annotations

import re


def _split_top(pattern: str) -> list[str]:
    """The top-level alternatives of `pattern` (escapes, classes and groups kept whole)."""
    parts, depth, start, i, n = [], 0, 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _bounded(alternative: str) -> bool:
    return alternative.startswith("\\b") and alternative[2:3] not in ("*", "+", "?", "{")


def factor_boundaries(pattern: str) -> str:
    """`pattern` with each run of consecutive top-level `\\b` alternatives under one `\\b`."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) > 1:
            out.append("\\b(?:" + "|".join(a[2:] for a in run) + ")")
        else:
            out.extend(run)
        run.clear()

    for alternative in _split_top(pattern):
        if _bounded(alternative):
            run.append(alternative)
        else:
            flush()
            out.append(alternative)
    flush()
    return "|".join(out)


# each pattern compiled here, and the pattern as it was written (for the tests)
WRITTEN: dict[re.Pattern[str], str] = {}


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(factor_boundaries(pattern), flags)`; verbose patterns are compiled as given."""
    compiled = re.compile(pattern if flags & re.VERBOSE else factor_boundaries(pattern), flags)
    WRITTEN[compiled] = pattern
    return compiled
