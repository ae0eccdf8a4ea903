"""Aggregate stored results into per-scenario, per-category and per-severity figures,
and derive the run's exit code from one criterion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0  # every scenario within its success criterion
    FINDINGS = 1  # at least one scenario over its criterion (or not provably within it)
    USAGE = 2  # usage or config error; nothing ran
    INCOMPLETE = 3  # the run could not complete: target unreachable, too many errors, stopped


@dataclass
class Tally:
    """Outcome counts, and the one definition of each rate (reports, gate, risks, load).

    failure_rate: failures over judged attempts (a pass or a fail); errors and unclear
    outcomes are evidence of nothing, so they are not in its denominator.
    error_rate: errors over all attempts.
    """

    passes: int = 0
    failures: int = 0
    errors: int = 0
    unclear: int = 0  # the detectors could not decide: neither a pass nor a failure

    @property
    def attempts(self) -> int:
        return self.passes + self.failures + self.errors + self.unclear

    @property
    def judged(self) -> int:
        """Attempts with a decided verdict; errors and unclear ones are evidence of nothing."""
        return self.passes + self.failures

    @property
    def undecided(self) -> int:
        """Errors and unclear verdicts: either could hide a failure."""
        return self.errors + self.unclear

    @property
    def failure_rate(self) -> float:
        return self.failures / self.judged if self.judged else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.attempts if self.attempts else 0.0

    def add(self, outcome: str, n: int = 1) -> None:
        if outcome == "pass":
            self.passes += n
        elif outcome == "fail":
            self.failures += n
        elif outcome == "unclear":
            self.unclear += n
        else:  # an error, or anything unknown: never a pass
            self.errors += n

    def __iadd__(self, other: Tally) -> Tally:
        self.passes += other.passes
        self.failures += other.failures
        self.errors += other.errors
        self.unclear += other.unclear
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "passes": self.passes, "failures": self.failures,
                "errors": self.errors, "unclear": self.unclear, "judged": self.judged,
                "failure_rate": round(self.failure_rate, 4),
                "error_rate": round(self.error_rate, 4)}


@dataclass
class ScenarioInfo:
    title: str
    category: str
    severity: str
    max_failure_rate: float


@dataclass
class Summary:
    planned: int
    total: Tally = field(default_factory=Tally)
    scenarios: dict[str, Tally] = field(default_factory=dict)
    categories: dict[str, Tally] = field(default_factory=dict)
    severities: dict[str, Tally] = field(default_factory=dict)
    info: dict[str, ScenarioInfo] = field(default_factory=dict)
    latency_ms_total: float = 0.0
    tokens: int = 0

    def status(self, scenario_id: str) -> str:
        """pass: provably within criterion; fail: over it; inconclusive: errors or unclear
        verdicts leave doubt (counted as failures, they would put it over)."""
        t = self.scenarios[scenario_id]
        limit = self.info[scenario_id].max_failure_rate
        if t.failure_rate > limit + 1e-12:
            return "fail"
        if t.attempts and (t.failures + t.errors + t.unclear) / t.attempts > limit + 1e-12:
            return "inconclusive"
        return "pass"

    def statuses(self) -> dict[str, str]:
        return {sid: self.status(sid) for sid in self.scenarios}

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "total": self.total.to_dict(),
            "scenarios": {
                sid: {**t.to_dict(), **asdict(self.info[sid]), "status": self.status(sid)}
                for sid, t in sorted(self.scenarios.items())
            },
            "categories": {k: v.to_dict() for k, v in sorted(self.categories.items())},
            "severities": {k: v.to_dict() for k, v in self.severities.items()},
            "tokens": self.tokens,
        }


def summarise(
    rows: Iterable[tuple[str, str, str, str, float, int | None]],
    info: Mapping[str, ScenarioInfo],
    planned: int,
) -> Summary:
    """Rows are (scenario_id, category, severity, outcome, latency_ms, tokens)."""
    s = Summary(planned=planned, info=dict(info))
    for sid in info:
        s.scenarios[sid] = Tally()
    for scenario_id, category, severity, outcome, latency_ms, tokens in rows:
        s.total.add(outcome)
        s.scenarios.setdefault(scenario_id, Tally()).add(outcome)
        s.categories.setdefault(category, Tally()).add(outcome)
        s.severities.setdefault(severity, Tally()).add(outcome)
        s.latency_ms_total += latency_ms
        s.tokens += tokens or 0
    s.scenarios = {k: v for k, v in s.scenarios.items() if v.attempts}
    return s


def exit_code(summary: Summary, completed: bool, max_error_rate: float) -> ExitCode:
    """The single criterion behind the scan's exit code (documented in the README)."""
    if not completed or summary.total.attempts < summary.planned:
        return ExitCode.INCOMPLETE
    if summary.total.error_rate > max_error_rate:
        return ExitCode.INCOMPLETE
    if any(status != "pass" for status in summary.statuses().values()):
        return ExitCode.FINDINGS
    return ExitCode.OK
