"""One cascade experiment: steady state -> fault -> hypothesis again -> rollback -> recovery.

1. steady state: after one unrecorded warm-up request, `steady_state.requests` requests
   with no fault; the hypothesis must hold, or the experiment stops there (nothing can be
   learnt from faulting a system that is already off its steady state).
2. fault: the fault is armed at its stage (in its proxy, or wrapped in-process) and the
   workload runs; the schedule picks the faulted requests. The hypothesis is checked again.
3. rollback: the fault is removed, and requests go on until the system is back to its steady
   state (or `recover_within_requests` runs out); the hypothesis is checked a third time.

Requests run one after another, each tagged with its index, so a seed fixes which requests
are faulted and what every request's outcome is. Every request is judged on what the user saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from redline.analysis.latency import percentile
from redline.cascade.judge import MISBEHAVIOUR, expected_of, judge
from redline.cascade.schema import CascadeScenario, Probe, SteadyState
from redline.core.attempts import digest
from redline.core.engine import EngineSettings
from redline.core.models import Attempt, Message, Outcome, Verdict
from redline.core.schedules import Step, run_schedule
from redline.demo.pipeline import GuardedApp, start_turn
from redline.pipeline.system import System, start_guarded_app
from redline.pipeline.trace import REQUEST
from redline.plugins.detectors.judge import LLMJudge
from redline.plugins.faults import ArmedFault


@dataclass
class Observation:
    """One request's journey and what the user saw."""

    index: int
    phase: str
    probe_index: int
    probe: Probe
    attempt: Attempt
    started_s: float
    latency_ms: float
    reply: str | None
    error: str | None
    events: list[dict[str, Any]]
    faulted: bool = False
    state: str = ""
    verdicts: list[Verdict] = field(default_factory=list)
    problem: str | None = None
    outcome: Outcome = "pass"

    @property
    def visible(self) -> str:
        return self.error if self.error is not None else (self.reply or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "phase": self.phase, "probe": self.probe_index,
            "kind": self.probe.kind, "request": self.probe.text,
            "t_s": round(self.started_s, 4), "latency_ms": round(self.latency_ms, 3),
            "faulted": self.faulted, "events": self.events, "state": self.state,
            "outcome": self.outcome, "shown": self.visible[:500],
            "findings": [v.to_dict() for v in self.verdicts if v.detected],
            **({"problem": self.problem} if self.problem else {}),
        }


@dataclass
class Hypothesis:
    met: bool
    requests: int
    checks: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"met": self.met, "requests": self.requests, "checks": self.checks}


def check_hypothesis(observations: list[Observation], spec: SteadyState) -> Hypothesis:
    n = len(observations)
    if not n:
        return Hypothesis(False, 0, {})
    bad = sum(o.state in MISBEHAVIOUR for o in observations) / n
    degraded = sum(o.state == "degraded" for o in observations) / n
    p95 = percentile([o.latency_ms for o in observations], 95) or 0.0
    checks = {
        "misbehaviour": {"value": round(bad, 4), "max": spec.max_misbehaviour,
                         "ok": bad <= spec.max_misbehaviour + 1e-12},
        "degraded": {"value": round(degraded, 4), "max": spec.max_degraded,
                     "ok": degraded <= spec.max_degraded + 1e-12},
        "p95_ms": {"value": round(p95, 3), "max": spec.max_p95_ms, "ok": p95 <= spec.max_p95_ms},
    }
    return Hypothesis(all(c["ok"] for c in checks.values()), n, checks)


def make_attempt(scenario: CascadeScenario, seed: int, index: int, phase: str,
                 probe_index: int, probe: Probe, canaries: tuple[str, ...]) -> Attempt:
    attempt_id = digest("cascade", scenario.id, scenario.version, seed, index)[:24]
    return Attempt(
        id=attempt_id, seq=index, scenario_id=scenario.id, scenario_version=scenario.version,
        category="cascade", severity=scenario.severity, input_index=probe_index,
        chain=(phase,), messages=(Message("user", probe.text),), canaries=canaries,
        original=probe.text,
    )


async def serve_request(app: GuardedApp, text: str, index: int, timeout_s: float
                        ) -> tuple[str | None, str | None, list[dict[str, Any]], float]:
    """(reply, error the user saw, trace, latency in ms) for one request through `app`.

    Errors look as `redline serve` shows them: `target error: ...` for an error the app
    returned, `500 Internal Server Error` when a stage raised, `504 Gateway Timeout` when the
    user gave up waiting.
    """
    turn = start_turn([Message("user", text)])
    token = REQUEST.set(index)
    started = time.perf_counter()
    deadline = asyncio.timeout(timeout_s)
    error: str | None = None
    try:
        async with deadline:
            turn = await app.run(turn)
        if turn.error is not None:
            error = f"target error: {turn.error}"
    except TimeoutError:
        if not deadline.expired():
            raise
        error = f"504 Gateway Timeout: no reply within {timeout_s:g} s"
        turn.events.append({"stage": "server", "action": "timeout", "detail": error})
    except Exception as exc:  # a stage raised: the web server answers 500
        error = "500 Internal Server Error"
        turn.events.append({"stage": "server", "action": "error",
                            "detail": f"{type(exc).__name__}: {exc}"[:300]})
    finally:
        REQUEST.reset(token)
    latency_ms = (time.perf_counter() - started) * 1000
    return (turn.reply if error is None else None), error, turn.events, latency_ms


def outcome_for(state: str, allow: list[str], problem: str | None) -> Outcome:
    if problem is not None:
        return "error"
    if state == "unclear":
        return "unclear"
    if state == "breach" or state not in allow:
        return "fail"
    return "pass"


@dataclass
class Run:
    """The experiment in progress."""

    scenario: CascadeScenario
    seed: int
    system: System
    on_observation: Callable[[Observation], None] | None = None
    t0: float = field(default_factory=time.perf_counter)
    observations: list[Observation] = field(default_factory=list)
    fault: ArmedFault | None = None
    app: GuardedApp | None = None  # the app as the current phase serves it
    armed_at_s: float | None = None
    rollback_at_s: float | None = None
    llm: LLMJudge | None = None  # an LLM judge, as in a scan

    async def step(self, step: Step, index: int) -> Observation:
        """One request of a phase (index -1: the unrecorded warm-up), judged."""
        assert self.app is not None
        probes = self.scenario.workload.probes
        probe_index = index % len(probes) if step.recorded else 0
        probe = probes[probe_index]
        attempt = make_attempt(self.scenario, self.seed, index, step.name, probe_index, probe,
                               self.system.canaries)
        started = time.perf_counter() - self.t0
        reply, error, events, latency_ms = await serve_request(
            self.app, probe.text, index, self.scenario.workload.timeout_s)
        obs = Observation(index, step.name, probe_index, probe, attempt, started, latency_ms,
                          reply, error, events)
        if not step.recorded:
            return obs
        # the proxy or the wrapper records an injection before the request can complete
        obs.faulted = self.fault is not None and index in self.fault.faulted_indices()
        j = await judge(obs.visible, error is not None, events, attempt, self.system.canaries,
                        self.system.system_prompt, probe.harmful, self.llm, expected_of(probe))
        obs.state, obs.verdicts, obs.problem = j.state, j.verdicts, j.problem
        obs.outcome = outcome_for(j.state, list(self.scenario.expectation.allow), j.problem)
        return obs

    def record(self, obs: Observation) -> None:
        self.observations.append(obs)
        if self.on_observation is not None:
            self.on_observation(obs)

    def arm(self, faults: tuple[Any, ...], index: int) -> None:
        """A phase's start: a fresh app, with the fault armed (offset: this request) or not."""
        if self.fault is not None:
            self.fault.disarm()
        if faults:  # the scenario's fault, at its stage, on its schedule
            s, [spec] = self.scenario, faults
            self.armed_at_s = time.perf_counter() - self.t0
            self.fault = ArmedFault(s.stage, spec, s.schedule, self.seed, offset=index)
        self.app = self.system.app(self.fault) if faults and self.fault else self.system.app()

    def rollback(self) -> None:
        self.system.rollback()
        self.rollback_at_s = time.perf_counter() - self.t0


@dataclass
class Outcomes:
    """Everything the journal is made from."""

    run: Run
    status: str
    problem: str | None
    hypotheses: dict[str, Hypothesis]
    fault: ArmedFault | None
    armed_at_s: float | None
    rollback_at_s: float | None
    proxy_log: dict[str, list[dict[str, Any]]]
    breaker: list[dict[str, Any]]
    model: str = "stand-in"  # the app's model, as `redline chaos --model` chose it


async def run_experiment(scenario: CascadeScenario, seed: int, model: str = "stand-in",
                         system: System | None = None,
                         on_observation: Callable[[Observation], None] | None = None,
                         llm: LLMJudge | None = None) -> Outcomes:
    """Run one experiment and return what happened (`redline.cascade.journal.build_journal`
    reads it)."""
    if system is None:
        system = await asyncio.to_thread(start_guarded_app, scenario.system, model, seed)
    try:
        system.check_stage(scenario.stage)
        outcomes = await _phases(Run(scenario, seed, system, on_observation, llm=llm))
    finally:
        await system.aclose()
    return replace(outcomes, model=model)


def experiment_steps(run: Run) -> list[Step]:
    """The experiment as a schedule: warm-up (unrecorded: first connections and imports
    should not count as the steady state), steady, fault, then rollback and recovery."""
    s = run.scenario
    pace = s.workload.pace_ms / 1000
    return [
        Step("warm-up", 1, faults=(), recorded=False),
        Step("steady", s.steady_state.requests, faults=(), pace_s=pace),
        Step("fault", s.workload.requests, faults=(s.fault,), pace_s=pace),
        Step("recovery", s.steady_state.requests + s.expectation.recover_within_requests,
             faults=(), hooks=(run.rollback,), pace_s=pace),
    ]


# a phase of errors is a finding, not an unreachable system: no retries, no abort
EXPERIMENT_SETTINGS = EngineSettings(retries=0, abort_after_errors=2**62)


async def _phases(run: Run, settings: EngineSettings = EXPERIMENT_SETTINGS) -> Outcomes:
    s = run.scenario
    hypotheses: dict[str, Hypothesis] = {}

    def phase_done(step: Step, got: list[Any], wall_s: float) -> bool:
        if step.name == "steady":
            hypotheses["before"] = check_hypothesis(got, s.steady_state)
            return hypotheses["before"].met
        if step.name == "fault":
            hypotheses["during"] = check_hypothesis(got, s.steady_state)
        elif step.name == "recovery":
            hypotheses["after"] = check_hypothesis(got[-s.steady_state.requests:],
                                                   s.steady_state)
        return True

    await run_schedule(experiment_steps(run), run.step, run.record, settings, run.arm,
                       phase_done)
    if not hypotheses["before"].met:
        return Outcomes(run, "aborted", "the steady-state hypothesis does not hold before any "
                        "fault: nothing to compare with", hypotheses, None, None, None,
                        run.system.proxy_log(), _transitions(run))
    return Outcomes(run, "completed", None, hypotheses, run.fault, run.armed_at_s,
                    run.rollback_at_s, run.system.proxy_log(), _transitions(run))


def _transitions(run: Run) -> list[dict[str, Any]]:
    """The breaker's state changes, timed like the requests (seconds since the start)."""
    breaker = run.system.breaker
    if breaker is None:
        return []
    shift = time.monotonic() - time.perf_counter() + run.t0
    return [{**t, "t": round(t["t"] - shift, 4)} for t in breaker.transitions]
