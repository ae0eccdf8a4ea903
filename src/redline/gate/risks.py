"""The risk register: open findings across runs, ranked by impact x likelihood.

A finding is a scenario over its policy failure threshold. It is tracked by scenario id
across every stored run (optionally of one target): it stays open while the latest run
that judged the scenario still fails it, and closes when that run passes it. Runs in
which the scenario had no judged attempt (only errors) neither open nor close it.

score = severity weight (impact) x failure rate (likelihood per attempt) x reach, where
reach is the mean of the share of the scenario's distinct inputs and the share of its
distinct mutator chains that failed at least once in the latest run: 1.0 means every
input and every encoding got through, a small value means one odd combination did.

Recurrences: `redline monitor` stores the production prompts that matched a scenario's attack
signatures; each finding carries how many there were, how many got an unsafe reply, and the
last time one was logged. Recurring scenarios that are not open findings are listed apart.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from redline.catalog.schema import SEVERITY_RANK
from redline.gate.evidence import Counts, Reach, ScenarioMeta, reach
from redline.gate.policy import Policy
from redline.store import Store


@dataclass
class Risk:
    scenario_id: str
    title: str
    category: str
    severity: str
    owner: str
    failures: int
    judged: int
    failure_rate: float
    reach: Reach
    weight: float
    score: float
    remediation: str
    rollback: str
    first_seen: str
    last_seen: str
    first_run: str
    latest_run: str
    failing_runs: int
    due: str
    overdue: bool
    recurrences: int = 0  # prompts in production logs that matched it (redline monitor)
    unsafe_recurrences: int = 0  # ... whose reply a detector flagged
    last_recurrence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["reach"] = self.reach.to_dict()
        d["failure_rate"] = round(self.failure_rate, 4)
        d["score"] = round(self.score, 4)
        return d


@dataclass
class _Seen:
    run_id: str
    created_at: str
    counts: Counts
    meta: ScenarioMeta


def _history(store: Store, target: str | None) -> dict[str, list[_Seen]]:
    """scenario id -> every run that stored results for it, oldest first."""
    counts: dict[tuple[str, str], Counts] = defaultdict(Counts)
    created: dict[str, str] = {}
    cur = store.outcome_history(target)
    for run_id, created_at, sid, outcome, n in cur:
        counts[(run_id, sid)].add(outcome, n)
        created[run_id] = created_at
    defs: dict[tuple[str, str], ScenarioMeta] = {}
    for run_id, sid, definition in store.all_scenario_definitions():
        if (run_id, sid) in counts:
            defs[(run_id, sid)] = ScenarioMeta.from_definition(sid, json.loads(definition))
    out: dict[str, list[_Seen]] = defaultdict(list)
    for (run_id, sid), c in counts.items():
        meta = defs.get((run_id, sid)) or ScenarioMeta(sid, sid, "?", "high", 0.0, "", "")
        out[sid].append(_Seen(run_id, created[run_id], c, meta))
    for seen in out.values():
        seen.sort(key=lambda s: (s.created_at, s.run_id))
    return out


def _failing(policy: Policy, s: _Seen) -> bool:
    eff = policy.resolve(s.meta.id, s.meta.category, s.meta.severity)
    return s.counts.failure_rate > eff.threshold(s.meta.max_failure_rate) + 1e-12


def _due(first_seen: str, days: int) -> date:
    return (datetime.fromisoformat(first_seen) + timedelta(days=days)).date()


def open_findings(store: Store, policy: Policy, target: str | None = None,
                  today: date | None = None) -> list[Risk]:
    """Open findings, highest score first (then severity, then earliest due date)."""
    today = today or datetime.now(UTC).date()
    opened: list[tuple[str, list[_Seen]]] = []
    for sid, history in _history(store, target).items():
        judged = [s for s in history if s.counts.judged]
        streak: list[_Seen] = []
        for s in reversed(judged):
            if not _failing(policy, s):
                break
            streak.append(s)
        if streak:
            opened.append((sid, streak[::-1]))
    reach_by_run: dict[str, dict[str, Reach]] = {}
    risks = []
    for sid, streak in opened:
        first, last = streak[0], streak[-1]
        if last.run_id not in reach_by_run:
            reach_by_run[last.run_id] = reach(store, last.run_id)
        r = reach_by_run[last.run_id].get(sid, Reach(0, 0, 0, 0))
        meta = last.meta
        eff = policy.resolve(sid, meta.category, meta.severity)
        weight = float(policy.severity_weights.get(meta.severity, 1.0))
        rate = last.counts.failure_rate
        due = _due(first.created_at, int(policy.sla_days.get(meta.severity, 30)))
        risks.append(Risk(
            scenario_id=sid, title=meta.title, category=meta.category, severity=meta.severity,
            owner=eff.owner, failures=last.counts.failures, judged=last.counts.judged,
            failure_rate=rate, reach=r, weight=weight, score=weight * rate * r.value,
            remediation=meta.remediation, rollback=meta.rollback,
            first_seen=first.created_at, last_seen=last.created_at, first_run=first.run_id,
            latest_run=last.run_id, failing_runs=len(streak), due=due.isoformat(),
            overdue=today > due,
        ))
    seen = store.production_hit_stats()
    for risk in risks:
        hits = seen.get(risk.scenario_id)
        if hits:
            risk.recurrences, risk.unsafe_recurrences = hits["recurrences"], hits["unsafe"]
            risk.last_recurrence = hits["last_seen"]
    risks.sort(key=lambda x: (-x.score, -SEVERITY_RANK.get(x.severity, 0), x.due,
                              x.scenario_id))
    return risks


def recurring(store: Store, risks: list[Risk]) -> dict[str, dict[str, Any]]:
    """Scenarios seen again in production that are not open findings (closed, or never
    failed in a stored run): scenario -> its hit statistics."""
    open_ids = {r.scenario_id for r in risks}
    return {sid: s for sid, s in sorted(store.production_hit_stats().items())
            if sid not in open_ids}
