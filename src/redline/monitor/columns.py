"""What the monitor measures on each record: one row of named values per record.

Chat records give `prompt_chars` and `reply_chars` (numeric), `language` and `topic`
(categorical), and one rate column per reply detector: `refused` (the refusal detector) and
`hit:NAME` for each leak detector that ran (pii, exfiltration, error_leak; system_prompt_leak
when the record logs its system prompt; canary_leak when canaries are configured). A record's
own `language` / `topic` fields win over the guesses below.

language: the script of the prompt's letters (cyrillic, arabic, cjk...), and for Latin script
the language whose common words it uses most (en, es, fr, de, it, pt, nl), else `latin`.
topic: the reference window's most frequent content words (document frequency) form a
vocabulary (words in more than half of the prompts are left out); a prompt's topic is its
word that was most frequent in the reference, or `other`. A shift in what users ask
about shows up as a change in that mix.

Classifier records give each feature (numeric when every reference value is a number, else
categorical), `prediction` (categorical) and `score` (numeric).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from redline.catalog.schema import DetectorSpec
from redline.core.judging import detect
from redline.core.models import Attempt, Message, Verdict
from redline.monitor.logs import ChatRecord, ClassifierRecord, Record
from redline.plugins.detectors import DetectionContext

ColumnKind = Literal["numeric", "categorical", "rate"]
Value = float | str | bool | None
Row = dict[str, Value]

LEAK_DETECTORS = ("pii", "exfiltration", "error_leak")
TOPIC_WORDS = 24
MAX_DF = 0.5
_WORD = re.compile(r"[^\W\d_]{4,}")
_LATIN_WORD = re.compile(r"[a-zà-ÿ]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP = {
    "en": _words("the and you that with this have for are what how can please about your from"),
    "es": _words("el la los las que de por para una con como del pero qué cómo es"),
    "fr": _words("le la les des est une que pour dans avec pas vous qui sur comment"),
    "de": _words("der die das und ist nicht ich sie mit ein eine für wie auf sich"),
    "it": _words("il che di per una sono non con gli della come anche questo"),
    "pt": _words("o os que de não uma com para por como mais você é do da"),
    "nl": _words("de het een en van ik je niet dat is op met voor zijn hoe"),
}
_STOPSETS = _STOP
_ALL_STOP = frozenset().union(*_STOPSETS.values())
_SCRIPTS = (  # (first code point, last, script) for the scripts that name their language set
    (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0900, 0x097F, "devanagari"), (0x0E00, 0x0E7F, "thai"),
    (0x3040, 0x30FF, "japanese"), (0xAC00, 0xD7AF, "korean"), (0x4E00, 0x9FFF, "cjk"),
)


_SCRIPT_RES = [(name, re.compile(f"[{chr(lo)}-{chr(hi)}]")) for lo, hi, name in _SCRIPTS]
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


def guess_language(text: str) -> str:
    """A coarse language label for `text` (see the module doc); `none` without letters."""
    sample = text[:2000]
    latin = len(_LATIN_LETTER.findall(sample))
    scripts = {} if sample.isascii() else {
        name: n for name, rx in _SCRIPT_RES if (n := len(rx.findall(sample)))}
    if not scripts and not latin:
        return "none"
    if scripts:
        top = max(scripts, key=lambda k: scripts[k])
        if scripts[top] > latin:
            return "japanese" if top == "cjk" and scripts.get("japanese") else top
    words = _LATIN_WORD.findall(sample.lower())
    votes = {lang: sum(w in stop for w in words) for lang, stop in _STOPSETS.items()}
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else "latin"


def content_words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKC", text[:4000]).lower()
    return {w for w in _WORD.findall(folded) if w not in _ALL_STOP}


@dataclass
class TopicVocabulary:
    """The reference window's most frequent content words, by rank."""

    rank: dict[str, int] = field(default_factory=dict)

    @classmethod
    def learn(cls, prompts: Iterable[str], size: int = TOPIC_WORDS) -> TopicVocabulary:
        df: Counter[str] = Counter()
        n = 0
        for p in prompts:
            df.update(content_words(p))
            n += 1
        # a word in most prompts ("help", a product name) says nothing about the topic
        common = [(w, k) for w, k in df.items() if 2 <= k <= n * MAX_DF]
        top = sorted(common, key=lambda kv: (-kv[1], kv[0]))[:size]
        return cls({w: i for i, (w, _) in enumerate(top)})

    def topic(self, text: str) -> str:
        hits = [self.rank[w] for w in content_words(text) if w in self.rank]
        if not hits:
            return "other"
        best = min(hits)
        return self._words[best]

    def __post_init__(self) -> None:
        self._words = {r: w for w, r in self.rank.items()}


@functools.cache
def _specs(system_prompt: bool, canaries: bool) -> list[DetectorSpec]:
    names = ["refusal", *LEAK_DETECTORS]
    if system_prompt:
        names.append("system_prompt_leak")
    if canaries:
        names.append("canary_leak")
    return [DetectorSpec(name=n) for n in names]


@dataclass
class ReplyJudge:
    """Runs the reply detectors through the one judge's `detect`."""

    canaries: tuple[str, ...] = ()

    def specs(self, record: ChatRecord) -> list[DetectorSpec]:
        return _specs(bool(record.system_prompt), bool(self.canaries))

    def context(self, record: ChatRecord) -> DetectionContext:
        messages = [Message("user", record.prompt)]
        if record.system_prompt:
            messages.insert(0, Message("system", record.system_prompt))
        attempt = Attempt(id=record.id or record.where, seq=0, scenario_id="production",
                          scenario_version=0, category="production", severity="high",
                          input_index=0, chain=(), messages=tuple(messages),
                          canaries=self.canaries, original=record.prompt)
        return DetectionContext(attempt, canaries=self.canaries,
                                system_prompt=record.system_prompt)

    async def verdicts(self, record: ChatRecord) -> tuple[list[Verdict], str | None]:
        if record.response is None or not record.response.strip():
            return [], None
        return await detect([record.response], self.specs(record), self.context(record))


def verdict_row(verdicts: Sequence[Verdict]) -> Row:
    row: Row = {}
    for v in verdicts:
        if v.evidence.get("unavailable"):
            continue
        key = "refused" if v.detector == "refusal" else f"hit:{v.detector}"
        row[key] = bool(v.detected)
    return row


def chat_row(record: ChatRecord, vocab: TopicVocabulary, verdicts: Sequence[Verdict]) -> Row:
    row: Row = {
        "prompt_chars": float(len(record.prompt)),
        "reply_chars": None if record.response is None else float(len(record.response)),
        "language": record.language or guess_language(record.prompt),
        "topic": record.topic or vocab.topic(record.prompt),
    }
    row.update(verdict_row(verdicts))
    return row


def classifier_row(record: ClassifierRecord) -> Row:
    row: Row = dict(record.features)
    if record.prediction is not None:
        row["prediction"] = str(record.prediction)
    if record.score is not None:
        row["score"] = record.score
    return row


def column_kinds(rows: Sequence[Row], record_kind: str) -> dict[str, ColumnKind]:
    """Each column's kind, from the reference rows."""
    seen: dict[str, set[type]] = {}
    for row in rows:
        for name, value in row.items():
            if value is not None:
                seen.setdefault(name, set()).add(type(value))
    kinds: dict[str, ColumnKind] = {}
    for name, types in seen.items():
        if name == "prediction":
            kinds[name] = "categorical"
        elif types == {bool} and record_kind == "chat":
            kinds[name] = "rate"
        elif types <= {int, float}:
            kinds[name] = "numeric"
        else:
            kinds[name] = "categorical"
    return kinds


def row_of(record: Record, vocab: TopicVocabulary, verdicts: Sequence[Verdict]) -> Row:
    if isinstance(record, ChatRecord):
        return chat_row(record, vocab, verdicts)
    return classifier_row(record)


def column_values(rows: Iterable[Row], name: str, kind: ColumnKind) -> list[Any]:
    """The column's usable values: numbers for numeric, labels for categorical, bools."""
    out: list[Any] = []
    for row in rows:
        v = row.get(name)
        if v is None:
            continue
        if kind == "numeric":
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append(float(v))
        elif kind == "rate":
            if isinstance(v, bool):
                out.append(v)
        else:
            out.append(str(v).lower() if isinstance(v, bool) else str(v))
    return out
