"""What a gate decision says: its reasons, per-scenario rows, verdict and exit code.

The verdict is the most severe action any reason asks for (rollback > block > hold >
warn); with no reason at all the run is approved. Warnings alone approve, with warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redline import __version__
from redline.gate.evidence import Counts
from redline.gate.policy_schema import ACTION_RANK, Action
from redline.gate.stats import TestResult
from redline.store import utc_now

VERDICTS = ("approve", "approve-with-warnings", "hold", "block", "rollback")
_VERDICT_OF_ACTION = {"warn": "approve-with-warnings", "hold": "hold", "block": "block",
                      "rollback": "rollback"}


@dataclass
class Reason:
    """One thing the gate found, the action the policy maps it to, and what it saw."""

    kind: str  # breach | error_rate | regression | inconclusive | missing | incomplete
    level: str  # scenario | category | run
    subject: str
    action: Action
    message: str
    rule: str  # file:line of the policy setting that chose the action
    severity: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "level": self.level, "subject": self.subject,
                "action": self.action.kind, "action_target": self.action.target,
                "message": self.message, "rule": self.rule, "severity": self.severity,
                "evidence": self.evidence}


@dataclass
class ScenarioRow:
    """Per-scenario evidence shown in every report, whether or not it gave a reason."""

    id: str
    category: str
    severity: str
    status: str  # pass | breach | regression | inconclusive | error_rate
    counts: Counts
    threshold: float
    failure: dict[str, Any]
    error: dict[str, Any]
    test: TestResult | None
    owner: str
    corrected: dict[str, Any] | None = None  # the failure rate corrected for judge error

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "severity": self.severity,
                "status": self.status, **self.counts.to_dict(), "threshold": self.threshold,
                "failure_rate": self.failure, "error_rate": self.error,
                "corrected_failure_rate": self.corrected,
                "test": self.test.to_dict() if self.test else None, "owner": self.owner}


@dataclass
class Decision:
    verdict: str
    reasons: list[Reason]
    run: dict[str, Any]
    baseline: dict[str, Any] | None
    scenarios: list[ScenarioRow]
    categories: dict[str, dict[str, Any]]
    total: dict[str, Any]
    policy: dict[str, Any]
    comparison: dict[str, Any] | None
    benign: dict[str, Any]
    rollback_to: str | None = None
    hold_flags: list[str] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)  # labels that override
    judges: dict[str, dict[str, Any]] = field(default_factory=dict)  # measured accuracy
    created_at: str = field(default_factory=utc_now)

    @property
    def exit_code(self) -> int:
        """0 approve (with or without warnings), 1 block / rollback / hold."""
        return 0 if self.verdict in ("approve", "approve-with-warnings") else 1

    @property
    def approved(self) -> bool:
        return self.exit_code == 0

    def blocking(self) -> list[Reason]:
        return [r for r in self.reasons if r.action.kind != "warn"]

    def warnings(self) -> list[Reason]:
        return [r for r in self.reasons if r.action.kind == "warn"]

    def headline(self) -> str:
        extra = ""
        if self.verdict == "rollback":
            extra = f" to {self.rollback_to}" if self.rollback_to else ""
        elif self.verdict == "hold" and self.hold_flags:
            extra = f" (pause {', '.join(self.hold_flags)})"
        n_block, n_warn = len(self.blocking()), len(self.warnings())
        return (f"{self.verdict.upper()}{extra}: {n_block} blocking reason(s), "
                f"{n_warn} warning(s)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "redline_version": __version__, "created_at": self.created_at,
            "verdict": self.verdict, "exit_code": self.exit_code, "headline": self.headline(),
            "rollback_to": self.rollback_to, "hold_flags": self.hold_flags,
            "run": self.run, "baseline": self.baseline, "policy": self.policy,
            "reasons": [r.to_dict() for r in self.reasons], "total": self.total,
            "categories": self.categories, "benign": self.benign,
            "scenarios": [s.to_dict() for s in self.scenarios],
            "comparison": self.comparison,
            "reviews": self.reviews, "judges": self.judges,
        }


def verdict_of(reasons: list[Reason]) -> str:
    if not reasons:
        return "approve"
    worst = max(reasons, key=lambda r: ACTION_RANK[r.action.kind])
    return _VERDICT_OF_ACTION[worst.action.kind]
