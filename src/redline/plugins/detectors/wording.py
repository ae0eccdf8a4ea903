"""Words of a request or reply: content words, the request's topic terms, English share."""

from __future__ import annotations

import re

_WORD_RE = re.compile(r"[^\W\d_]{2,}")


def word_set(words: str) -> frozenset[str]:
    """The whitespace-separated words of a literal, as a set."""
    return frozenset(words.split())


STOPWORDS = word_set("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours out over own same she
should so some such than that the their theirs them then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves let lets like make sure okay ok yes well please thanks thank
""")
# Words that frame a request rather than name its topic.
REQUEST_FRAME = word_set("""
explain tell give show write describe provide list detail detailed step steps way ways method
methods need want know help instructions instruction guide exactly exact full complete simple
simply best easiest quick quickly someone something anything thing things possible really get
use using used home without work working working good new one two first also make made making
create story character scene novel fiction pretend imagine roleplay role play act mode answer
question questions respond reply assistant ai model user dan developer grandma grandmother
""")

_ENGLISH_HINTS = word_set("the and to of is you that it for in with this are on be your")


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def stem(word: str) -> str:
    return word[:5]


def topic_terms(text: str) -> set[str]:
    return {stem(w) for w in words(text) if w not in STOPWORDS and w not in REQUEST_FRAME}


def english_share(ws: list[str]) -> float:
    return sum(w in _ENGLISH_HINTS for w in ws) / len(ws) if ws else 0.0
