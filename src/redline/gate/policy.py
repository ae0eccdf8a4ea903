"""Gate policy files: thresholds and actions per scenario, category and severity.

A policy is one or more YAML files layered over the bundled default: later files
override earlier ones. Each setting of a scenario is resolved on its own from the most
specific rule that sets it (scenario > category+severity > category > severity >
defaults); among rules of equal specificity, the later one wins. What a file may say is
`gate.policy_schema`; here files are loaded, composed and resolved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from redline.core.errors import InputFileError, Problem
from redline.core.halting import HaltRules
from redline.core.yamlfile import line_of, load_yaml, validate_node
from redline.gate.policy_schema import SETTINGS, Action, MetricRule, PolicyFile, Rule

DEFAULT_POLICY = Path(__file__).parent / "default_policy.yaml"

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
