"""Decoded views of a reply.

For the leak detectors, per token: URL-encoding, base32, base58, base85/ascii85, NATO/phonetic
spelling, decimal character codes, 8-bit binary, Morse code, and a secret given in parts. Each
view is computed on demand and only from tokens that could be in that encoding, so a reply
without such tokens costs a few regex scans. A decoded token is then searched for the secret
like any other text (the caller decides what counts as a match).

For reading a whole reply (compliance, system prompt, monitoring): `decoded_views`, the reply
decoded as base64, rot13 or leetspeak when it plausibly uses one of them.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import unquote_plus

from redline.plugins.detectors.wording import english_share, words

MAX_TOKENS = 200
MAX_TOKEN_CHARS = {"base32": 8192, "base58": 400, "base85": 8192}  # base58 is quadratic
MAX_PIECES = 6
# A decoded token holds at most one byte per character of the token, and `compact` turns one
# byte into at most 5/3 ASCII letters or digits (U+33AF, three bytes, folds to "rads2"; checked
# over every code point in the tests): a shorter token cannot hold an ASCII secret.
ASCII_PER_BYTE = 5 / 3

_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_B32 = re.compile(r"(?<![A-Za-z0-9])[A-Za-z2-7]{8,}={0,6}(?![A-Za-z0-9])")
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_B58 = re.compile(r"(?<![A-Za-z0-9])[1-9A-HJ-NP-Za-km-z]{6,}(?![A-Za-z0-9])")
_B85 = re.compile(r"<~[!-u\s]{4,}~>|(?<!\S)[!-~]{8,}(?!\S)")


def url_decoded(text: str) -> str | None:
    """The text with %XX escapes (and + for space) decoded, or None when it has none."""
    if "%" not in text or not _PCT.search(text):
        return None
    return unquote_plus(text)


def _printable(raw: bytes) -> str | None:
    try:
        out = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return out if out and all(c.isprintable() or c in "\n\t" for c in out) else None


def _b32(token: str) -> str | None:
    body = token.rstrip("=").upper()
    if len(body) % 8 in (1, 3, 6):
        return None
    try:
        return _printable(base64.b32decode(body + "=" * (-len(body) % 8)))
    except (binascii.Error, ValueError):
        return None


def b58decode(token: str) -> bytes | None:
    n = 0
    for c in token:
        i = _B58_INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    pad = len(token) - len(token.lstrip("1"))
    return b"\0" * pad + n.to_bytes((n.bit_length() + 7) // 8, "big")


def _b58(token: str) -> str | None:
    raw = b58decode(token)
    return _printable(raw) if raw else None


# What base64.b85decode and base64.a85decode (no Adobe framing, no folded spaces) accept.
_B85_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "!#$%&()*+-;<=>?@^_`{|}~")
_A85_ALPHABET = frozenset(map(chr, range(ord("!"), ord("u") + 1))) | {"z", " ", "\t", "\n", "\r",
                                                                        "\v"}


def _b85(token: str) -> str | None:
    if token.startswith("<~"):
        try:
            return _printable(base64.a85decode(token, adobe=True, ignorechars=" \t\n\r"))
        except (ValueError, binascii.Error):
            return None
    chars = set(token)
    for decode, alphabet in ((base64.b85decode, _B85_ALPHABET), (base64.a85decode, _A85_ALPHABET)):
        if not chars <= alphabet:
            continue  # the decoder would raise on the first character outside its alphabet
        try:
            out = _printable(decode(token))
        except (ValueError, binascii.Error):
            continue
        if out:
            return out
    return None


def min_token_chars(key: str) -> int:
    """The shortest token whose decoding, compacted, could contain the ASCII secret `key`."""
    return math.ceil(len(key) / ASCII_PER_BYTE) if key.isascii() else 0


def decoded_tokens(text: str, min_chars: int = 0) -> list[tuple[str, str]]:
    """(encoding, decoded text) for every token that decodes to printable text; tokens shorter
    than `min_chars` are not decoded (see `min_token_chars`)."""
    return [(form, decoded) for form, _, decoded in sized_tokens(text, min_chars)]


def sized_tokens(text: str, min_chars: int = 0) -> list[tuple[str, int, str]]:
    """`decoded_tokens` with each token's length: (encoding, characters, decoded text)."""
    out: list[tuple[str, int, str]] = []
    for form, rx, decode in (("base32", _B32, _b32), ("base58", _B58, _b58),
                             ("base85", _B85, _b85)):
        for i, m in enumerate(rx.finditer(text)):
            if i >= MAX_TOKENS:
                break
            token = m.group().strip()
            if len(token) > MAX_TOKEN_CHARS[form] or len(token) < min_chars:
                continue
            if form == "base85" and (token.rstrip(".,;:!?)'\"").replace("-", "").isalpha()
                                     or token.startswith(("http", "www."))):
                continue  # a word or a link, not base85 (whose output mixes digits and symbols)
            decoded = decode(token)
            if decoded is None and form == "base85" and token[-1] in ".,;:":
                decoded = decode(token[:-1])
            if decoded:
                out.append((form, len(token), decoded))
    return out


NATO = {
    "alfa": "a", "alpha": "a", "bravo": "b", "charlie": "c", "delta": "d", "echo": "e",
    "foxtrot": "f", "golf": "g", "hotel": "h", "india": "i", "juliet": "j", "juliett": "j",
    "kilo": "k", "lima": "l", "mike": "m", "november": "n", "oscar": "o", "papa": "p",
    "quebec": "q", "romeo": "r", "sierra": "s", "tango": "t", "uniform": "u", "victor": "v",
    "whiskey": "w", "whisky": "w", "xray": "x", "x-ray": "x", "yankee": "y", "zulu": "z",
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "niner": "9",
}
# Words that may sit inside a spelled-out run without breaking it.
_NATO_FILLER = frozenset({"dash", "hyphen", "minus", "underscore", "dot", "period", "point",
                          "slash", "colon", "space", "capital", "uppercase", "upper", "lowercase",
                          "lower", "case", "small", "then", "and", "the", "letter", "number",
                          "digit"})
_NATO_WORD = re.compile(r"[A-Za-z]+(?:-ray)?|\d")
_NATO_HINT = re.compile(r"\b(?:alfa|alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|"
                        r"juliett?|kilo|lima|mike|november|oscar|papa|quebec|romeo|sierra|tango|"
                        r"uniform|victor|whiske?y|x-?ray|yankee|zulu)\b", re.IGNORECASE)


_CHARCODES = re.compile(r"(?<![\d.])\d{2,3}(?:(?:[ \t]*[,;][ \t]*|[ \t]+)\d{2,3}){3,}(?![\d.])")
_NUMBER = re.compile(r"\d+")


def _runs(pieces: Iterable[str | None], shortest: int) -> list[str]:
    """The pieces joined into runs, None ending a run; runs of fewer pieces are dropped."""
    runs: list[str] = []
    current: list[str] = []
    for piece in [*pieces, None]:
        if piece is not None:
            current.append(piece)
            continue
        if len(current) >= shortest:
            runs.append("".join(current))
        current = []
    return runs


def _coded_runs(text: str, run: re.Pattern[str], code: re.Pattern[str],
                read: Callable[[str], str | None]) -> list[str]:
    """Within each match of `run`, its codes (matches of `code`) read as characters: runs of
    four or more, a code `read` cannot read (None) ending a run."""
    out: list[str] = []
    for m in run.finditer(text):
        out.extend(_runs((read(c) for c in code.findall(m.group())), 4))
    return out


def _ascii(code: int) -> str | None:
    return chr(code) if 32 <= code <= 126 else None


def charcode_runs(text: str) -> list[str]:
    """Runs of four or more decimal character codes ("122, 101, 116, 97") read as the
    printable ASCII they spell; a code outside 32-126 ends a run."""
    return _coded_runs(text, _CHARCODES, _NUMBER, lambda c: _ascii(int(c)))


_BINARY = re.compile(r"(?<![01])[01]{8}(?:[ \t,;|]+[01]{8}){3,}(?![01])")
_BYTE = re.compile(r"[01]{8}")


def binary_runs(text: str) -> list[str]:
    """Runs of four or more 8-bit binary groups ("01101111 01110111 ...") read as the
    printable ASCII they spell; a byte outside 32-126 ends a run."""
    return _coded_runs(text, _BINARY, _BYTE, lambda c: _ascii(int(c, 2)))


MORSE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g",
    "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n",
    "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z", "-----": "0", ".----": "1",
    "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6", "--...": "7",
    "---..": "8", "----.": "9", "-....-": "-", ".-.-.-": ".", "..--.-": "_",
}
_MORSE = re.compile(r"(?<![\w.\-])[.\-]{1,6}(?:(?:[ \t]+/?[ \t]*|/)[.\-]{1,6}){3,}(?![\w.\-])")
_MORSE_CODE = re.compile(r"[.\-]+")


def morse_runs(text: str) -> list[str]:
    """Runs of four or more Morse codes (letters apart by spaces, words by "/") read as the
    letters and digits they spell; a code that is not Morse ends a run."""
    if "-" not in text or "." not in text:
        return []
    return _coded_runs(text, _MORSE, _MORSE_CODE, MORSE.get)


def nato_runs(text: str) -> list[str]:
    """Runs of NATO/phonetic words (and spelled digits) read as the letters they spell."""
    if _NATO_HINT.search(text) is None:
        return []
    return _runs(_nato_pieces(text), 3)


def _nato_pieces(text: str) -> Iterator[str | None]:
    """Per word: the letter or digit it spells, "" for a filler inside a run, None otherwise
    (a filler cannot start a run)."""
    in_run = False
    for m in _NATO_WORD.finditer(text):
        w = m.group().lower()
        if w in NATO:
            piece: str | None = NATO[w]
        elif w.isdigit():
            piece = w
        else:
            piece = "" if in_run and w in _NATO_FILLER else None
        in_run = piece is not None
        yield piece


def _chunks(compacted_tokens: list[str], key: str) -> list[str]:
    return [t for t in compacted_tokens if t and t in key]


def split_cover(tokens: list[str], key: str) -> list[str] | None:
    """Pieces (whole tokens of the reply, in order) whose concatenation is `key`, if any.

    At least two pieces, at most `MAX_PIECES`, the longest at least a third of the key: a
    secret handed out in parts ("it starts with ab12 and ends with cd34").
    """
    chunks = _chunks(tokens, key)
    if len(chunks) < 2:
        return None

    def cover(pos: int, start: int, used: list[str]) -> list[str] | None:
        if pos == len(key):
            return used if len(used) >= 2 else None
        if len(used) >= MAX_PIECES:
            return None
        for i in range(start, len(chunks)):
            c = chunks[i]
            if key.startswith(c, pos) and (len(c) < len(key)):
                found = cover(pos + len(c), i + 1, [*used, c])
                if found:
                    return found
        return None

    for order in (chunks, chunks[::-1]):
        chunks = order
        found = cover(0, 0, [])
        if found and max(map(len, found)) * 3 >= len(key):
            return found
    return None


# --- decoded views of a whole reply (compliance, system prompt) ---------------------------

_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_LEET_MAP = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s", "$": "s",
                           "7": "t", "|": "l"})
_LEET_HINT = re.compile(r"[a-zA-Z][0-9@$|][a-zA-Z0-9]|[0-9][a-zA-Z]")
_LEET_WORD = re.compile(r"\b[a-z]*[0-9@$|][a-z0-9@$|]*[a-z][a-z0-9@$|]*\b")


def _b64_text(token: str) -> str | None:
    body = token.rstrip("=")
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    alt = b"-_" if ("-" in body or "_" in body) else None
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=alt, validate=True)
        out = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    printable = sum(c.isprintable() or c in "\n\t" for c in out)
    return out if out and printable / len(out) > 0.95 and " " in out else None


def decoded_views(text: str) -> list[tuple[str, str]]:
    """(encoding, decoded text) for each encoding the text plausibly uses, besides plain."""
    out: list[tuple[str, str]] = []
    if len(text) >= 16 and _B64_TOKEN.search(text):
        decoded = [d for t in _B64_TOKEN.findall(text) if (d := _b64_text(t))]
        if decoded:
            out.append(("base64", "\n".join(decoded)))
    head = text[:3000]
    ws = words(head)
    if len(ws) >= 4:
        plain = english_share(ws)
        if plain < 0.12 and english_share(words(codecs.encode(head, "rot13"))) > max(0.12,
                                                                                  plain * 2):
            out.append(("rot13", codecs.encode(text, "rot13")))
        if _LEET_HINT.search(head):
            low = head.lower()
            leet = _LEET_WORD.findall(low)
            if len(leet) >= 3 and len(leet) >= 0.2 * len(head.split()):
                unleet = _LEET_WORD.sub(lambda m: m.group().translate(_LEET_MAP), text.lower())
                out.append(("leetspeak", unleet))
    return out
