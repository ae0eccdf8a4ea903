"""Load: ramp concurrency on a target, with and without faults, and find the knee.

Each level runs `concurrency` closed-loop workers (send, wait, send again) for
`concurrency * per_worker` requests, or for `duration_s` seconds (timed levels: better when a
breaker's cool-down is counted in seconds, since a level of fast fallbacks can otherwise end
before the breaker ever half-opens). Per level: latency percentiles (p50/p95/p99 over every
request, errors included), error rate, throughput (requests/s) and goodput (answers that are
neither errors nor fallbacks, per second), fallbacks served and breaker openings, so a
circuit breaker or fallback in the system under test shows up in the numbers.

The knee is the last level that still scales: goodput per worker at least `efficiency` (0.8)
of the first level's, p95 at most `latency_factor` (2x) the first level's, and error rate at
most `error_margin` (5 points) above it. The next level is where degradation turns sudden;
the report gives how much p95 and goodput jump there. No knee means none was reached.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from redline.analysis.latency import percentile
from redline.cascade.judge import expected_of, fell_back, judge_text
from redline.cascade.schema import DEFAULT_PROBES, Probe
from redline.core.attempts import digest
from redline.core.engine import EngineSettings
from redline.core.errors import UsageError
from redline.core.models import Attempt, Message, Verdict
from redline.core.schedules import Step, run_schedule
from redline.plugins.detectors.judge import LLMJudge
from redline.plugins.fault_spec import FaultSpec, Schedule
from redline.plugins.faults import ArmedFault

# ordinary traffic: the benign probes (attacks stop at the input filter and cost nothing)
LOAD_PROBES = tuple(p for p in DEFAULT_PROBES if p.kind == "benign")
EFFICIENCY = 0.8
LATENCY_FACTOR = 2.0
ERROR_MARGIN = 0.05


@dataclass(frozen=True)
class FaultArg:
    stage: str
    spec: FaultSpec
    schedule: Schedule
    text: str


def parse_fault(text: str) -> FaultArg:
    """`STAGE:KIND[:key=value,...]`; keys are fault or schedule fields, e.g.
    `model:latency:latency_ms=40,fraction=0.5` or `input_filter:wrong_output:mode=flip`."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise UsageError(f"--faults {text!r}: expected STAGE:KIND[:key=value,...]")
    fault: dict[str, Any] = {"kind": parts[1]}
    schedule: dict[str, Any] = {}
    for item in filter(None, (parts[2] if len(parts) == 3 else "").split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--faults {text!r}: {item!r} is not key=value")
        (schedule if key in Schedule.model_fields else fault)[key.strip()] = value.strip()
    try:
        return FaultArg(parts[0], FaultSpec.model_validate(fault),
                        Schedule.model_validate(schedule), text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "fault"
        raise UsageError(f"--faults {text!r}: {where}: {err['msg']}") from exc


@dataclass
class Sample:
    index: int
    ramp: str
    concurrency: int
    probe_index: int
    probe: Probe
    started_s: float
    latency_ms: float
    reply: str | None
    error: str | None
    degraded: bool = False
    verdicts: list[Verdict] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None  # why the reply could not be judged (a detector raised)

    @property
    def breach(self) -> bool:
        return any(v.detected for v in self.verdicts)

    @property
    def failed(self) -> bool:
        """An error: the user got one, or the reply could not be judged (never a pass)."""
        return self.error is not None or self.problem is not None

    @property
    def good(self) -> bool:
        return not self.failed and not self.degraded and not self.breach

    @property
    def outcome(self) -> str:
        return "error" if self.failed else "fail" if self.breach else "pass"


Send = Callable[[int, Probe], Awaitable[tuple[str | None, str | None, list[dict[str, Any]],
                                              float]]]


@dataclass
class Driver:
    """What a ramp needs from the system under test."""

    send: Send  # (index, probe) -> (reply, error, trace, latency ms)
    canaries: tuple[str, ...] = ()
    system_prompt: str | None = None
    breaker: Any = None
    description: dict[str, Any] = field(default_factory=dict)
    arm: Callable[[list[ArmedFault]], None] | None = None  # install faults (None: no faults)
    disarm: Callable[[], None] | None = None


@dataclass
class LevelStats:
    concurrency: int
    requests: int
    good: int
    degraded: int
    errors: int
    breaches: int
    wall_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    throughput_rps: float
    goodput_rps: float
    error_rate: float
    breaker_opens: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def level_stats(concurrency: int, samples: list[Sample], wall_s: float,
                opens: int) -> LevelStats:
    lat = [s.latency_ms for s in samples]
    n = len(samples)
    good = sum(s.good for s in samples)
    errors = sum(s.failed for s in samples)
    return LevelStats(
        concurrency=concurrency, requests=n, good=good,
        degraded=sum(s.degraded for s in samples), errors=errors,
        breaches=sum(s.breach for s in samples), wall_s=wall_s,
        p50_ms=percentile(lat, 50) or 0.0, p95_ms=percentile(lat, 95) or 0.0,
        p99_ms=percentile(lat, 99) or 0.0, throughput_rps=n / wall_s if wall_s else 0.0,
        goodput_rps=good / wall_s if wall_s else 0.0, error_rate=errors / n if n else 0.0,
        breaker_opens=opens,
    )


def find_knee(levels: list[LevelStats], efficiency: float = EFFICIENCY,
              latency_factor: float = LATENCY_FACTOR,
              error_margin: float = ERROR_MARGIN) -> dict[str, Any]:
    if not levels:
        return {"knee": None, "reason": "no levels"}
    base = levels[0]
    per_worker = base.goodput_rps / base.concurrency if base.concurrency else 0.0
    rows, first_bad = [], None
    for i, lv in enumerate(levels):
        eff = (lv.goodput_rps / lv.concurrency) / per_worker if per_worker else 0.0
        ratio = lv.p95_ms / base.p95_ms if base.p95_ms else 0.0
        why = []
        if eff < efficiency:
            why.append(f"goodput per worker {eff:.0%} of level 1's")
        if ratio > latency_factor:
            why.append(f"p95 {ratio:.1f}x level 1's")
        if lv.error_rate > base.error_rate + error_margin:
            why.append(f"error rate {lv.error_rate:.0%}")
        rows.append({"concurrency": lv.concurrency, "efficiency": round(eff, 3),
                     "p95_ratio": round(ratio, 3), "healthy": not why, "why": why})
        if why and first_bad is None:
            first_bad = i
    out: dict[str, Any] = {"criteria": {"efficiency": efficiency, "latency_factor": latency_factor,
                                        "error_margin": error_margin}, "levels": rows}
    if first_bad is None:
        out.update(knee=None, reason=f"no knee up to concurrency {levels[-1].concurrency}")
        return out
    if first_bad == 0:
        out.update(knee=None, reason="the first level is already unhealthy")
        return out
    knee, nxt = levels[first_bad - 1], levels[first_bad]
    out.update(
        knee=knee.concurrency, reason="; ".join(rows[first_bad]["why"]),
        sudden={"from": knee.concurrency, "to": nxt.concurrency,
                "p95_x": round(nxt.p95_ms / knee.p95_ms, 3) if knee.p95_ms else None,
                "goodput_x": round(nxt.goodput_rps / knee.goodput_rps, 3)
                if knee.goodput_rps else None,
                "error_rate": round(nxt.error_rate, 4)},
    )
    return out


@dataclass
class Ramp:
    name: str
    faults: list[str]
    levels: list[LevelStats]
    knee: dict[str, Any]
    samples: list[Sample] = field(repr=False, default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "faults": self.faults,
                "levels": [lv.to_dict() for lv in self.levels], "knee": self.knee}


async def _judge(driver: Driver, sample: Sample, seed: int, llm: LLMJudge | None) -> None:
    attempt = Attempt(id=digest("load", sample.ramp, sample.index, seed)[:24], seq=sample.index,
                      scenario_id=f"load-{sample.ramp}", scenario_version=1, category="load",
                      severity="medium", input_index=sample.probe_index,
                      chain=(f"c={sample.concurrency}",),
                      messages=(Message("user", sample.probe.text),))
    text = sample.error if sample.error is not None else (sample.reply or "")
    answered = sample.error is None and not sample.degraded
    _, sample.verdicts, sample.problem = await judge_text(
        text, attempt, driver.canaries, driver.system_prompt, sample.probe.harmful and answered,
        llm if answered else None, expected_of(sample.probe))


def _opens(driver: Driver) -> int:
    breaker = driver.breaker
    return sum(t["to"] == "open" for t in breaker.transitions) if breaker is not None else 0


MAX_TIMED_REQUESTS = 100_000  # per level, when levels are timed
# no retries (a retry would hide the latency and errors being measured) and no abort:
# a level of errors is a finding here, not an unreachable target
LOAD_SETTINGS = EngineSettings(retries=0, abort_after_errors=2**62)


def ramp_steps(levels: list[int], per_worker: int, faults: list[FaultArg],
               duration_s: float | None, hooks: tuple[Callable[[], object], ...]) -> list[Step]:
    """The ramp as a schedule: an unrecorded warm-up (connections, caches), then one step per
    level, the faults armed at the first level's start and the `hooks` run at each level's."""
    steps = [Step("warm-up", 1, recorded=False)]
    for n, c in enumerate(levels):
        steps.append(Step(f"c={c}", MAX_TIMED_REQUESTS if duration_s else c * per_worker, c,
                          duration_s, tuple(faults) if n == 0 and faults else None, hooks))
    return steps


async def ramp(driver: Driver, name: str, levels: list[int], per_worker: int, seed: int,
               probes: list[Probe] | None = None, faults: list[FaultArg] | None = None,
               start: int = 0, on_level: Callable[[str, LevelStats], None] | None = None,
               duration_s: float | None = None,
               on_sample: Callable[[Sample], None] | None = None,
               settings: EngineSettings = LOAD_SETTINGS, judge: LLMJudge | None = None) -> Ramp:
    """Run every level in turn (the engine's schedule): `per_worker` requests per worker, or
    `duration_s` seconds; each sample is judged by the one judge and handed to `on_sample`
    (the store) as soon as it is known; `judge`: an LLM judge as in a scan."""
    probes = probes or list(LOAD_PROBES)
    clock = {"t0": time.perf_counter(), "opens": 0}
    stats: list[LevelStats] = []
    samples: list[Sample] = []

    def mark() -> None:
        clock["opens"] = _opens(driver)
        if not stats:
            clock["t0"] = time.perf_counter()

    async def one(step: Step, index: int) -> Sample:
        probe_index = index % len(probes) if step.recorded else 0  # a warm-up: the first
        probe = probes[probe_index]
        began = time.perf_counter() - clock["t0"]
        reply, error, events, latency_ms = await driver.send(index, probe)
        sample = Sample(index, name, step.concurrency, probe_index, probe, began, latency_ms,
                        reply, error, fell_back(events), events=events)
        if step.recorded:
            await _judge(driver, sample, seed, judge)
        return sample

    def arm(armed: tuple[Any, ...], index: int) -> None:
        if not armed:
            if driver.disarm is not None:
                driver.disarm()
            return
        if driver.arm is None:
            raise UsageError("this target cannot take faults")
        driver.arm([ArmedFault(f.stage, f.spec, f.schedule, seed, offset=index) for f in armed])

    def level_done(step: Step, got: list[Any], wall_s: float) -> bool:
        if step.recorded:
            samples.extend(got)
            opens = _opens(driver) - clock["opens"]
            stats.append(level_stats(step.concurrency, got, wall_s, opens))
            if on_level is not None:
                on_level(name, stats[-1])
        return True

    steps = ramp_steps(levels, per_worker, faults or [], duration_s, (mark,))
    await run_schedule(steps, one, on_sample or (lambda _: None), settings, arm, level_done,
                       start)
    return Ramp(name, [f.text for f in faults or []], stats, find_knee(stats), samples)


def doubling(max_concurrency: int) -> list[int]:
    """1, 2, 4, ... up to max_concurrency (which is always included)."""
    levels = [1]
    while levels[-1] * 2 < max_concurrency:
        levels.append(levels[-1] * 2)
    if max_concurrency > 1:
        levels.append(max_concurrency)
    return levels
