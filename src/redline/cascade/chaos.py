"""`redline chaos`: run cascade experiments, store each as a run, write journals and reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redline.analysis.summary import ExitCode
from redline.cascade.experiment import Observation, run_experiment
from redline.cascade.journal import Journal, build_journal
from redline.cascade.record import ExperimentRecorder
from redline.cascade.schema import CascadeScenario
from redline.core.config import JudgeConfig
from redline.pipeline.declared import choose_pipeline
from redline.pipeline.stages import Pipeline
from redline.pipeline.system import System
from redline.plugins.detectors.judge import LLMJudge
from redline.store import RunInfo, Store


@dataclass
class ExperimentRecord:
    scenario: CascadeScenario
    journal: Journal
    run: RunInfo
    code: ExitCode
    files: dict[str, Path]


@dataclass
class ChaosResult:
    experiments: list[ExperimentRecord] = field(default_factory=list)
    running: ExperimentRecorder | None = None  # the experiment in progress

    @property
    def code(self) -> ExitCode:
        codes = {e.code for e in self.experiments}
        if ExitCode.INCOMPLETE in codes:
            return ExitCode.INCOMPLETE
        return ExitCode.FINDINGS if ExitCode.FINDINGS in codes else ExitCode.OK


# the bundled LLM takes seconds per reply on a CPU: a user who waits 5 s would see only errors
LOCAL_TIMEOUT_S = 180.0
LOCAL_MAX_P95_MS = 120_000.0


def for_model(scenario: CascadeScenario, model: str) -> CascadeScenario:
    """The scenario as run with `model`: with the slow local LLM, longer waits are normal."""
    if model != "local":
        return scenario
    workload = scenario.workload.model_copy(
        update={"timeout_s": max(scenario.workload.timeout_s, LOCAL_TIMEOUT_S)})
    steady = scenario.steady_state.model_copy(
        update={"max_p95_ms": max(scenario.steady_state.max_p95_ms, LOCAL_MAX_P95_MS)})
    return scenario.model_copy(update={"workload": workload, "steady_state": steady})


def target_label(model: str, pipeline: Pipeline | None) -> str:
    if pipeline is not None and pipeline.name != "demo":
        return pipeline.label or f"pipeline:{pipeline.name}"
    return "demo" if model == "local" else f"demo:{model}"


async def _run_all(scenarios: list[CascadeScenario], seed: int, model: str, store: Store,
                   out: Path, pipeline: Pipeline | None,
                   on_done: Callable[[ExperimentRecord], None] | None,
                   result: ChaosResult, judge: JudgeConfig | None) -> None:
    from redline.core.scan import judge_from

    llm = judge_from(judge)
    try:
        for scenario in (for_model(s, model) for s in scenarios):
            await _run_one(scenario, seed, model, store, out, pipeline, on_done, result, llm)
    finally:
        if llm is not None:
            await llm.aclose()


async def experiment_journal(scenario: CascadeScenario, seed: int, model: str = "stand-in",
                             system: System | None = None,
                             on_observation: Callable[[Observation], None] | None = None,
                             llm: LLMJudge | None = None) -> Journal:
    """Run one experiment (on `system`, else the demo app started for it) and read its
    journal."""
    return build_journal(await run_experiment(scenario, seed, model, system, on_observation,
                                              llm))


async def _run_one(scenario: CascadeScenario, seed: int, model: str, store: Store, out: Path,
                   pipeline: Pipeline | None, on_done: Callable[[ExperimentRecord], None] | None,
                   result: ChaosResult, llm: LLMJudge | None) -> None:
    chosen = pipeline if pipeline is not None else choose_pipeline(None)
    system = await asyncio.to_thread(chosen.start, scenario, model, seed)
    try:
        system.check_stage(scenario.stage)
    except BaseException:
        await system.aclose()
        raise
    # every request goes to the store as soon as it is judged
    rec = ExperimentRecorder(store, scenario)
    rec.start(target_label(model, pipeline), system.description, seed, model)
    result.running = rec
    journal = await experiment_journal(scenario, seed, model, system=system,
                                       on_observation=rec.add, llm=llm)
    run, code, files = rec.finish(journal, out)
    result.running = None
    record = ExperimentRecord(scenario, journal, run, code, files)
    result.experiments.append(record)
    if on_done is not None:
        on_done(record)


def run_chaos(scenarios: list[CascadeScenario], seed: int, db: Path, out: Path,
              model: str = "stand-in", pipeline: Pipeline | None = None,
              on_done: Callable[[ExperimentRecord], None] | None = None,
              judge: JudgeConfig | None = None) -> ChaosResult:
    """Every experiment in turn; `judge`: an LLM judge over what users saw, as in a scan."""
    store = Store(db)
    result = ChaosResult()
    try:
        asyncio.run(_run_all(scenarios, seed, model, store, out, pipeline, on_done, result,
                             judge))
    except KeyboardInterrupt:  # keep what was recorded; the run says it was cut short
        if result.running is not None:
            result.running.interrupt()
        raise
    finally:
        store.close()
    return result
