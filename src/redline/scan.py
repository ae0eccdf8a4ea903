"""One scan: catalog -> attempts -> engine -> target -> detectors -> store -> summary."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from redline.attempts import count_attempts, expand
from redline.catalog import load_suite
from redline.catalog.schema import DetectorSpec, Scenario
from redline.config import ScanConfig
from redline.engine import EngineSettings, Executor, run_attempts
from redline.errors import RunAborted
from redline.manifest import build_manifest
from redline.models import AttemptResult
from redline.report import write_reports
from redline.store import BatchWriter, RunInfo, Store
from redline.summary import ExitCode, ScenarioInfo, Summary, exit_code, summarise
from redline.targets.base import Target
from redline.targets.openai_chat import OpenAIChatTarget
from redline.targets.spec import build_target


@dataclass
class ScanResult:
    run: RunInfo
    summary: Summary
    code: ExitCode
    reports: dict[str, Path]
    problem: str | None
    wall_s: float


def new_run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def scenario_info(scenarios: list[Scenario]) -> dict[str, ScenarioInfo]:
    return {
        s.id: ScenarioInfo(s.title, s.category, s.severity, s.success.max_failure_rate)
        for s in scenarios
    }


def settings_for(config: ScanConfig) -> EngineSettings:
    return EngineSettings(
        concurrency=config.concurrency, rate_limit=config.rate_limit,
        timeout_s=config.timeout_s, retries=config.retries,
    )


def judge_client(config: ScanConfig) -> OpenAIChatTarget | None:
    if config.judge is None:
        return None
    j = config.judge
    return OpenAIChatTarget(base_url=j.base_url, model=j.model, api_key_env=j.api_key_env,
                            timeout_s=j.timeout_s, max_tokens=200)


async def _drive(config: ScanConfig, scenarios: list[Scenario], target: Target,
                 on_result: Callable[[AttemptResult], None]) -> None:
    judge = judge_client(config)
    extra = [DetectorSpec(name="llm_judge")] if judge is not None else []
    executor = Executor(
        target=target, settings=settings_for(config),
        detectors={s.id: [*s.detectors, *extra] for s in scenarios}, judge_client=judge,
        briefs={s.id: {"expected": s.expected, "objective": s.objective} for s in scenarios},
    )
    try:
        await run_attempts(expand(scenarios, config.seed), executor, on_result,
                           settings_for(config))
    finally:
        await target.aclose()
        if judge is not None:
            await judge.aclose()


def scan(config: ScanConfig, on_result: Callable[[AttemptResult], None] | None = None,
         on_start: Callable[[str, int], None] | None = None) -> ScanResult:
    started = time.perf_counter()
    scenarios = load_suite(config.suite)
    target = build_target(config.target, seed=config.seed)
    planned = count_attempts(scenarios, config.seed)
    config_dict = config.model_dump(mode="json")
    manifest = build_manifest(config_dict, scenarios, target.describe(), config.seed, planned)
    store = Store(Path(config.db))
    run_id = new_run_id()
    store.create_run(
        run_id, target.spec, config.suite, config.seed, planned, config_dict, manifest,
        [(s.id, s.version, s.model_dump(mode="json")) for s in scenarios],
    )
    if on_start is not None:
        on_start(run_id, planned)
    writer = BatchWriter(store, run_id)

    def record(result: AttemptResult) -> None:
        writer.add(result)
        if on_result is not None:
            on_result(result)

    status, problem, completed = "completed", None, True
    try:
        asyncio.run(_drive(config, scenarios, target, record))
    except RunAborted as exc:
        status, problem, completed = "aborted", str(exc), False
    except KeyboardInterrupt:
        status, problem, completed = "interrupted", "interrupted by the user", False
    finally:
        writer.flush()
    summary = summarise(store.outcome_rows(run_id), scenario_info(scenarios), planned)
    code = exit_code(summary, completed, config.max_error_rate)
    if completed and code == ExitCode.INCOMPLETE:
        problem = (f"error rate {summary.total.error_rate:.1%} is over the allowed "
                   f"{config.max_error_rate:.1%}")
    store.finish_run(run_id, status, {**summary.to_dict(), "exit_code": int(code),
                                       "problem": problem})
    run = store.get_run(run_id)
    reports = write_reports(Path(config.out) / run_id, store, run, summary, int(code))
    store.close()
    return ScanResult(run, summary, code, reports, problem, time.perf_counter() - started)



def scenario_info_from_store(store: Store, run_id: str) -> dict[str, ScenarioInfo]:
    """Criteria as they were when the run was made, not as the catalog has them now."""
    defs = store.scenario_definitions(run_id).values()
    return scenario_info([Scenario.model_validate(d) for d in defs])
