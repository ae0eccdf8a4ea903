"""Terminal-safe text: what rich may print when the text came from a target, a scenario file
or the store.

Control characters (C0 but newline and tab, DEL, C1) and the bidi overrides are shown as
escapes (`\\x1b`, `\\u202e`), so an ANSI/OSC sequence in a target's error or a scenario's
title cannot clear the screen, retitle the window or reorder what the reader sees; then rich
markup in it is escaped, so `[red]` is shown as written.
"""

from __future__ import annotations

import re

from rich.markup import escape as _markup_escape

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: object) -> str:
    """`value` as text with every control character written as an escape."""
    return _UNSAFE.sub(_show, str(value))


def safe(value: object) -> str:
    """`value` ready to go into rich markup: control characters escaped, markup escaped."""
    return _markup_escape(plain(value))
