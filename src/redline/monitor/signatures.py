"""Attack signatures, and matching logged prompts against them after normalisation and decoding.

A signature is the user-side text of an attack: every seed input of the catalog's attack
scenarios (those that expect a refusal or safe output, not benign controls), every attempt
those scenarios expand to (so the wrappers — a DAN persona, a many-shot stuffing — are
signatures too), and the user-side text of every failing attempt stored in past runs. Each
names its scenario and the run that first found the scenario failing (None if no stored run
has).

Matching: texts are folded (NFKC, look-alike letters to Latin, zero-width characters out,
lower case: the leak detectors' `fold`) and cut into word 3-grams. A prompt is also read in
its decoded views — base64, rot13 and leetspeak (the compliance detector's `decoded_views`),
hex, reversed text and spaced-out letters — and a view matches a signature when it holds at
least `min_containment` (0.7) of the signature's 3-grams. Signatures of fewer than 6 words
are left out (they would match ordinary traffic), and so are the worst-case-input scenarios
(odd text, not attacks).
"""

from __future__ import annotations

import binascii
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from redline.plugins.detectors.decoders import decoded_views
from redline.plugins.detectors.folding import fold

NGRAM = 3
MIN_WORDS = 6
MIN_CONTAINMENT = 0.7
MAX_CHARS = 20_000
_WORD = re.compile(r"[^\W_]+")
_HEX = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){8,}(?![0-9a-fA-F])")
_SPACED = re.compile(r"(?:\b\w[ .\-_]){5,}\w\b")
BENIGN_EXPECTED = frozenset({"comply"})
NOT_ATTACKS = frozenset({"benign_control", "worst_case_input"})


@dataclass(frozen=True, slots=True)
class Signature:
    scenario_id: str
    scenario_version: int
    category: str
    severity: str
    source: str  # catalog | finding
    text: str
    expected: str = "refuse"
    first_run: str | None = None
    attempt_id: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    signature: Signature
    containment: float
    view: str
    size: int = 0

    def to_dict(self) -> dict[str, Any]:
        s = self.signature
        return {"scenario_id": s.scenario_id, "scenario_version": s.scenario_version,
                "category": s.category, "severity": s.severity, "source": s.source,
                "first_run": s.first_run, "attempt_id": s.attempt_id,
                "containment": round(self.containment, 3), "view": self.view}


def grams(text: str) -> set[int]:
    words = _WORD.findall(fold(text[:MAX_CHARS]))
    return {hash(tuple(words[i:i + NGRAM])) for i in range(len(words) - NGRAM + 1)}


def _hex_text(text: str) -> str | None:
    out = []
    for token in _HEX.findall(text):
        try:
            decoded = binascii.unhexlify(token).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded.isprintable() and " " in decoded:
            out.append(decoded)
    return "\n".join(out) or None


def views(text: str) -> Iterator[tuple[str, str]]:
    """(name, text) for the prompt as written and each way it may be encoded."""
    text = text[:MAX_CHARS]
    yield "plain", text
    yield from decoded_views(text)
    hexed = _hex_text(text)
    if hexed:
        yield "hex", hexed
    spaced = _SPACED.findall(text)
    if spaced:
        yield "spaced", "\n".join(re.sub(r"[ .\-_]", "", s) for s in spaced)
    yield "reversed", text[::-1]


@dataclass
class SignatureIndex:
    min_containment: float = MIN_CONTAINMENT
    signatures: list[Signature] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    index: dict[int, list[int]] = field(default_factory=dict)
    _seen: set[tuple[str, frozenset[int]]] = field(default_factory=set)

    def add(self, sig: Signature) -> bool:
        g = grams(sig.text)
        if len(g) < MIN_WORDS - NGRAM + 1:
            return False
        key = (sig.scenario_id, frozenset(g))
        if key in self._seen:
            return False
        self._seen.add(key)
        i = len(self.signatures)
        self.signatures.append(sig)
        self.sizes.append(len(g))
        for h in g:
            self.index.setdefault(h, []).append(i)
        return True

    def __len__(self) -> int:
        return len(self.signatures)

    def match(self, prompt: str) -> Match | None:
        """The best match over every view of the prompt, or None."""
        best: Match | None = None
        for name, text in views(prompt):
            hits: Counter[int] = Counter()
            for h in grams(text):
                for i in self.index.get(h, ()):
                    hits[i] += 1
            for i, n in hits.items():
                share = n / self.sizes[i]
                if share < self.min_containment:
                    continue
                # the closest match wins, then the most specific (a wrapper and its payload
                # over the payload alone)
                if best is None or (share, self.sizes[i]) > (best.containment, best.size):
                    best = Match(self.signatures[i], share, name, self.sizes[i])
            if best is not None and best.containment >= 0.999:
                break
        return best


def _user_text(attempt: dict[str, Any]) -> str:
    parts = [m["content"] for m in attempt.get("messages", []) if m.get("role") == "user"]
    parts.extend(attempt.get("followups", []))
    return "\n".join(parts)


def catalog_signatures(scenarios: Iterable[Any], first_runs: dict[str, str],
                       seed: int = 0) -> Iterator[Signature]:
    """The seed inputs and expanded attempts of every attack probe scenario."""
    from redline.catalog.schema import Scenario
    from redline.core.attempts import expand

    attacks = [s for s in scenarios if isinstance(s, Scenario)
               and s.expected not in BENIGN_EXPECTED and s.category not in NOT_ATTACKS]
    for s in attacks:
        for item in s.inputs or []:
            if isinstance(item, str):
                yield Signature(s.id, s.version, s.category, s.severity, "catalog", item,
                                s.expected, first_runs.get(s.id))
    expected = {s.id: s.expected for s in attacks}
    for a in expand(attacks, seed):
        yield Signature(a.scenario_id, a.scenario_version, a.category, a.severity, "catalog",
                        _user_text(a.to_dict()), expected[a.scenario_id],
                        first_runs.get(a.scenario_id), a.id)


def finding_signatures(rows: Iterable[tuple[str, int, str, str, str, str, str]],
                       first_runs: dict[str, str]) -> Iterator[Signature]:
    """Failing attempts of past runs:
    (scenario, version, category, severity, expected, run, attempt JSON)."""
    for sid, version, category, severity, expected, run_id, attempt_json in rows:
        attempt = json.loads(attempt_json)
        yield Signature(sid, version, category, severity, "finding", _user_text(attempt),
                        expected, first_runs.get(sid, run_id), attempt.get("id"))
