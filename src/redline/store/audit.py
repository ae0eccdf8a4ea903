"""The audit chain: every stored record of a run hashed into an append-only SHA-256 chain.

A record is a flat mapping of named fields (a results row, the run's fixed columns, a finish
event, a gate decision). Its digest is SHA-256 over the canonical JSON of its per-field
digests, so a redacted copy that ships a field's original digest instead of its value still
verifies against the chain of the original. Each link hashes the previous link's hash, its
position, kind, reference, timestamp and the record digest; editing, deleting, inserting or
reordering any record breaks the chain at that record.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

GENESIS = "0" * 64


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)
_STR = json.encoder.encode_basestring  # what that encoder writes for a str


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8, no NaN. Text, numbers
    and null (most stored fields) are written directly, as the encoder would."""
    kind = type(value)
    if kind is str:
        text = _STR(value)
    elif kind is int:
        text = int.__repr__(value)
    elif kind is float and math.isfinite(value):
        text = float.__repr__(value)
    elif value is None:
        text = "null"
    else:
        text = _CANONICAL.encode(value)
    return text.encode("utf-8", "surrogatepass")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def field_digests(record: Mapping[str, Any]) -> dict[str, str]:
    return {key: sha256(canonical(value)) for key, value in record.items()}


def record_digest(record: Mapping[str, Any], given: Mapping[str, str] | None = None) -> str:
    """Digest of a record; `given` supplies original digests for fields shipped redacted."""
    digests = field_digests({k: v for k, v in record.items() if not given or k not in given})
    if given:
        digests.update(given)
    return sha256(canonical(digests))


def plan_digest(attempt_ids: Iterable[str]) -> tuple[int, str]:
    """(count, SHA-256) of a run's planned attempt ids in plan order, streamed."""
    h, n = hashlib.sha256(), 0
    for attempt_id in attempt_ids:
        h.update(attempt_id.encode("utf-8", "surrogatepass") + b"\n")
        n += 1
    return n, h.hexdigest()


@dataclass(frozen=True)
class Link:
    run_id: str
    seq: int
    kind: str
    ref: str
    ts: str
    record_sha256: str
    prev: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def link_hash(prev: str, run_id: str, seq: int, kind: str, ref: str, ts: str,
              record_sha: str) -> str:
    return sha256(canonical([prev, run_id, seq, kind, ref, ts, record_sha]))


def make_link(head: tuple[int, str] | None, run_id: str, kind: str, ref: str, ts: str,
              record_sha: str) -> Link:
    """The next link after `head` (seq, hash); None starts a chain."""
    seq, prev = (head[0] + 1, head[1]) if head else (0, GENESIS)
    return Link(run_id, seq, kind, ref, ts, record_sha, prev,
                link_hash(prev, run_id, seq, kind, ref, ts, record_sha))


@dataclass(frozen=True)
class Problem:
    seq: int | None
    kind: str
    ref: str
    what: str

    def __str__(self) -> str:
        where = f"record #{self.seq} ({self.kind} {self.ref})" if self.seq is not None else (
            f"{self.kind} {self.ref}")
        return f"{where}: {self.what}"


@dataclass(frozen=True)
class Verification:
    run_id: str
    links: int
    head: str | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        return self.problems[0] if self.problems else None


# A record lookup returns (fields, digests of redacted fields) or None when it is missing.
Lookup = Callable[[str, str], tuple[Mapping[str, Any], Mapping[str, str]] | None]


def verify_links(run_id: str, links: Iterable[Link], lookup: Lookup,
                 present: Mapping[str, set[str]]) -> Verification:
    """Check a run's chain against its records.

    `present` maps each record kind to the refs that exist in the store or bundle, so records
    added outside the chain are caught too. Problems are listed in chain order.
    """
    problems: list[Problem] = []
    prev, count, head = GENESIS, 0, None
    seen: dict[str, set[str]] = {}
    for expected_seq, link in enumerate(links):
        count += 1
        if link.seq != expected_seq:
            problems.append(Problem(link.seq, link.kind, link.ref,
                                    f"out of place: expected position {expected_seq} "
                                    "(a record was deleted, inserted or reordered)"))
            prev = link.hash
            continue
        if link.prev != prev:
            problems.append(Problem(link.seq, link.kind, link.ref,
                                    "does not follow the previous record (reordered or spliced)"))
        if link_hash(link.prev, run_id, link.seq, link.kind, link.ref, link.ts,
                     link.record_sha256) != link.hash:
            problems.append(Problem(link.seq, link.kind, link.ref, "chain entry was altered"))
        if link.ref in seen.setdefault(link.kind, set()):
            problems.append(Problem(link.seq, link.kind, link.ref, "recorded twice"))
        seen[link.kind].add(link.ref)
        found = lookup(link.kind, link.ref)
        if found is None:
            problems.append(Problem(link.seq, link.kind, link.ref, "record is missing (deleted)"))
        elif record_digest(found[0], found[1]) != link.record_sha256:
            problems.append(Problem(link.seq, link.kind, link.ref,
                                    "record content does not match its hash (edited)"))
        prev, head = link.hash, link.hash
    for kind, refs in present.items():
        for ref in sorted(refs - seen.get(kind, set())):
            problems.append(Problem(None, kind, ref, "record is not in the chain (inserted)"))
    if count == 0:
        problems.append(Problem(None, "run", run_id, "the run has no audit chain"))
    return Verification(run_id, count, head, tuple(problems))


RUN_STATE = ("status", "finished_at", "summary")


def chained_state(links: Iterable[Link], events: Mapping[str, Mapping[str, Any]]
                  ) -> tuple[dict[str, Any], list[Problem]]:
    """The run state (status, finished_at, summary) its chain implies, and count problems.

    A finish record carries the number of results chained before it, so a chain cut short
    and re-finished, or padded with results, cannot look complete.
    """
    state: dict[str, Any] = {"status": "running", "finished_at": None, "summary": None}
    problems: list[Problem] = []
    results = 0
    for link in links:
        if link.kind == "result":
            results += 1
        elif link.kind in ("finish", "resume"):
            payload = events.get(link.ref) or {}
            if link.kind == "resume":
                state["status"] = "running"
                continue
            state = {key: payload.get(key) for key in RUN_STATE}
            counted = payload.get("results")
            if counted is not None and counted != results:
                problems.append(Problem(link.seq, link.kind, link.ref,
                                        f"finish record counts {counted} results but {results} "
                                        "are chained before it (truncated or padded)"))
    return state, problems


def state_problems(run_id: str, stored: Mapping[str, Any], chained: Mapping[str, Any],
                   planned: int, results: int) -> list[Problem]:
    """Compare the run row's mutable fields with the chain, and its results with its plan."""
    problems = [Problem(None, "run", run_id,
                        f"stored {key} {stored.get(key)!r} differs from the chained "
                        f"{chained.get(key)!r} (edited)")
                for key in RUN_STATE if stored.get(key) != chained.get(key)]
    if results > planned:
        problems.append(Problem(None, "run", run_id,
                                f"{results} results for {planned} planned attempts"))
    elif chained.get("status") == "completed" and results < planned:
        problems.append(Problem(None, "run", run_id,
                                f"completed with {results} of {planned} planned results "
                                "(truncated)"))
    return problems
