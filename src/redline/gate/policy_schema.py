"""What a gate policy file may say: rules, actions, metric thresholds, statistics, coverage
and evidence settings (validated with file:line; composed and resolved in `gate.policy`)."""

from __future__ import annotations

import fnmatch
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from redline.catalog.schema import Category, Severity
from redline.core.halting import HaltRules

ActionKind = Literal["block", "rollback", "hold", "warn"]
ACTION_KINDS: tuple[str, ...] = ("block", "rollback", "hold", "warn")
# the verdict is the most severe action any reason asks for
ACTION_RANK: dict[str, int] = {"warn": 1, "hold": 2, "block": 3, "rollback": 4}
SETTINGS = ("max_failure_rate", "max_error_rate", "min_attempts", "max_ci_width", "min_effect",
            "required", "owner", "on_breach", "on_error", "on_regression", "on_inconclusive",
            "on_missing")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Action(_Strict):
    """What a breach triggers. YAML: `block`, `warn`, `rollback`, `hold`,
    `{rollback: BASELINE}` or `{hold: FEATURE_FLAG}`."""

    kind: ActionKind
    target: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        expected = ("expected block, warn, rollback, hold, {rollback: BASELINE} or "
                    "{hold: FEATURE_FLAG}")
        if isinstance(value, str):
            if value not in ACTION_KINDS:
                raise ValueError(f"unknown action {value!r}; {expected}")
            return {"kind": value}
        if isinstance(value, dict) and len(value) == 1 and "kind" not in value:
            ((kind, target),) = value.items()
            if kind not in ("rollback", "hold"):
                raise ValueError(f"action {kind!r} takes no target; {expected}")
            if target is not None and not isinstance(target, str):
                raise ValueError(f"{kind} target must be a name, got {target!r}")
            return {"kind": kind, "target": target}
        if isinstance(value, dict):
            return value
        raise ValueError(expected)

    def describe(self) -> str:
        if self.kind == "rollback":
            return f"rollback to {self.target}" if self.target else "rollback"
        if self.kind == "hold":
            return f"hold feature flag {self.target}" if self.target else "hold the release"
        return self.kind


class RuleSettings(_Strict):
    """Every setting is optional: an unset one falls through to a less specific rule."""

    max_failure_rate: float | Literal["scenario"] | None = Field(
        None, description="largest allowed share of judged attempts that fail; 'scenario' "
        "uses the scenario's own success.max_failure_rate")
    max_error_rate: float | None = Field(None, ge=0.0, le=1.0)
    min_attempts: int | None = Field(None, ge=0, description="fewer judged attempts: inconclusive")
    max_ci_width: float | None = Field(
        None, gt=0.0, le=1.0, description="a wider failure-rate interval: inconclusive (1: off)")
    min_effect: float | None = Field(
        None, ge=0.0, le=1.0, description="smallest failure-rate rise called a regression")
    required: bool | None = Field(None, description="matching scenarios must have run")
    owner: str | None = Field(None, min_length=1)
    on_breach: Action | None = None
    on_error: Action | None = None
    on_regression: Action | None = None
    on_inconclusive: Action | None = None
    on_missing: Action | None = None

    @field_validator("max_failure_rate")
    @classmethod
    def _rate_range(cls, rate: float | str | None) -> float | str | None:
        if isinstance(rate, float) and not 0.0 <= rate <= 1.0:
            raise ValueError("max_failure_rate must be between 0 and 1, or 'scenario'")
        return rate


class Match(_Strict):
    scenario: str | None = Field(None, min_length=1, description="scenario id or glob")
    category: Category | None = None
    severity: Severity | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if self.scenario is None and self.category is None and self.severity is None:
            raise ValueError("give at least one of scenario, category, severity")
        return self

    @property
    def specificity(self) -> int:
        if self.scenario is not None:
            return 4
        if self.category is not None and self.severity is not None:
            return 3
        return 2 if self.category is not None else 1

    def matches(self, scenario: str | None, category: str | None, severity: str | None) -> bool:
        if self.scenario is not None and (
                scenario is None or not fnmatch.fnmatchcase(scenario, self.scenario)):
            return False
        if self.category is not None and self.category != category:
            return False
        return self.severity is None or self.severity == severity


class Rule(RuleSettings):
    match: Match


class MetricRule(_Strict):
    """A threshold on one run metric of the matching scenarios (see redline.gate.metrics)."""

    match: Match
    metric: str = Field(min_length=1, description="e.g. ece, robust_accuracy@0.25, "
                        "demographic_parity_difference, demographic_parity_ratio[group]")
    max: float | None = None
    min: float | None = None
    at: Literal["value", "bound"] = Field(
        "value", description="compare the estimate, or the pessimistic end of its interval")
    max_regression: float | None = Field(
        None, ge=0, description="with a baseline: a worse value by more than this, and "
        "significant, is a regression")
    on_breach: Action = Action(kind="block")
    on_regression: Action = Action(kind="block")

    @model_validator(mode="after")
    def _bounds(self) -> MetricRule:
        if self.max is None and self.min is None and self.max_regression is None:
            raise ValueError("give max, min or max_regression")
        return self


class StatisticsFile(_Strict):
    confidence: float | None = Field(None, gt=0.5, lt=1.0)
    alpha: float | None = Field(None, gt=0.0, le=0.5)
    interval: Literal["wilson", "clopper-pearson"] | None = None
    correction: Literal["none", "holm"] | None = None
    judge_correction: Literal["raw", "corrected"] | None = Field(
        None, description="which failure rate decisions use: as judged, or corrected for the "
        "judges' measured error (Rogan-Gladen)")
    judge_accuracy: str | None = Field(
        None, min_length=1, description="where the judges' accuracy comes from: 'bundled' "
        "(the shipped labeled corpus) or a labeled JSONL file (relative to this policy file)")


class CoverageFile(_Strict):
    baseline: bool | None = Field(
        None, description="every scenario that ran in the baseline must run in the candidate")


class EvidenceFile(_Strict):
    unsigned: Literal["reject", "allow"] | None = Field(
        None, description="records after a run's signed head: `reject` (not evidence: the "
        "gate blocks) or `allow`")
    require_signature: bool | None = Field(
        None, description="block a run whose chain head carries no valid signature")


class PolicyFile(_Strict):
    version: Literal[1] = 1
    name: str | None = None
    defaults: RuleSettings | None = None
    rules: list[Rule] = Field(default_factory=list)
    metrics: list[MetricRule] = Field(
        default_factory=list, description="thresholds on run metrics (ECE, robust accuracy, "
        "parity differences...) of the matching scenarios")
    statistics: StatisticsFile | None = None
    coverage: CoverageFile | None = None
    evidence: EvidenceFile | None = None
    benign_categories: list[Category] | None = None
    sla_days: dict[Severity, int] | None = None
    severity_weights: dict[Severity, float] | None = None
    rollback_to: str | None = Field(None, description="baseline a bare `rollback` returns to")
    feature_flag: str | None = Field(None, description="flag a bare `hold` pauses")
    halt: HaltRules | None = Field(
        None, description="conditions that stop a scan early (`redline scan --policy`), and "
        "whether the gate blocks a run halted on a finding")

    @field_validator("sla_days", "severity_weights")
    @classmethod
    def _non_negative(cls, values: dict[str, Any] | None) -> dict[str, Any] | None:
        bad = {k: v for k, v in (values or {}).items() if v < 0}
        if bad:
            raise ValueError(f"must not be negative: {bad}")
        return values
