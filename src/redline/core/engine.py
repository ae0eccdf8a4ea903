"""The engine: the only place that knows about concurrency, rate limits, time-outs and retries.

It pulls attempts lazily from an iterator, so memory does not grow with the size of a run,
sends each to the target with bounded concurrency, judges the responses and hands every
result to a sink (the store writer, the progress bar) as soon as it is known. Runs made of
phases (a cascade experiment: warm-up, steady, fault, recovery) or of concurrency levels (a
load ramp) are schedules (`redline.core.schedules`): `Step`s run through the same pool.

Where the attempts run is an `executor` plugin: `local` (the default) runs them in this
process's event loop; `ray` (redline.plugins.ray_executor, the `ray` extra) on a Ray cluster. Both
take the same `Work` (what builds the per-attempt callable) and hand every result to the
same sink here, in the driver: only the driver writes the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from redline.catalog.schema import DetectorSpec
from redline.core import registry
from redline.core.attempts import seeded_rng
from redline.core.errors import RunAborted, UsageError
from redline.core.judging import judge
from redline.core.models import (
    Attempt,
    AttemptResult,
    Message,
    Outcome,
    TargetRequest,
    TargetResponse,
    Verdict,
)
from redline.core.registry import NoParams, plugin
from redline.core.strategies import Strategy, extend_transcript, static, strategy_for
from redline.evidence.credentials import Masker
from redline.plugins.detectors import DetectionContext
from redline.plugins.targets.base import Target, is_cancellation, raised_by_target


@dataclass(frozen=True)
class EngineSettings:
    concurrency: int = 16
    rate_limit: float | None = None  # requests per second, across all workers
    timeout_s: float = 60.0
    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    abort_after_errors: int = 25  # consecutive errors before any success: target unreachable
    pause_s: float = 0.0  # each worker's pause after each result (a paced workload)


class Throttle:
    """A shared pacing gate: a steady request rate, and a pause when the target says 429."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self.next_slot = 0.0
        self.paused_until = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self.paused_until > now:
                await asyncio.sleep(self.paused_until - now)
                continue
            if not self.interval:
                return
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
            if slot > now:
                await asyncio.sleep(slot - now)
            return

    def pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self.paused_until = max(self.paused_until, loop.time() + seconds)


class TargetInterrupted(Exception):
    """KeyboardInterrupt inside target code, carried out of its worker as an ordinary
    exception so that the task group cancels the other workers cleanly."""


async def call_with_retries(
    target: Target, request: TargetRequest, settings: EngineSettings, throttle: Throttle,
    attempt_id: str,
) -> tuple[TargetResponse, int]:
    """Send one request; retry transport errors, time-outs, 429 and 5xx with backoff."""
    rng = seeded_rng("backoff", attempt_id)
    tries = 0
    while True:
        tries += 1
        await throttle.wait()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(settings.timeout_s):
                resp = await target.send(request)
        except TimeoutError:
            resp = TargetResponse(text=None, error=f"timed out after {settings.timeout_s:g}s",
                                  retryable=True, latency_s=time.perf_counter() - started)
        except BaseException as exc:  # whatever a target raises is its error, never a crash
            if is_cancellation(exc):
                raise
            if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, even inside target code: stop
                raise TargetInterrupted from None
            resp = raised_by_target(exc, time.perf_counter() - started)
        if resp.ok or not resp.retryable or tries > settings.retries:
            return resp, tries
        if resp.retry_after_s is not None:
            delay = min(resp.retry_after_s, settings.max_backoff_s)
            throttle.pause(delay)
        else:
            base = min(settings.max_backoff_s, settings.backoff_s * 2 ** (tries - 1))
            delay = base * (0.5 + rng.random() / 2)
        await asyncio.sleep(delay)


@dataclass
class Executor:
    """Runs one attempt end to end: all its turns, then the detectors."""

    target: Target
    settings: EngineSettings
    detectors: Mapping[str, Sequence[DetectorSpec]]
    judge_client: object | None = None
    briefs: Mapping[str, Mapping[str, str]] | None = None  # scenario id -> expected, objective
    # which strategy drives an attempt's turns (default: static, or scripted follow-ups)
    strategy: Callable[[Attempt], Strategy] = strategy_for
    mask: Masker | None = None  # the run's own credentials, masked as responses come in

    def __post_init__(self) -> None:
        self.throttle = Throttle(self.settings.rate_limit)
        self.canaries = tuple(self.target.canaries)
        self.system_prompt = self.target.system_prompt

    def context(self, attempt: Attempt) -> DetectionContext:
        return DetectionContext(
            attempt=attempt,
            canaries=attempt.canaries + self.canaries,
            system_prompt=self.system_prompt,
            judge=self.judge_client,
            extra=dict(self.briefs.get(attempt.scenario_id, {})) if self.briefs else {},
        )

    async def judge_reply(self, attempt: Attempt, responses: Sequence[TargetResponse],
                          transcript: Sequence[Message] = ()
                          ) -> tuple[Outcome, list[Verdict], str | None]:
        """The one judge over some of an attempt's replies (an attack scores each); the
        transcript is there for detectors that judge the attempt as a whole."""
        ctx = replace(self.context(attempt), transcript=tuple(transcript))
        return await judge(attempt, responses, self.detectors[attempt.scenario_id], ctx)

    async def __call__(self, attempt: Attempt) -> AttemptResult:
        started = time.time()
        strategy = self.strategy(attempt)
        transcript, responses, tries, problem = await self.converse(attempt, strategy)
        if problem is not None:
            outcome, verdicts, error = "error", [], problem
        else:
            outcome, verdicts, error = await self.judge_reply(attempt, responses, transcript)
        report = getattr(strategy, "report", None)
        told = report(attempt.id) if report is not None else None
        if told is not None:
            outcome, verdicts, error = told.settle(outcome, verdicts, error)
        if self.mask is not None and self.mask.pattern is not None:
            # a judge's (or an attacker's) recorded reply or error may echo a credential too
            verdicts = [replace(v, evidence=self.mask.data(v.evidence)) for v in verdicts]
            error = self.mask.text(error)
        return AttemptResult(
            attempt=attempt, outcome=outcome, transcript=transcript, responses=responses,
            verdicts=verdicts, error=error, tries=tries, started_at=started,
            latency_s=sum(r.latency_s for r in responses),
        )

    async def send(self, request: TargetRequest, attempt_id: str, turn: int
                   ) -> tuple[TargetResponse, int]:
        """One turn: send with retries, then mask the run's credentials out of the reply."""
        resp, tries = await call_with_retries(self.target, request, self.settings,
                                              self.throttle, f"{attempt_id}/{turn}")
        if self.mask is not None:
            resp = self.mask.response(resp)
        return resp, tries

    async def converse(self, attempt: Attempt, strategy: Strategy
                       ) -> tuple[list[Message], list[TargetResponse], int, str | None]:
        """Drive the attempt's strategy: send each request it yields, hand it each reply,
        stop at the first error response. A strategy that raises is an error."""
        transcript: list[Message] = []
        responses: list[TargetResponse] = []
        tries = 0
        if strategy is static:  # the hot path: one turn needs no conversation object
            request = TargetRequest(attempt.messages, attempt.id, attempt.payload)
            extend_transcript(transcript, request)
            resp, tries = await self.send(request, attempt.id, 0)
            if resp.ok:
                transcript.append(Message("assistant", resp.content))
            return transcript, [resp], tries, None
        try:
            conversation = strategy(attempt)
        except Exception as exc:  # a strategy that cannot start is an error, never a pass
            return transcript, responses, tries, f"strategy failed: {type(exc).__name__}: {exc}"
        try:
            request = await anext(conversation)
            while True:
                extend_transcript(transcript, request)
                resp, n = await self.send(request, attempt.id, len(responses))
                tries += n
                responses.append(resp)
                if not resp.ok:
                    break
                transcript.append(Message("assistant", resp.content))
                request = await conversation.asend(resp)
        except StopAsyncIteration:
            pass
        except TargetInterrupted:
            raise
        except Exception as exc:  # a strategy bug is an error, never a pass
            return transcript, responses, tries, f"strategy failed: {type(exc).__name__}: {exc}"
        finally:
            await conversation.aclose()
        if not responses:
            return transcript, responses, tries, "the strategy sent no request"
        return transcript, responses, tries, None


class Judged(Protocol):
    """What the engine needs of a result: its outcome, and the error if it is one."""

    @property
    def outcome(self) -> str: ...

    @property
    def error(self) -> str | None: ...


W = TypeVar("W")  # a unit of work: an attempt, a load request's index
R = TypeVar("R", bound=Judged)


class ErrorStreak:
    """Aborts a run whose first attempts all fail with errors (the target is unreachable)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.successes = 0
        self.errors_in_a_row = 0

    def account(self, result: Judged) -> None:
        if result.outcome == "error":
            self.errors_in_a_row += 1
            if self.successes == 0 and self.errors_in_a_row >= self.limit:
                raise RunAborted(
                    f"the first {self.errors_in_a_row} attempts all failed with errors; "
                    f"last error: {result.error}"
                )
        else:
            self.successes += 1
            self.errors_in_a_row = 0


async def run_attempts(
    attempts: Iterable[W],
    execute: Callable[[W], Awaitable[R]],
    on_result: Callable[[R], None],
    settings: EngineSettings,
) -> None:
    """Run every attempt with at most `settings.concurrency` in flight (closed-loop workers
    pulling from one lazy iterator); every kind of run goes through here."""
    source = iter(attempts)
    streak = ErrorStreak(settings.abort_after_errors)

    async def worker() -> None:
        for attempt in source:
            result = await execute(attempt)
            on_result(result)
            streak.account(result)
            # A target that never suspends (an inline Python callable) would otherwise run
            # the whole plan in one step of the loop: the other workers would never start, and
            # the loop would never purge the cancelled time-out handles, one per request, that
            # it keeps until then (~300 bytes per attempt: 300 MB at a million attempts).
            await asyncio.sleep(settings.pause_s)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, settings.concurrency)):
                group.create_task(worker())
    except* RunAborted as eg:
        raise eg.exceptions[0] from None
    except* TargetInterrupted:  # the other workers are cancelled by now: stop as Ctrl-C does
        raise KeyboardInterrupt from None


class Work(Protocol[W, R]):
    """What an executor runs: `open()` builds the per-attempt callable (the target, judge and
    strategies behind it) and closes what it opened; `release()` closes what the work was
    handed. A remote executor ships `portable(parts)` to each of its `parts` workers, which
    open their own; `failed` is the error result of an attempt no worker could finish."""

    def open(self) -> AbstractAsyncContextManager[Callable[[W], Awaitable[R]]]: ...

    async def release(self) -> None: ...

    def portable(self, parts: int) -> Work[W, R]: ...

    def failed(self, item: W, reason: str) -> R: ...


class AttemptRunner(Protocol):
    """An `executor` plugin: runs every attempt of `work`, results to `on_result`."""

    async def run(self, attempts: Iterable[Any], work: Work[Any, Any],
                  on_result: Callable[[Any], None], settings: EngineSettings) -> None: ...


@plugin("executor", "local", params=NoParams)
class LocalExecutor:
    """Attempts in this process, `--concurrency` in flight (the default)."""

    usage = "local"

    def __init__(self, params: NoParams | None = None) -> None:
        self.params = params

    async def run(self, attempts: Iterable[W], work: Work[W, R], on_result: Callable[[R], None],
                  settings: EngineSettings) -> None:
        async with work.open() as execute:
            await run_attempts(attempts, execute, on_result, settings)


def executor_for(spec: str, params: Mapping[str, Any] | None = None,
                 flags: Mapping[str, str] | None = None) -> AttemptRunner:
    """The executor plugin a spec names (`local`, `ray`, `ray:ADDRESS`) with its parameters
    (None: unset); a bad name or value is a UsageError naming the option (`flags`: parameter
    -> the command-line option that sets it)."""
    name, _, address = spec.partition(":")
    try:
        entry = registry.get("executor", name)
    except registry.UnknownPlugin as exc:
        raise UsageError(f"--executor {spec!r}: {exc}") from None
    raw = {k: v for k, v in (params or {}).items() if v is not None}
    if address:
        raw["address"] = address
    try:
        chosen = (entry.params or NoParams).model_validate(raw)
    except registry.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        where = (flags or {}).get(where, where)
        if first["type"] == "extra_forbidden":
            raise UsageError(f"--executor {spec!r} takes no {where}") from None
        raise UsageError(f"--executor {spec!r}: {where}: {first['msg']}") from None
    runner: AttemptRunner = entry.obj(chosen)
    return runner
