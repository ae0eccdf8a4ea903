"""Patch validation: a baseline run against a candidate run, attempt by attempt.

Attempts are matched by attempt id (a digest of scenario, version, input, mutator chain
and run seed), so two runs on the same seed share every attempt of an unchanged scenario.
Matched attempts are tested with exact McNemar; scenarios with no matched attempts fall
back to Fisher's exact test on the two runs' totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redline.gate.evidence import (
    Counts,
    PairCounts,
    RunEvidence,
    paired_counts,
    transition_examples,
)
from redline.gate.stats import TestResult, fisher_two_proportions, mcnemar_exact
from redline.store import Store


@dataclass
class Transitions:
    fixed: int = 0  # fail -> pass
    still_failing: int = 0  # fail -> fail
    newly_failing: int = 0  # pass -> fail
    still_passing: int = 0  # pass -> pass
    errored: int = 0  # matched, but an error on either side
    unclear: int = 0  # matched, no error, but an unclear verdict on either side
    only_baseline: int = 0
    only_candidate: int = 0

    @classmethod
    def from_pairs(cls, pairs: PairCounts, base: Counts, cand: Counts) -> Transitions:
        judged = {("fail", "pass"), ("fail", "fail"), ("pass", "fail"), ("pass", "pass")}
        return cls(
            fixed=pairs.get("fail", "pass"), still_failing=pairs.get("fail", "fail"),
            newly_failing=pairs.get("pass", "fail"), still_passing=pairs.get("pass", "pass"),
            errored=sum(n for k, n in pairs.table.items()
                        if (k not in judged and "unclear" not in k) or "error" in k),
            unclear=sum(n for k, n in pairs.table.items()
                        if "unclear" in k and "error" not in k),
            only_baseline=base.attempts - pairs.shared, only_candidate=cand.attempts - pairs.shared,
        )

    @property
    def paired(self) -> int:
        return self.fixed + self.still_failing + self.newly_failing + self.still_passing

    def __iadd__(self, other: Transitions) -> Transitions:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def regression_test(t: Transitions, base: Counts, cand: Counts) -> TestResult | None:
    """Paired when the runs share judged attempts, otherwise two independent proportions."""
    if t.paired:
        return mcnemar_exact(t.still_failing, t.fixed, t.newly_failing, t.still_passing)
    if base.judged and cand.judged:
        return fisher_two_proportions(base.failures, base.judged, cand.failures, cand.judged)
    return None


@dataclass
class UnitComparison:
    """One scenario or one category, in both runs."""

    name: str
    category: str
    severity: str | None
    base: Counts
    cand: Counts
    transitions: Transitions
    test: TestResult | None
    newly_failing_ids: list[str] = field(default_factory=list)
    fixed_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "category": self.category, "severity": self.severity,
            "baseline": {**self.base.to_dict(), "failure_rate": round(self.base.failure_rate, 4)},
            "candidate": {**self.cand.to_dict(), "failure_rate": round(self.cand.failure_rate, 4)},
            "transitions": self.transitions.to_dict(),
            "test": self.test.to_dict() if self.test else None,
            "newly_failing_attempts": self.newly_failing_ids, "fixed_attempts": self.fixed_ids,
        }


@dataclass
class Comparison:
    baseline: RunEvidence
    candidate: RunEvidence
    scenarios: dict[str, UnitComparison]
    categories: dict[str, UnitComparison]

    @property
    def same_seed(self) -> bool:
        return self.baseline.run.seed == self.candidate.run.seed

    @property
    def totals(self) -> Transitions:
        total = Transitions()
        for u in self.scenarios.values():
            total += u.transitions
        return total

    def with_tests(self, scenarios: dict[str, TestResult | None],
                   categories: dict[str, TestResult | None]) -> Comparison:
        """A copy with replaced tests (e.g. p-values adjusted for multiple comparisons)."""
        def swap(units: dict[str, UnitComparison],
                 tests: dict[str, TestResult | None]) -> dict[str, UnitComparison]:
            return {k: UnitComparison(**{**u.__dict__, "test": tests.get(k, u.test)})
                    for k, u in units.items()}
        return Comparison(self.baseline, self.candidate, swap(self.scenarios, scenarios),
                          swap(self.categories, categories))

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_run": self.baseline.run.id, "candidate_run": self.candidate.run.id,
            "same_seed": self.same_seed, "totals": self.totals.to_dict(),
            "categories": {k: u.to_dict() for k, u in self.categories.items()},
            "scenarios": {k: u.to_dict() for k, u in self.scenarios.items()},
        }


def compare_runs(store: Store, baseline: RunEvidence, candidate: RunEvidence) -> Comparison:
    pairs = paired_counts(store, baseline.run.id, candidate.run.id)
    broken = transition_examples(store, baseline.run.id, candidate.run.id, "pass", "fail")
    fixed = transition_examples(store, baseline.run.id, candidate.run.id, "fail", "pass")
    scenarios: dict[str, UnitComparison] = {}
    for sid in sorted(set(baseline.counts) | set(candidate.counts)):
        meta = candidate.scenarios.get(sid) or baseline.scenarios[sid]
        b = baseline.counts.get(sid, Counts())
        c = candidate.counts.get(sid, Counts())
        t = Transitions.from_pairs(pairs.get(sid, PairCounts()), b, c)
        scenarios[sid] = UnitComparison(sid, meta.category, meta.severity, b, c, t,
                                        regression_test(t, b, c), broken.get(sid, []),
                                        fixed.get(sid, []))
    categories: dict[str, UnitComparison] = {}
    for u in scenarios.values():
        cat = categories.setdefault(u.category, UnitComparison(
            u.category, u.category, None, Counts(), Counts(), Transitions(), None))
        cat.base += u.base
        cat.cand += u.cand
        cat.transitions += u.transitions
    for cat in categories.values():
        cat.test = regression_test(cat.transitions, cat.base, cat.cand)
    return Comparison(baseline, candidate, scenarios, dict(sorted(categories.items())))
