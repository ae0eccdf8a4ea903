"""Stopping a whole run early: halt conditions (a policy's `halt:` block) and run budgets.

`Halter.observe` sees each stored result and raises `RunHalted` when the run should stop:
the first critical finding, a finding in a scenario marked as undue risk, a category whose
failure rate (over judged attempts, after `min_attempts`) is over its threshold, or a run
budget reached (target queries, tokens, wall time, estimated cost at the configured prices
per 1000 tokens). The scan stores the run as `halted` with the reason; `redline scan
--resume` continues it (with a fresh budget); the gate treats it as incomplete unless the
policy's `halt: {block: true}` makes a halt on a finding itself a block.
"""

from __future__ import annotations

import fnmatch
import time
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from redline.catalog.schema import Category
from redline.core.errors import RunAborted
from redline.core.models import AttemptResult

Positive = Annotated[float, Field(gt=0)]


class HaltRules(BaseModel):
    """When a run stops early on what it found."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    on_critical_finding: bool = Field(False, description="halt at the first critical failure")
    undue_risk: list[str] = Field(
        default_factory=list, description="scenario id globs: any failure of one halts")
    categories: dict[Category, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="halt when a category's failure rate exceeds this")
    min_attempts: int = Field(5, ge=1, le=1_000_000,
                              description="judged attempts of a category before its rate halts")
    block: bool = Field(False, description="the gate blocks a run halted on a finding (else: "
                        "incomplete, like any unfinished run)")


class Prices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    target: float = Field(0.0, ge=0, description="per 1000 target tokens")
    attacker: float = Field(0.0, ge=0, description="per 1000 attacker tokens")

    def cost(self, target_tokens: int, attacker_tokens: int) -> float:
        return (target_tokens * self.target + attacker_tokens * self.attacker) / 1000


class RunBudget(BaseModel):
    """Caps on a whole run; reaching one halts it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_queries: Annotated[int, Field(ge=1)] | None = Field(None, description="target queries")
    max_tokens: Annotated[int, Field(ge=1)] | None = Field(
        None, description="target + attacker tokens")
    max_seconds: Positive | None = Field(None, description="wall time of this scan")
    max_cost: Positive | None = Field(None, description="estimated cost at `prices`")
    prices: Prices = Prices()


class RunHalted(RunAborted):
    """A halt condition or a run budget stopped the run; `kind` is finding or budget."""

    def __init__(self, kind: Literal["finding", "budget"], reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


def spent(result: AttemptResult) -> tuple[int, int, int]:
    """(target queries, target tokens, attacker tokens) of one attempt."""
    attacker = sum(v.evidence.get("attacker_tokens", 0) for v in result.verdicts
                   if v.detector == "attack")
    return len(result.responses), sum(r.tokens or 0 for r in result.responses), attacker


class Halter:
    def __init__(self, rules: HaltRules | None, budget: RunBudget | None):
        self.rules = rules or HaltRules()
        self.budget = budget or RunBudget()
        self.started = time.monotonic()
        self.judged: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.queries = self.target_tokens = self.attacker_tokens = 0

    @property
    def active(self) -> bool:
        r, b = self.rules, self.budget
        return bool(r.on_critical_finding or r.undue_risk or r.categories or b.max_queries
                    or b.max_tokens or b.max_seconds or b.max_cost)

    def observe(self, result: AttemptResult) -> None:
        """Account one stored result; raise RunHalted when the run must stop."""
        queries, target, attacker = spent(result)
        self.queries += queries
        self.target_tokens += target
        self.attacker_tokens += attacker
        if result.outcome in ("pass", "fail"):
            self.judged[result.attempt.category] += 1
            self.failed[result.attempt.category] += result.outcome == "fail"
        if result.outcome == "fail":
            self._finding(result)
        over = self._over_budget()
        if over is not None:
            raise RunHalted("budget", f"run budget reached: {over}")

    def _finding(self, result: AttemptResult) -> None:
        a, r = result.attempt, self.rules
        if r.on_critical_finding and a.severity == "critical":
            raise RunHalted("finding", f"critical finding in {a.scenario_id} (attempt {a.id})")
        if any(fnmatch.fnmatchcase(a.scenario_id, p) for p in r.undue_risk):
            raise RunHalted("finding", f"finding in {a.scenario_id}, marked as undue risk "
                            f"(attempt {a.id})")
        limit = r.categories.get(a.category)
        judged = self.judged[a.category]
        if limit is not None and judged >= r.min_attempts and \
                self.failed[a.category] / judged > limit:
            raise RunHalted("finding", f"category {a.category}: {self.failed[a.category]}/"
                            f"{judged} judged attempts failed, over {limit:.1%}")

    def _over_budget(self) -> str | None:
        b = self.budget
        tokens = self.target_tokens + self.attacker_tokens
        cost = b.prices.cost(self.target_tokens, self.attacker_tokens)
        checks: list[tuple[Any, float, str]] = [
            (b.max_queries, self.queries, f"{self.queries} target queries"),
            (b.max_tokens, tokens, f"{tokens} tokens"),
            (b.max_seconds, time.monotonic() - self.started, "wall time"),
            (b.max_cost, cost, f"estimated cost {cost:.4f}"),
        ]
        return next((f"{what} (cap {cap})" for cap, value, what in checks
                     if cap is not None and value >= cap), None)
