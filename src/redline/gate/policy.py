"""Gate policy files: thresholds and actions per scenario, category and severity.

A policy is one or more YAML files layered over the bundled default: later files
override earlier ones. Each setting of a scenario is resolved on its own from the most
specific rule that sets it (scenario > category+severity > category > severity >
defaults); among rules of equal specificity, the later one wins.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from redline.catalog.schema import Category, Severity
from redline.errors import InputFileError, Problem
from redline.halting import HaltRules
from redline.yamlfile import line_of, load_yaml, validate_node

DEFAULT_POLICY = Path(__file__).parent / "default_policy.yaml"

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


@dataclass(frozen=True)
class Statistics:
    confidence: float
    alpha: float
    interval: str
    correction: str
    judge_correction: str = "raw"
    judge_accuracy: str = "bundled"


@dataclass(frozen=True)
class Effective:
    """The settings that apply to one unit, and where each came from (file:line)."""

    max_failure_rate: float | str
    max_error_rate: float
    min_attempts: int
    max_ci_width: float
    min_effect: float
    required: bool
    owner: str
    on_breach: Action
    on_error: Action
    on_regression: Action
    on_inconclusive: Action
    on_missing: Action
    sources: dict[str, str] = field(default_factory=dict)

    def threshold(self, scenario_max: float) -> float:
        rate = self.max_failure_rate
        return scenario_max if rate == "scenario" else float(rate)


@dataclass(frozen=True)
class SourcedRule:
    rule: Rule
    source: str
    order: int


@dataclass
class Policy:
    """Policy files composed over the bundled default, ready to resolve."""

    files: list[str]
    names: list[str]
    defaults: dict[str, Any]
    default_sources: dict[str, str]
    rules: list[SourcedRule]
    statistics: Statistics
    coverage_baseline: bool
    benign_categories: list[str]
    sla_days: dict[str, int]
    severity_weights: dict[str, float]
    rollback_to: str | None
    feature_flag: str | None
    unsigned: str = "reject"
    require_signature: bool = False
    metric_rules: list[tuple[MetricRule, str]] = field(default_factory=list)  # (rule, file:line)
    halt: HaltRules | None = None  # the last file's `halt:` block

    def resolve(self, scenario: str | None = None, category: str | None = None,
                severity: str | None = None) -> Effective:
        matching = [r for r in self.rules if r.rule.match.matches(scenario, category, severity)]
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name in SETTINGS:
            best: SourcedRule | None = None
            for r in matching:
                if getattr(r.rule, name) is None:
                    continue
                if best is None or (r.rule.match.specificity, r.order) >= (
                        best.rule.match.specificity, best.order):
                    best = r
            if best is not None:
                values[name], sources[name] = getattr(best.rule, name), best.source
            else:
                values[name], sources[name] = self.defaults[name], self.default_sources[name]
        return Effective(**values, sources=sources)

    def required_rules(self) -> list[SourcedRule]:
        return [r for r in self.rules if r.rule.required]

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "names": self.names,
            "defaults": {k: _plain(v) for k, v in self.defaults.items()},
            "rules": [{**r.rule.model_dump(mode="json", exclude_none=True), "source": r.source}
                      for r in self.rules],
            "statistics": self.statistics.__dict__,
            "coverage": {"baseline": self.coverage_baseline},
            "benign_categories": self.benign_categories,
            "sla_days": self.sla_days,
            "severity_weights": self.severity_weights,
            "rollback_to": self.rollback_to,
            "feature_flag": self.feature_flag,
            "evidence": {"unsigned": self.unsigned, "require_signature": self.require_signature},
            **({"metrics": [{**r.model_dump(mode="json", exclude_none=True), "source": src}
                            for r, src in self.metric_rules]} if self.metric_rules else {}),
            **({"halt": self.halt.model_dump(mode="json")} if self.halt else {}),
        }


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) \
        else value


@dataclass
class LoadedFile:
    path: str
    label: str
    model: PolicyFile
    node: Any


def load_policy_file(path: Path, label: str | None = None) -> LoadedFile:
    """Validate one policy file; problems name file:line: field."""
    data, node = load_yaml(path)
    if not isinstance(data, dict):
        raise InputFileError([Problem(str(path), 1, None, "expected a mapping at top level")])
    model = validate_node(PolicyFile, data, node, str(path))
    return LoadedFile(str(path), label or str(path), model, node)


def _where(f: LoadedFile, *loc: int | str) -> str:
    line = line_of(f.node, loc)
    return f"{f.label}:{line}" if line is not None else f.label


def compose(files: list[LoadedFile]) -> Policy:
    """Layer policy files in order; the first must set every default (the bundled one does)."""
    defaults: dict[str, Any] = {}
    default_sources: dict[str, str] = {}
    rules: list[SourcedRule] = []
    metric_rules: list[tuple[MetricRule, str]] = []
    stats: dict[str, Any] = {}
    merged: dict[str, Any] = {"coverage_baseline": None, "benign_categories": None,
                              "rollback_to": None, "feature_flag": None, "unsigned": "reject",
                              "require_signature": False}
    sla: dict[str, int] = {}
    weights: dict[str, float] = {}
    for f in files:
        m = f.model
        if m.defaults is not None:
            for name in SETTINGS:
                value = getattr(m.defaults, name)
                if value is not None:
                    defaults[name] = value
                    default_sources[name] = _where(f, "defaults", name)
        for i, rule in enumerate(m.rules):
            rules.append(SourcedRule(rule, _where(f, "rules", i), len(rules)))
        metric_rules.extend((r, _where(f, "metrics", i)) for i, r in enumerate(m.metrics))
        if m.statistics is not None:
            stats.update(m.statistics.model_dump(exclude_none=True))
            source = m.statistics.judge_accuracy
            if source not in (None, "bundled") and not Path(source).is_absolute():
                stats["judge_accuracy"] = str(Path(f.path).parent / source)
        if m.coverage is not None and m.coverage.baseline is not None:
            merged["coverage_baseline"] = m.coverage.baseline
        for key in ("benign_categories", "rollback_to", "feature_flag"):
            if getattr(m, key) is not None:
                merged[key] = getattr(m, key)
        for key, value in (m.evidence.model_dump(exclude_none=True) if m.evidence else {}
                           ).items():
            merged[key] = value
        sla.update(m.sla_days or {})
        weights.update(m.severity_weights or {})
        if m.halt is not None:
            merged["halt"] = m.halt
    first = files[0].path if files else "<no policy>"
    problems = []
    missing = [n for n in SETTINGS if n not in defaults]
    if missing:
        problems.append(Problem(first, None, "defaults",
                                f"the base policy must set every default; missing {missing}"))
    missing = [n for n in ("confidence", "alpha", "interval", "correction") if n not in stats]
    if missing:
        problems.append(Problem(first, None, "statistics",
                                f"the base policy must set every statistic; missing {missing}"))
    if problems:
        raise InputFileError(problems)
    return Policy(
        files=[f.label for f in files], names=[f.model.name or f.label for f in files],
        defaults=defaults, default_sources=default_sources, rules=rules,
        statistics=Statistics(**stats), coverage_baseline=bool(merged["coverage_baseline"]),
        benign_categories=list(merged["benign_categories"] or []), sla_days=sla,
        severity_weights=weights, rollback_to=merged["rollback_to"],
        feature_flag=merged["feature_flag"], unsigned=merged["unsigned"],
        require_signature=merged["require_signature"], metric_rules=metric_rules,
        halt=merged.get("halt"),
    )


def load_policy(paths: list[Path] | None = None) -> Policy:
    """The bundled default policy, with the given files layered over it in order."""
    files = [load_policy_file(DEFAULT_POLICY, "default_policy.yaml")]
    problems: list[Problem] = []
    for path in paths or []:
        try:
            files.append(load_policy_file(path))
        except InputFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputFileError(problems)
    return compose(files)
