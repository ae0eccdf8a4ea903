"""The engine's schedule runner: steps, faults and hooks at their start, warm-ups, timed
steps, concurrency per step, streaming and Ctrl-C; and the experiment and ramp that use it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from redline.core.engine import EngineSettings
from redline.core.schedules import Step, run_schedule


@dataclass
class Done:
    index: int
    step: str
    armed: tuple[str, ...]
    outcome: str = "pass"
    error: str | None = None


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.armed: tuple[str, ...] = ()
        self.streamed: list[int] = []
        self.in_flight = 0
        self.peak: dict[str, int] = {}

    def arm(self, faults: tuple[object, ...], index: int) -> None:
        self.events.append(f"arm{list(faults)}@{index}")
        self.armed = tuple(str(f) for f in faults)

    async def execute(self, step: Step, index: int) -> Done:
        self.in_flight += 1
        self.peak[step.name] = max(self.peak.get(step.name, 0), self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        return Done(index, step.name, self.armed)


async def test_steps_arm_faults_run_hooks_and_number_requests() -> None:
    log = Log()
    seen: dict[str, list[Done]] = {}

    def after(step: Step, got: list[Done], wall_s: float) -> bool:
        seen[step.name] = got
        log.events.append(f"after {step.name}")
        return True

    steps = [Step("warm-up", 1, faults=(), recorded=False),
             Step("steady", 4, concurrency=2),
             Step("fault", 6, concurrency=3, faults=("latency",)),
             Step("recovery", 3, faults=(), hooks=(lambda: log.events.append("rollback"),))]
    end = await run_schedule(steps, log.execute, lambda d: log.streamed.append(d.index),
                             EngineSettings(), log.arm, after, start=10)
    assert end == 23
    assert [d.index for d in seen["warm-up"]] == [-1]  # unrecorded: no index, no sink
    assert [d.index for d in seen["steady"]] == [10, 11, 12, 13]
    assert [d.index for d in seen["fault"]] == list(range(14, 20))
    assert {d.armed for d in seen["fault"]} == {("latency",)}
    assert {d.armed for d in seen["recovery"]} == {()}
    assert sorted(log.streamed) == list(range(10, 23))
    assert log.events == ["arm[]@10", "after warm-up", "after steady", "arm['latency']@14",
                          "after fault", "arm[]@20", "rollback", "after recovery"]
    assert log.peak == {"warm-up": 1, "steady": 2, "fault": 3, "recovery": 1}


async def test_a_step_can_stop_the_schedule_and_armed_faults_never_outlive_it() -> None:
    log = Log()
    steps = [Step("fault", 2, faults=("error",)), Step("never", 2)]
    await run_schedule(steps, log.execute, lambda d: None, EngineSettings(), log.arm,
                       lambda step, got, wall: False)
    assert log.events == ["arm['error']@0", "arm[]@2"]

    async def boom(step: Step, index: int) -> Done:
        raise RuntimeError("system under test crashed the runner")

    log = Log()
    with pytest.raises(RuntimeError):
        await run_schedule([Step("fault", 1, faults=("down",))], boom, lambda d: None,
                           EngineSettings(), log.arm)
    assert log.events == ["arm['down']@0", "arm[]@0"]


async def test_timed_step_stops_at_its_duration_and_pace_spaces_requests() -> None:
    log = Log()
    got: list[Done] = []
    started = time.perf_counter()
    await run_schedule([Step("timed", 100_000, concurrency=2, duration_s=0.15)], log.execute,
                       got.append, EngineSettings())
    assert 0.15 <= time.perf_counter() - started < 0.6 and 4 <= len(got) < 100_000
    paced: list[Done] = []
    started = time.perf_counter()
    await run_schedule([Step("paced", 4, pace_s=0.05)], log.execute, paced.append,
                       EngineSettings())
    assert len(paced) == 4 and time.perf_counter() - started >= 0.2


async def test_ctrl_c_in_the_system_under_test_stops_the_schedule() -> None:
    streamed: list[int] = []

    async def execute(step: Step, index: int) -> Done:
        if index == 5:
            raise KeyboardInterrupt
        await asyncio.sleep(0)
        return Done(index, step.name, ())

    with pytest.raises(KeyboardInterrupt):
        await run_schedule([Step("s", 50, concurrency=2)], execute,
                           lambda d: streamed.append(d.index), EngineSettings())
    assert 5 not in streamed and len(streamed) < 50


def test_ctrl_c_in_a_pipeline_stage_keeps_what_a_chaos_run_recorded(tmp_path: Path) -> None:
    from redline.cascade.chaos import run_chaos
    from redline.cascade.schema import CascadeScenario, builtin_cascades
    from redline.pipeline.declared import choose_pipeline
    from redline.store import Store

    data = next(s for s in builtin_cascades() if s.id == "cx-model-error-echo").model_dump()
    data.update(stage="reply", fault={"kind": "latency", "latency_ms": 1},
                workload={"requests": 4, "probes": ["hello"]}, steady_state={"requests": 3})
    scenario = CascadeScenario.model_validate(data)
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text('name: cut\nstages:\n'
                        '  - {name: reply, python: "test_schedule:interrupted_on_the_fifth"}\n')
    CALLS["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        run_chaos([scenario], 0, tmp_path / "r.db", tmp_path / "out",
                  pipeline=choose_pipeline(pipeline))
    store = Store(tmp_path / "r.db")
    try:
        run = store.runs()[0]
        rows = list(store.results(run.id))
    finally:
        store.close()
    assert run.status == "interrupted" and len(rows) == 3  # warm-up, then three before Ctrl-C


CALLS = {"n": 0}


async def interrupted_on_the_fifth(turn):  # the first call is the unrecorded warm-up
    CALLS["n"] += 1
    if CALLS["n"] == 5:
        raise KeyboardInterrupt
    turn.reply, turn.done = "Hello there.", True
    turn.log("reply", "answer")
    return turn
