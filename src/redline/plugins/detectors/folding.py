"""The normal forms a secret is looked for in: folded, compacted, leet-read.

`fold`: NFKC, Cyrillic/Greek look-alikes to Latin, zero-width characters removed, lower case.
`compact`: the folded text with only letters and digits kept (`R L - C A N A R Y` -> `rlcanary`),
optionally with leet digits read as letters first. `char_map` keeps, for each character of a
folded or compacted text, its index in the original, so a match can be reported as a span.
A secret shorter than `MIN_SECRET_CHARS` letters and digits is not looked for (`too_short`).
"""

from __future__ import annotations

import re
import unicodedata

MIN_SECRET_CHARS = 4
# invisible characters (soft hyphen, joiners, direction marks, BOM...) dropped when folding
ZERO_WIDTH = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\ufeff"
)

HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i",
    "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
    "т": "t", "у": "y", "ԝ": "w", "х": "x", "ү": "y",
    "А": "a", "В": "b", "С": "c", "Е": "e", "Ё": "e", "Н": "h", "І": "i", "Ї": "i", "Ј": "j",
    "К": "k", "М": "m", "О": "o", "Р": "p", "Ԛ": "q", "Ѕ": "s", "Т": "t", "У": "y", "Ү": "y",
    "Ԝ": "w", "Х": "x",
    # Greek
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "α": "a", "ε": "e", "ι": "i", "κ": "k",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
    # Latin look-alikes
    "ı": "i", "ɑ": "a", "ɡ": "g", "ʏ": "y",
}
# str.translate is slow on non-ASCII text; a regex over the few characters to fold is not.
_FOLD_MAP = {**dict.fromkeys(ZERO_WIDTH, ""), **HOMOGLYPHS}
_FOLD_RE = re.compile("[" + re.escape("".join(_FOLD_MAP)) + "]")
_LEET = {"4": "a", "@": "a", "8": "b", "3": "e", "1": "i", "l": "i", "0": "o", "5": "s", "$": "s",
         "7": "t"}
_LEET_STR = str.maketrans(_LEET)
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")

# bytes.translate lower-cases (and leet-folds) ASCII and drops ASCII punctuation in C; bytes
# above 127 (UTF-8 sequences) pass through and are filtered afterwards.
_LOWER = bytes(range(256)).lower()
_NON_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())
_LEET_TABLE = bytes(ord(_LEET.get(chr(c), chr(c))) if c < 128 else c for c in _LOWER)
_LEET_DELETE = bytes(c for c in _NON_ALNUM if chr(c) not in "@$")


def fold(text: str) -> str:
    """NFKC, look-alikes to Latin, zero-width characters removed, lower case."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    return _FOLD_RE.sub(lambda m: _FOLD_MAP[m.group()], text).lower()


def _keep_alnum(m: re.Match[str]) -> str:
    return m.group() if m.group().isalnum() else ""


def squeeze(folded: str, leet: bool = False) -> str:
    """Already `fold`ed text with only letters and digits kept (leet first read as letters)."""
    raw = folded.encode("utf-8")
    out = raw.translate(_LEET_TABLE, _LEET_DELETE) if leet else raw.translate(_LOWER, _NON_ALNUM)
    text = out.decode("utf-8")
    return text if text.isascii() else _NON_ASCII_RE.sub(_keep_alnum, text)


def compact(text: str, leet: bool = False) -> str:
    """`fold`ed text with only letters and digits kept (leet digits first read as letters)."""
    return squeeze(fold(text), leet)


def _fold_char(ch: str) -> str:
    return ch.lower() if ch.isascii() else fold(ch)


def char_map(text: str, *, alnum_only: bool, leet: bool = False) -> tuple[str, list[int]]:
    """The folded (or compacted) text with, for each of its characters, the original index."""
    if text.isascii():  # one character in, at most one out: no per-character folding
        folded = text.lower().translate(_LEET_STR) if leet else text.lower()
        if not alnum_only:
            return folded, list(range(len(folded)))
        index = [i for i, c in enumerate(folded) if c.isalnum()]
        return "".join([folded[i] for i in index]), index
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            if leet:
                c = _LEET.get(c, c)
            if not alnum_only or c.isalnum():
                chars.append(c)
                index.append(i)
    return "".join(chars), index


def too_short(secret: str) -> bool:
    """Too few letters and digits to look for safely (it would match ordinary text)."""
    return len(compact(secret)) < MIN_SECRET_CHARS


def compact_words(text: str, limit: int) -> list[str]:
    """The first `limit` whitespace-separated tokens of `text`, each `compact`ed (in C for
    ASCII text)."""
    tokens = text.split()[:limit]
    if text.isascii():
        return [t.encode("ascii").translate(_LOWER, _NON_ALNUM).decode("ascii") for t in tokens]
    return [compact(t) for t in tokens]
