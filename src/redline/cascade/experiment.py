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
from dataclasses import dataclass, field
from typing import Any

from redline.app.pipeline import GuardedApp, start_turn
from redline.attempts import digest
from redline.cascade.faults import ArmedFault
from redline.cascade.judge import MISBEHAVIOUR, judge
from redline.cascade.schema import CascadeScenario, Probe, SteadyState
from redline.cascade.stats import percentile
from redline.cascade.system import System, start_guarded_app
from redline.cascade.trace import REQUEST
from redline.models import Attempt, Message, Outcome, Verdict


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

    async def step(self, app: GuardedApp, phase: str) -> Observation:
        index = len(self.observations)
        probes = self.scenario.workload.probes
        probe_index = index % len(probes)
        probe = probes[probe_index]
        attempt = make_attempt(self.scenario, self.seed, index, phase, probe_index, probe,
                               self.system.canaries)
        started = time.perf_counter() - self.t0
        reply, error, events, latency_ms = await serve_request(
            app, probe.text, index, self.scenario.workload.timeout_s)
        obs = Observation(index, phase, probe_index, probe, attempt, started, latency_ms,
                          reply, error, events)
        # the proxy or the wrapper records an injection before the request can complete
        obs.faulted = self.fault is not None and index in self.fault.faulted_indices()
        j = await judge(obs.visible, error is not None, events, attempt, self.system.canaries,
                  self.system.system_prompt, probe.harmful)
        obs.state, obs.verdicts, obs.problem = j.state, j.verdicts, j.problem
        obs.outcome = outcome_for(j.state, list(self.scenario.expectation.allow), j.problem)
        self.observations.append(obs)
        if self.on_observation is not None:
            self.on_observation(obs)
        if self.scenario.workload.pace_ms:
            await asyncio.sleep(self.scenario.workload.pace_ms / 1000)
        return obs

    async def phase(self, app: GuardedApp, name: str, n: int) -> list[Observation]:
        return [await self.step(app, name) for _ in range(n)]


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


async def run_experiment(scenario: CascadeScenario, seed: int, model: str = "stand-in",
                         system: System | None = None,
                         on_observation: Callable[[Observation], None] | None = None):
    """Run one experiment and return its journal (`redline.cascade.journal.Journal`)."""
    from redline.cascade.journal import build_journal

    if system is None:
        system = await asyncio.to_thread(start_guarded_app, scenario.system, model, seed)
    try:
        system.check_stage(scenario.stage)
        outcomes = await _phases(Run(scenario, seed, system, on_observation))
    finally:
        await system.aclose()
    return build_journal(outcomes, model, system.description)


async def _phases(run: Run) -> Outcomes:
    s, system = run.scenario, run.system
    # warm-up, not recorded: first connections and imports should not count as the steady state
    await serve_request(system.app(), s.workload.probes[0].text, -1, s.workload.timeout_s)
    steady = await run.phase(system.app(), "steady", s.steady_state.requests)
    hypotheses = {"before": check_hypothesis(steady, s.steady_state)}
    if not hypotheses["before"].met:
        return Outcomes(run, "aborted", "the steady-state hypothesis does not hold before any "
                        "fault: nothing to compare with", hypotheses, None, None, None,
                        system.proxy_log(), _transitions(run))
    armed_at = time.perf_counter() - run.t0
    fault = ArmedFault(s.stage, s.fault, s.schedule, run.seed, offset=len(run.observations))
    run.fault = fault
    faulted = await run.phase(system.app(fault), "fault", s.workload.requests)
    hypotheses["during"] = check_hypothesis(faulted, s.steady_state)
    fault.disarm()
    system.rollback()
    rollback_at = time.perf_counter() - run.t0
    recovery = await run.phase(system.app(), "recovery",
                               s.steady_state.requests + s.expectation.recover_within_requests)
    hypotheses["after"] = check_hypothesis(recovery[-s.steady_state.requests:], s.steady_state)
    return Outcomes(run, "completed", None, hypotheses, fault, armed_at, rollback_at,
                    system.proxy_log(), _transitions(run))


def _transitions(run: Run) -> list[dict[str, Any]]:
    """The breaker's state changes, timed like the requests (seconds since the start)."""
    breaker = run.system.breaker
    if breaker is None:
        return []
    shift = time.monotonic() - time.perf_counter() + run.t0
    return [{**t, "t": round(t["t"] - shift, 4)} for t in breaker.transitions]
