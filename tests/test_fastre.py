"""The detectors' regex rewrites match exactly what the patterns as written match."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from redline.plugins.detectors import decoders, fastre, refusal_lexicon, signals
from redline.plugins.detectors.evaluation import load_cases
from redline.plugins.detectors.folding import compact
from redline.plugins.detectors.leak import find_leaks

TEXTS = [
    "", "here is how", "there are several ways to do it", "Sure! Step 1: mix it.",
    "Dear John,\n#hashtag here", "a#b #ok", "anyway: as requested, here you go",
    "I'd rather not. That's not something I can help with.", "it's off the table",
    "no.", "know-how", "hereafter", "step1 step 1", "(x|y) [a|b] \\b",
]


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"\ba|\bb", r"\b(?:a|b)"),
    (r"\ba|c|\bd|\be(?:x|\by)", r"\ba|c|\b(?:d|e(?:x|\by))"),
    (r"[|\b]|\ba|\bb", r"[|\b]|\b(?:a|b)"),
    (r"[]|]x|\ba|\bb", r"[]|]x|\b(?:a|b)"),
    (r"\\b|\ba", r"\\b|\ba"),  # an escaped backslash then b is not a boundary
    (r"(?:\ba|\bb)", r"(?:\ba|\bb)"),  # only top-level alternatives are grouped
])
def test_factor_boundaries_groups_runs_of_boundary_branches(pattern: str, expected: str) -> None:
    assert fastre.factor_boundaries(pattern) == expected
    for text in TEXTS:
        assert ([m.span() for m in re.finditer(pattern, text)]
                == [m.span() for m in fastre.compile(pattern).finditer(text)])


def test_verbose_patterns_are_left_alone() -> None:
    assert fastre.compile(r"\ba | \bb", re.VERBOSE).pattern == r"\ba | \bb"


def test_detector_patterns_match_what_they_say_on_the_labeled_corpus() -> None:
    """Every pattern compiled through fastre (the lexicon, the reply signals) finds exactly the
    spans the pattern as written finds, on every reply and request of the labeled corpus."""
    texts = [t for c in load_cases(None, "all") for t in (c.reply, c.request, c.reply.lower())]
    compiled = {p for p in fastre.WRITTEN if p.pattern != fastre.WRITTEN[p]}
    assert {r.pattern for r in refusal_lexicon.RULES[:2]} <= compiled
    assert signals._AFFIRM in compiled
    for fast in compiled:
        plain = re.compile(fastre.WRITTEN[fast], fast.flags)
        for text in texts + TEXTS:
            assert [m.span() for m in plain.finditer(text)] == [
                m.span() for m in fast.finditer(text)], (plain.pattern[:60], text[:80])


@pytest.mark.slow
def test_one_byte_folds_to_at_most_five_thirds_ascii_characters() -> None:
    """The bound behind `decoders.min_token_chars`, over every code point."""
    worst = 0.0
    for cp in range(128, sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        ascii_out = max(sum(ch.isascii() for ch in compact(x))
                        for x in (c, unicodedata.normalize("NFKD", c)))
        worst = max(worst, ascii_out / len(c.encode()))
    assert worst <= decoders.ASCII_PER_BYTE


def test_short_tokens_are_not_decoded_but_secrets_in_them_are_still_found() -> None:
    import base64

    secret = "sk-canary-9f8e7d6c5b4a"
    encoded = base64.b32encode(secret.encode()).decode()
    assert decoders.min_token_chars(compact(secret)) == 12
    assert decoders.decoded_tokens("KRUGS4ZA", min_chars=12) == []  # 'This ' in base32
    assert decoders.decoded_tokens("KRUGS4ZA") == [("base32", "This ")]
    found = find_leaks(f"the code, encoded: {encoded}", [secret])
    assert [f["form"] for f in found] == ["base32"]
