"""One scan: catalog -> attempts -> engine -> target -> detectors -> store -> summary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from redline.analysis.summary import ExitCode, ScenarioInfo, Summary, exit_code, summarise
from redline.attack.attacker import Attacker
from redline.attack.driver import drivers, live_attacker
from redline.catalog import load_suite
from redline.catalog.schema import Scenario, ScenarioHeader, parse_scenario
from redline.core import registry, strategies
from redline.core.attempts import expand
from redline.core.config import JudgeConfig, ScanConfig
from redline.core.engine import AttemptRunner, EngineSettings, Executor, LocalExecutor
from redline.core.errors import RunAborted
from redline.core.halting import Halter, RunHalted
from redline.core.models import Attempt, AttemptResult
from redline.core.paths import check_dir_option, run_dir
from redline.core.plan import Plan, masker_for, new_plan, resume_plan
from redline.plugins.detectors.judge import LLMJudge, RecordedCalls
from redline.plugins.targets.base import Target
from redline.plugins.targets.openai_chat import OpenAIChatTarget
from redline.plugins.targets.spec import build_target
from redline.report import write_reports
from redline.store import BatchWriter, RunInfo, Store, db_location


@dataclass
class ScanResult:
    run: RunInfo
    summary: Summary
    code: ExitCode
    reports: dict[str, Path]
    problem: str | None
    wall_s: float


def scenario_info(scenarios: list[ScenarioHeader]) -> dict[str, ScenarioInfo]:
    return {
        s.id: ScenarioInfo(s.title, s.category, s.severity, s.success.max_failure_rate)
        for s in scenarios
    }


def settings_for(config: ScanConfig) -> EngineSettings:
    return EngineSettings(
        concurrency=config.concurrency or config.target.concurrency,
        rate_limit=config.rate_limit,
        timeout_s=config.timeout_s or config.target.timeout_s, retries=config.retries,
    )


def judge_client(config: ScanConfig, recorded: RecordedCalls | None = None) -> LLMJudge | None:
    """The configured LLM judge; on a replay, the run's recorded judge calls instead."""
    return judge_from(config.judge, recorded)


def judge_from(j: JudgeConfig | None, recorded: RecordedCalls | None = None) -> LLMJudge | None:
    """An LLM judge as configured (None: none, or mode never), for every kind of run."""
    if j is None or j.mode == "never":
        return None
    client: Any = recorded
    if client is None:
        client = OpenAIChatTarget(base_url=j.base_url, model=j.model, api_key_env=j.api_key_env,
                                  timeout_s=j.timeout_s, max_tokens=j.max_tokens)
    return LLMJudge(client, style=j.style, mode=j.mode, threshold=j.threshold,
                    timeout_s=j.timeout_s + 5, conversation=j.conversation, model=j.model)


# the plugin kinds that running an attempt looks up (attempts are planned by the driver)
WORKER_KINDS = ("target", "detector", "strategy")


@dataclass
class ScanWork:
    """What every attempt of a scan runs through: its target, judge, strategies and masker.

    `open()` builds the engine's per-attempt Executor and closes what it built; `release()`
    closes the target and attacker it was handed. A remote worker gets `portable()`: a live
    target and attacker are rebuilt there from the config (a local model loads on the worker),
    a replay's recordings travel as data."""

    config: ScanConfig
    scenarios: list[Scenario]
    target: Target | None  # None: built from config.target by open()
    recorded: RecordedCalls | None = None  # a replay's recorded judge calls
    attacker: Attacker | None = None
    build_live: bool = False  # open() builds the target and attacker itself
    plugins: list[registry.Plugin] = field(default_factory=list)  # the driver's own plugins

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Executor]:
        registry.adopt(self.plugins)
        if self.build_live:
            self.target = build_target(self.config.target, seed=self.config.seed)
            self.attacker = live_attacker(self.config.attacker, self.scenarios,
                                          self.config.seed)
            self.build_live = False
        assert self.target is not None
        config, scenarios = self.config, self.scenarios
        judge = judge_client(config, self.recorded)
        executor = Executor(
            target=self.target, settings=settings_for(config),
            detectors={s.id: list(s.detectors) for s in scenarios}, judge_client=judge,
            briefs={s.id: {"expected": s.expected, "objective": s.objective} for s in scenarios},
            mask=masker_for(config),
        )
        # attack scenarios: a driver bound to the run's attacker and the executor's judge
        executor.strategy, chosen = strategies.selector(
            {s.id: s.strategy_choice() for s in scenarios},
            drivers(scenarios, self.attacker, executor.judge_reply,
                    config.budget.prices if config.budget else None))
        try:
            yield executor
        finally:
            if judge is not None:
                await judge.aclose()
            await strategies.aclose_all(chosen)

    async def release(self) -> None:
        if self.target is not None:
            await self.target.aclose()
        if self.attacker is not None:
            await self.attacker.aclose()

    def portable(self, parts: int) -> ScanWork:
        """A copy for one of `parts` remote workers; the run's rate limit is split between
        them, so that all of them together keep to it."""
        rate = self.config.rate_limit
        config = self.config if rate is None else self.config.model_copy(
            update={"rate_limit": rate / max(1, parts)})
        plugins = registry.own_plugins(WORKER_KINDS)  # a test's or a script's detectors
        if self.recorded is not None:  # a replay: the cassette and the recorded attacker
            return replace(self, config=config, plugins=plugins)
        return replace(self, config=config, target=None, attacker=None, build_live=True,
                       plugins=plugins)

    def failed(self, attempt: Attempt, reason: str) -> AttemptResult:
        return AttemptResult(attempt=attempt, outcome="error", transcript=[], responses=[],
                             verdicts=[], error=reason, tries=0, started_at=time.time(),
                             latency_s=0.0)


async def _drive(config: ScanConfig, plan: Plan, attempts: Iterable[Attempt],
                 on_result: Callable[[AttemptResult], None], executor: AttemptRunner) -> None:
    work = ScanWork(config, plan.scenarios, plan.target, plan.judge_recording, plan.attacker)
    try:
        await executor.run(attempts, work, on_result, settings_for(config))
    finally:
        await work.release()


def scan(config: ScanConfig, on_result: Callable[[AttemptResult], None] | None = None,
         on_start: Callable[[str, int], None] | None = None, *, resume: str | None = None,
         replay_of: str | None = None, sign_with: Path | None = None,
         executor: AttemptRunner | None = None) -> ScanResult:
    """Run a scan, resume an unfinished one (`resume`), or re-judge a recording (`replay_of`).

    A resumed run re-expands the same plan from its stored config and seed, skips every
    attempt already stored, and continues the same audit chain. `executor` is where the
    attempts run (default: this process); any of them gives the same attempts and verdicts.
    """
    started = time.perf_counter()
    # where the store and the reports go is checked before anything runs
    location = db_location(config.db)
    check_dir_option(Path(config.out), "--out")
    loaded = None
    if resume is None and replay_of is None:
        # a bad catalog or target fails here, before anything is written
        suite = load_suite(config.suite)
        loaded = (suite, build_target(config.target, seed=config.seed),
                  live_attacker(config.attacker, suite, config.seed))
    store = Store(location)
    try:
        with contextlib.ExitStack() as held:
            if resume is not None:
                plan, stored = resume_plan(store, resume, held)
                # a resume runs the rest: the halt already happened (budgets start afresh)
                config = stored.model_copy(update={"db": config.db, "out": config.out,
                                                   "halt": None})
            else:
                if replay_of is not None:  # the recorded run's attempts: planned from its seed
                    config = config.model_copy(update={"seed": store.get_run(replay_of).seed})
                plan = new_plan(config, store, replay_of, loaded, held)
            return _execute(config, store, plan, on_result, on_start, sign_with, started,
                            executor)
    finally:
        store.close()


class _Stop:
    """SIGTERM (how CI cancels a job) stops a scan as Ctrl-C does: the run's task is
    cancelled, what is stored is kept and the run is marked interrupted."""

    def __init__(self) -> None:
        self.reason = "interrupted by the user (Ctrl-C)"
        self.terminated = False
        self.interrupted = False
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, work: Awaitable[None]) -> None:
        self._task, self._loop = asyncio.current_task(), asyncio.get_running_loop()
        try:
            await work
        except KeyboardInterrupt:  # raised inside target code: the run stops as interrupted
            self.interrupted = True

    def _terminate(self, signum: int, frame: object) -> None:
        self.reason, self.terminated = "terminated by SIGTERM", True
        if self._task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)

    @contextlib.contextmanager
    def on_sigterm(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGTERM, self._terminate)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)
        if self.terminated or self.interrupted:
            raise KeyboardInterrupt


def _execute(config: ScanConfig, store: Store, plan: Plan,
             on_result: Callable[[AttemptResult], None] | None,
             on_start: Callable[[str, int], None] | None, sign_with: Path | None,
             started: float, executor: AttemptRunner | None = None) -> ScanResult:
    if on_start is not None:
        on_start(plan.run_id, plan.planned)
    writer = BatchWriter(store, plan.run_id)
    halter = Halter(config.halt, config.budget)

    def record(result: AttemptResult) -> None:
        writer.add(result)
        if on_result is not None:
            on_result(result)
        if halter.active:
            halter.observe(result)  # RunHalted stops the run: stored as halted, resumable

    # lazily: a million planned attempts must not sit in memory at once
    todo = (a for a in expand(plan.scenarios, config.seed) if a.id not in plan.done)
    status, problem, completed = "completed", None, True
    halted: dict[str, str] | None = None
    stop = _Stop()
    try:
        with stop.on_sigterm(), contextlib.suppress(asyncio.CancelledError):
            asyncio.run(stop.run(_drive(config, plan, todo, record,
                                        executor or LocalExecutor())))
    except RunHalted as exc:
        status, problem, completed, halted = "halted", str(exc), False, exc.to_dict()
    except RunAborted as exc:
        status, problem, completed = "aborted", str(exc), False
    except KeyboardInterrupt:
        status, problem, completed = "interrupted", stop.reason, False
    finally:
        writer.flush()
    info = scenario_info(plan.scenarios)
    summary = summarise(store.outcome_rows(plan.run_id), info, plan.planned)
    code = exit_code(summary, completed, config.max_error_rate)
    if completed and code == ExitCode.INCOMPLETE:
        problem = (f"error rate {summary.total.error_rate:.1%} is over the allowed "
                   f"{config.max_error_rate:.1%}")
    metrics = scenario_metrics(store, plan.run_id, plan.scenarios, config.seed)
    store.finish_run(plan.run_id, status, {**summary.to_dict(), "exit_code": int(code),
                                           "problem": problem,
                                           **({"metrics": metrics} if metrics else {}),
                                           **({"halt": halted} if halted else {})})
    if sign_with is not None:
        from redline.evidence.verify import sign_run

        sign_run(store, plan.run_id, sign_with)
    run = store.get_run(plan.run_id)
    reports = write_reports(run_dir(Path(config.out), plan.run_id), store, run, summary,
                            int(code))
    return ScanResult(run, summary, code, reports, problem, time.perf_counter() - started)


def scenario_metrics(store: Store, run_id: str, scenarios: list[Scenario], seed: int
                     ) -> dict[str, Any]:
    """Run-level metrics of the kinds that have them (robust accuracy, ECE, parity...),
    from each attempt's stored outcome and the evidence of its first verdict; they are part
    of the run's chained finish record."""
    out: dict[str, Any] = {}
    for s in scenarios:
        measure = getattr(s, "metrics", None)
        if measure is None:
            continue
        rows = []
        for outcome, verdicts in store.scenario_verdicts(run_id, s.id):
            found = json.loads(verdicts)
            rows.append((outcome, found[0].get("evidence", {}) if found else {}))
        out[s.id] = measure(rows, seed)
    return out


def scenario_info_from_store(store: Store, run_id: str) -> dict[str, ScenarioInfo]:
    """Criteria as they were when the run was made, not as the catalog has them now."""
    defs = store.scenario_definitions(run_id).values()
    return scenario_info([parse_scenario(d) for d in defs])


def stored_summary(store: Store, info: RunInfo, reviewed: bool = True) -> Summary:
    """A stored run's summary, recomputed from its results and its own scenario criteria
    (with `reviewed`, people's labels override the detectors)."""
    return summarise(store.outcome_rows(info.id, reviewed),
                     scenario_info_from_store(store, info.id), info.planned)
