"""Keyword retrieval over the bundled knowledge base (a stand-in for a vector store)."""

from __future__ import annotations

import re
from collections import Counter

from redline.demo.data import KNOWLEDGE_BASE, Document

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if t not in STOPWORDS and len(t) > 2]


_INDEX = [(doc, Counter(tokens(doc.title + " " + doc.text))) for doc in KNOWLEDGE_BASE]


def retrieve(query: str, k: int = 2) -> list[Document]:
    """The k documents sharing most query terms (ties broken by document order)."""
    terms = set(tokens(query))
    scored = []
    for i, (doc, counts) in enumerate(_INDEX):
        score = sum(counts[t] for t in terms)
        if score:
            scored.append((-score, i, doc))
    return [doc for _, _, doc in sorted(scored)[:k]]
