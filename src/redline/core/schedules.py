"""Schedules: runs made of steps (the phases of a cascade experiment: warm-up, steady, fault,
recovery; the concurrency levels of a load ramp), each step run by the engine's one pool
(`redline.core.engine.run_attempts`) with its retries, time-outs, rate limits and Ctrl-C
behaviour; every recorded result goes to the sink as it is judged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from redline.core.engine import EngineSettings, Judged, TargetInterrupted, Throttle, run_attempts
from redline.core.errors import UsageError

R = TypeVar("R", bound=Judged)


@dataclass(frozen=True)
class Step:
    """One step of a schedule (a phase of a cascade experiment, a level of a load ramp).

    `requests` requests over `concurrency` workers, or as many as fit in `duration_s` (then
    `requests` is only a cap). At its start the faults change (`faults`: arm these; `()`:
    disarm; None: leave them), then its `hooks` run (a rollback, a clock). A step that is not
    `recorded` (a warm-up) hands its results to no sink and counts no index."""

    name: str
    requests: int
    concurrency: int = 1
    duration_s: float | None = None
    faults: tuple[Any, ...] | None = None
    hooks: tuple[Callable[[], object], ...] = ()
    recorded: bool = True
    pace_s: float = 0.0


# arms a step's faults (`()` disarms them) given the index of its first request
Arm = Callable[[tuple[Any, ...], int], None]
# after each step: its results in index order and its wall time; False stops the schedule
After = Callable[[Step, list[Any], float], bool]


async def run_schedule(
    steps: Iterable[Step],
    execute: Callable[[Step, int], Awaitable[R]],
    on_result: Callable[[R], None],
    settings: EngineSettings,
    arm: Arm | None = None,
    after: After | None = None,
    start: int = 0,
) -> int:
    """Run each step through `run_attempts` in turn; every recorded result goes to
    `on_result` as it is judged. Returns the index after the last request. Faults still armed
    when the schedule ends (or fails) are disarmed."""
    index, armed = start, False
    try:
        for step in steps:
            if step.faults is not None:
                if step.faults and arm is None:
                    raise UsageError(f"step {step.name!r} arms faults this target cannot take")
                if arm is not None:
                    arm(step.faults, index)
                armed = bool(step.faults)
            for hook in step.hooks:
                hook()
            began = time.perf_counter()
            results = await _run_step(step, index, execute, on_result, settings)
            index += len(results) if step.recorded else 0
            if after is not None and not after(step, results, time.perf_counter() - began):
                break
    finally:
        if armed and arm is not None:
            arm((), index)
    return index


async def _run_step(step: Step, start: int, execute: Callable[[Step, int], Awaitable[R]],
                    on_result: Callable[[R], None], settings: EngineSettings) -> list[R]:
    """One step's requests (indices from `start`; a warm-up's count down from -1)."""
    deadline = time.perf_counter() + step.duration_s if step.duration_s else None
    sign, first = (1, start) if step.recorded else (-1, -1)
    done: list[tuple[int, R]] = []
    throttle = Throttle(settings.rate_limit) if settings.rate_limit else None

    def indices() -> Iterable[int]:
        for n in range(step.requests):
            if deadline is not None and time.perf_counter() >= deadline:
                return
            yield first + sign * n

    async def one(i: int) -> R:
        if throttle is not None:
            await throttle.wait()
        try:
            result = await execute(step, i)
        except KeyboardInterrupt:  # Ctrl-C inside the system under test: stop, as a scan does
            raise TargetInterrupted from None
        done.append((i, result))
        return result

    def keep(result: R) -> None:
        if step.recorded:
            on_result(result)

    pool = replace(settings, concurrency=step.concurrency, pause_s=step.pace_s)
    try:
        await run_attempts(indices(), one, keep, pool)
    except* Exception as eg:  # the caller sees the error itself, as from a plain loop
        raise eg.exceptions[0] from None
    return [r for _, r in sorted(done, key=lambda item: item[0])]
