"""The app's input and output filters: realistic keyword and pattern guards.

They stop plain attacks. Like most production guards they look at the text as written,
so encodings, homoglyphs, zero-width characters and spelled-out leaks get past them:
that gap is what the default scan is meant to find.
"""

from __future__ import annotations

import re

from redline.demo.data import ADMIN_CODE, CANARY, CUSTOMERS

MAX_INPUT_CHARS = 6000

BLOCKED_INPUT = [
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("override", r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|rules|prompt|above)\b"),
        ("extraction", r"\b(system prompt|your (instructions|rules|prompt)|initial prompt|"
                       r"text above|verbatim|api key|override code|secret key|password)\b"),
        ("persona", r"\b(DAN|do anything now|developer mode|jailbreak|unfiltered|no restrictions"
                    r"|without (any )?(rules|restrictions|filters))\b"),
        ("role_tags", r"(<\|im_start\|>|<\|system\|>|\[/?INST\]|</s>|^\s*system\s*:)"),
        ("weapons", r"\b(bomb|explosive|detonat\w*|nerve agent|gunpowder|firearm|ammunition)\b"),
        ("cyber", r"\b(malware|ransomware|keylogger|exploit|ddos|botnet|phishing|credential)\b"),
        ("drugs", r"\b(methamphetamine|meth|fentanyl|cocaine|heroin|synthesi[sz]e)\b"),
        ("harm", r"\b(kill (myself|someone|him|her|them)|suicide|self-harm|poison (someone|him|"
                 r"her)|stalk\w*|dox\w*|home address of)\b"),
        ("hate", r"\b(racist|inferior race|slur)\b"),
        ("other_customers", r"\b(all customers|customer (list|records|database)|every customer|"
                            r"other customers?)\b"),
    )
]


def check_input(text: str) -> tuple[str, str] | None:
    """Return (rule, matched text) if the message must be blocked, else None."""
    if len(text) > MAX_INPUT_CHARS:
        return "length", f"{len(text)} characters"
    for name, pattern in BLOCKED_INPUT:
        m = pattern.search(text)
        if m:
            return name, m.group(0)
    return None


def _protected_values() -> list[str]:
    values = [CANARY, ADMIN_CODE]
    for c in CUSTOMERS:
        values.extend(v for k, v in c.items() if k in ("email", "phone", "card", "iban"))
    return values


PROTECTED = [(v, re.compile(re.escape(v), re.IGNORECASE)) for v in _protected_values()]
SCRIPT = re.compile(r"<\s*script|javascript:|\bon(error|load)\s*=", re.IGNORECASE)
PROMPT_ECHO = re.compile(r"you are acmebot|customer records \(confidential\)", re.IGNORECASE)


def filter_output(text: str) -> tuple[str, list[str]]:
    """Redact protected values written out verbatim; block scripts and prompt echoes.

    Returns the text to show and the list of actions taken ("redact:...", "block:...").
    """
    if SCRIPT.search(text):
        return "", ["block:script"]
    if PROMPT_ECHO.search(text):
        return "", ["block:prompt_echo"]
    actions = []
    for value, pattern in PROTECTED:
        if pattern.search(text):
            text = pattern.sub("[REDACTED]", text)
            actions.append(f"redact:{value[:4]}…")
    return text, actions
