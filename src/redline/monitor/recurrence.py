"""Recurrences: logged prompts that match a known attack, and replies the detectors flag.

Every chat record's prompt is matched against the signature index. A match is a recurrence of
the signature's scenario; its reply is judged with `harmful_compliance` when the scenario
must be refused (did the attack get through this time?), beside the reply detectors every
record already went through (leaks, PII, exfiltration). A reply those detectors flag on a
prompt that matches nothing is kept too, as a detector hit without a scenario.

Each hit becomes a row for the store (`Store.add_production_hits`): where it was logged, the
scenario and the run that first found it, how it matched, and whether the reply was unsafe.
The key is a digest of where and what was logged, so reading the same log twice stores
nothing twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redline.catalog.schema import DetectorSpec
from redline.core.judging import detect
from redline.monitor.columns import ReplyJudge
from redline.monitor.logs import ChatRecord
from redline.monitor.signatures import (
    MIN_CONTAINMENT,
    Match,
    SignatureIndex,
    catalog_signatures,
    finding_signatures,
)
from redline.monitor.watch import Seen

KEEP = 50
EXCERPT = 500
MUST_REFUSE = frozenset({"refuse"})


def hit_key(record: ChatRecord) -> str:
    h = hashlib.sha256()
    for part in (record.where, record.id or "", record.prompt, record.response or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _flagged(verdicts: list[Any]) -> list[str]:
    return [v.detector for v in verdicts
            if v.detected and v.detector != "refusal" and not v.evidence.get("unavailable")]


@dataclass
class Recurrences:
    index: SignatureIndex
    judge: ReplyJudge
    sink: Callable[[list[dict[str, Any]]], None] | None = None
    count: int = 0
    unsafe: int = 0
    detector_hits: int = 0
    first_at: int | None = None
    by_scenario: Counter[str] = field(default_factory=Counter)
    kept: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, seen: Seen) -> None:
        record = seen.record
        if not isinstance(record, ChatRecord):
            return
        match = self.index.match(record.prompt)
        flagged = _flagged(seen.verdicts)
        if match is None and not flagged:
            return
        if match is not None:
            flagged += await self._got_through(record, match)
        row = self._row(seen.index, record, match, flagged)
        if match is not None:
            self.count += 1
            self.by_scenario[match.signature.scenario_id] += 1
            if self.first_at is None:
                self.first_at = seen.index
            self.unsafe += bool(flagged)
        else:
            self.detector_hits += 1
        if len(self.kept) < KEEP:
            self.kept.append(row)
        self.pending.append(row)
        if len(self.pending) >= 256:
            self.flush()

    async def _got_through(self, record: ChatRecord, match: Match) -> list[str]:
        if match.signature.expected not in MUST_REFUSE or not (record.response or "").strip():
            return []
        verdicts, problem = await detect([record.response or ""],
                                         [DetectorSpec(name="harmful_compliance")],
                                         self.judge.context(record))
        if problem:
            return ["harmful_compliance:error"]
        return [v.detector for v in verdicts if v.detected]

    def _row(self, index: int, record: ChatRecord, match: Match | None,
             flagged: list[str]) -> dict[str, Any]:
        sig = match.to_dict() if match else {}
        return {
            "key": hit_key(record), "at_record": index, "location": record.where,
            "logged_at": record.ts, "scenario_id": sig.get("scenario_id"),
            "scenario_version": sig.get("scenario_version"), "first_run": sig.get("first_run"),
            "source": sig.get("source", "detector"), "view": sig.get("view"),
            "containment": sig.get("containment"), "severity": sig.get("severity"),
            "unsafe": int(bool(flagged)), "detectors": flagged,  # 0/1: an INTEGER column
            "prompt": record.prompt[:EXCERPT], "reply": (record.response or "")[:EXCERPT],
        }

    def flush(self) -> None:
        if self.sink is not None and self.pending:
            self.sink(self.pending)
        self.pending = []

    def report(self) -> dict[str, Any]:
        return {"signatures": len(self.index), "count": self.count, "unsafe": self.unsafe,
                "detector_hits": self.detector_hits, "first_at_record": self.first_at,
                "by_scenario": dict(self.by_scenario.most_common()), "hits": self.kept}


def build_index(scenarios: list[Any], store: Any | None,
                min_containment: float = MIN_CONTAINMENT) -> SignatureIndex:
    """Signatures of the given catalog scenarios and of every failing attempt in the store."""
    first = store.first_failing_runs() if store is not None else {}
    index = SignatureIndex(min_containment)
    for sig in catalog_signatures(scenarios, first):
        index.add(sig)
    if store is not None:
        for sig in finding_signatures(store.failing_attempts(), first):
            index.add(sig)
    return index
