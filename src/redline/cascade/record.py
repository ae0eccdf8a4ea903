"""Cascade experiments and load ramps as runs in the store, like every other scan.

Each experiment is one run (suite `cascade:<id>`): one result per request (category
`cascade`, outcome pass/fail/error against the scenario's expectation, chain = phase and
whether the fault hit it, the request's stage trace in the response meta), plus one
`experiment` result whose verdicts are the experiment-level checks (failed open, blast
radius, recovery, steady state). The run's scenario record is the cascade scenario's
projection onto the catalog schema, so `redline runs show`, `redline report` and the gate
read these runs with no special case; the journal's headline figures are kept in the run
summary under `cascade` (and `load` for load runs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from redline.analysis.summary import ExitCode, ScenarioInfo, Summary, summarise
from redline.cascade.experiment import Observation
from redline.cascade.journal import Journal
from redline.cascade.load import LOAD_PROBES, LevelStats, Sample
from redline.cascade.loadtest import LoadOptions, LoadResult, options_record, ramp_names, run_load
from redline.cascade.schema import CascadeScenario, LoadScenario
from redline.catalog.schema import ScenarioHeader
from redline.core.attempts import digest
from redline.core.models import Attempt, AttemptResult, Message, Outcome, TargetResponse, Verdict
from redline.core.paths import run_dir
from redline.evidence.credentials import Masker, spec_masker
from redline.evidence.manifest import build_manifest
from redline.report import write_reports
from redline.store import BatchWriter, RunInfo, Store, dumps, new_run_id


def observation_result(o: Observation) -> AttemptResult:
    chain = (o.phase, "faulted") if o.faulted else (o.phase,)
    response = TargetResponse(text=o.reply, error=o.error, latency_s=o.latency_ms / 1000,
                              meta={"trace": o.events})
    return AttemptResult(
        attempt=replace(o.attempt, chain=chain), outcome=o.outcome,
        transcript=[Message("user", o.probe.text), Message("assistant", o.visible)],
        responses=[response], verdicts=o.verdicts, error=o.problem or o.error,
        started_at=o.started_s, latency_s=o.latency_ms / 1000,
    )


def experiment_verdicts(j: Journal, scenario: CascadeScenario) -> list[Verdict]:
    e = scenario.expectation
    breaches = sum(o.state == "breach" for o in j.observations)
    r = j.recovery
    # the hypothesis may deviate while the fault is on; it must hold before and after
    held = all(h["met"] for k, h in j.hypotheses.items() if k != "during")
    return [
        Verdict("failed_open", j.failure_mode == "open", 1.0 if j.failure_mode == "open" else 0.0,
                {"failure_mode": j.failure_mode, "breaches": breaches}),
        Verdict("blast_radius", j.blast_radius > e.max_blast_radius + 1e-12, j.blast_radius,
                {"blast_radius": j.blast_radius, "max": e.max_blast_radius,
                 "of_faulted": j.blast_radius_faulted}),
        Verdict("recovery", not (r.get("recovered") and r.get("within_limit")),
                0.0 if r.get("recovered") else 1.0, r),
        Verdict("steady_state", not held, 0.0 if held else 1.0, j.hypotheses),
        Verdict("detection", False, 1.0 if j.detection.get("detected") else 0.0, j.detection),
    ]


def experiment_result(j: Journal, scenario: CascadeScenario, seed: int, seq: int
                      ) -> AttemptResult:
    text = (f"experiment {scenario.id}: {scenario.fault.label()} at {scenario.stage}; "
            f"failure mode {j.failure_mode}; blast radius {j.blast_radius:.1%}")
    attempt = Attempt(
        id=digest("cascade-experiment", scenario.id, scenario.version, seed)[:24], seq=seq,
        scenario_id=scenario.id, scenario_version=scenario.version, category="cascade",
        severity=scenario.severity, input_index=-1, chain=("experiment",),
        messages=(Message("user", text),), original=text,
    )
    verdicts = experiment_verdicts(j, scenario)
    outcome: Outcome = ("error" if j.status != "completed"
                        else "fail" if any(v.detected for v in verdicts) else "pass")
    summary = "; ".join(j.expectation["reasons"]) or "meets its expectation"
    return AttemptResult(attempt=attempt, outcome=outcome,
                         transcript=[Message("user", text), Message("assistant", summary)],
                         responses=[TargetResponse(text=summary)], verdicts=verdicts,
                         error=j.problem)


def _info(scenario: ScenarioHeader) -> dict[str, ScenarioInfo]:
    return {scenario.id: ScenarioInfo(scenario.title, scenario.category, scenario.severity,
                                      scenario.success.max_failure_rate)}


def finish(store: Store, run_id: str, status: str, infos: dict[str, ScenarioInfo], planned: int,
           code: ExitCode, problem: str | None, extra: dict[str, Any], out_dir: Path
           ) -> tuple[RunInfo, Summary, dict[str, Path]]:
    summary = summarise(store.outcome_rows(run_id), infos, planned)
    store.finish_run(run_id, status, {**summary.to_dict(), "exit_code": int(code),
                                      "problem": problem, **extra})
    run = store.get_run(run_id)
    return run, summary, write_reports(run_dir(out_dir, run_id), store, run, summary, int(code))


def planned_requests(scenario: CascadeScenario) -> int:
    """Steady state, fault phase, recovery, and the experiment's own result."""
    steady = scenario.steady_state.requests
    return steady + scenario.workload.requests + steady + \
        scenario.expectation.recover_within_requests + 1


@dataclass
class ExperimentRecorder:
    """One experiment as a run in the store, written request by request as it goes."""

    store: Store
    scenario: CascadeScenario
    run_id: str = ""
    writer: BatchWriter | None = None

    def start(self, target: str, description: dict[str, Any], seed: int, model: str) -> None:
        s = self.scenario
        definition = s.model_dump(mode="json")
        config = {"kind": "cascade", "scenario": definition, "seed": seed, "model": model}
        planned = planned_requests(s)
        manifest = build_manifest(config, [s], description, seed, planned)
        self.run_id = new_run_id()
        self.store.create_run(self.run_id, target, f"cascade:{s.id}", seed, planned, config,
                              manifest, [(s.id, s.version, definition)])
        self.writer = BatchWriter(self.store, self.run_id)

    def add(self, o: Observation) -> None:
        assert self.writer is not None
        self.writer.add(observation_result(o))

    def interrupt(self) -> None:
        """Ctrl-C: what was recorded stays; the run is closed as interrupted."""
        if self.writer is not None:
            self.writer.flush()
            summary = summarise(self.store.outcome_rows(self.run_id), _info(self.scenario),
                                planned_requests(self.scenario))
            self.store.finish_run(self.run_id, "interrupted",
                                  {**summary.to_dict(), "problem": "interrupted by the user",
                                   "exit_code": int(ExitCode.INCOMPLETE)})

    def finish(self, journal: Journal, out: Path) -> tuple[RunInfo, ExitCode, dict[str, Path]]:
        assert self.writer is not None
        scenario = self.scenario
        self.writer.add(experiment_result(journal, scenario, journal.seed,
                                          len(journal.observations)))
        self.writer.flush()
        code = (ExitCode.INCOMPLETE if journal.status != "completed"
                else ExitCode.OK if journal.met else ExitCode.FINDINGS)
        status = "aborted" if journal.status == "aborted" else "completed"
        run, _, reports = finish(self.store, self.run_id, status, _info(scenario),
                                 len(journal.observations) + 1, code, journal.problem,
                                 {"cascade": journal.summary()}, out)
        path = run_dir(out, self.run_id) / "journal.json"
        path.write_text(dumps(journal.to_dict()), encoding="utf-8", errors="backslashreplace")
        return run, code, {**reports, "journal": path}


def store_experiment(store: Store, scenario: CascadeScenario, journal: Journal, target: str,
                     out: Path) -> tuple[RunInfo, ExitCode, dict[str, Path]]:
    """A finished experiment into the store (what `redline chaos` streams as it goes)."""
    rec = ExperimentRecorder(store, scenario)
    rec.start(target, journal.system, journal.seed, journal.model)
    for o in journal.observations:
        rec.add(o)
    return rec.finish(journal, out)


# --- load -------------------------------------------------------------------------------------


def load_scenario(name: str, faults: list[str], probes: list[str], levels: list[int],
                  slo_ms: float | None) -> LoadScenario:
    faulted = f" with faults {', '.join(faults)}" if faults else ""
    return LoadScenario(
        id=f"load-{name}", version=1, title=f"Concurrency ramp ({name}){faulted}",
        objective="Latency percentiles, error rate, throughput and the knee under rising "
                  "concurrency; no leak under load"
                  + (f"; at most 5% of requests slower than {slo_ms:g} ms" if slo_ms else ""),
        tags={"owasp": ["LLM10"], "atlas": ["AML.T0029"]}, severity="medium",
        author="redline", probes=probes, levels=levels, faults=faults, slo_p95_ms=slo_ms,
        success={"max_failure_rate": 0.05 if slo_ms else 0.0},
        remediation="Add capacity, admission control or a breaker with a fallback before "
                    "the knee; shed load instead of queueing past the time-out.",
        rollback="Roll back to the last build whose knee and p95 met the SLO.",
    )


def sample_result(s: Sample, seed: int, slo_ms: float | None) -> AttemptResult:
    attempt = Attempt(
        id=digest("load", s.ramp, s.index, seed)[:24], seq=s.index, scenario_id=f"load-{s.ramp}",
        scenario_version=1, category="load", severity="medium", input_index=s.probe_index,
        chain=(s.ramp, f"c={s.concurrency}"), messages=(Message("user", s.probe.text),),
        original=s.probe.text,
    )
    slow = slo_ms is not None and s.latency_ms > slo_ms
    outcome: Outcome = "error" if s.failed else ("fail" if s.breach or slow else "pass")
    verdicts = list(s.verdicts)
    if slo_ms is not None:
        verdicts.append(Verdict("latency_slo", slow, s.latency_ms,
                                {"latency_ms": round(s.latency_ms, 3), "slo_ms": slo_ms}))
    shown = s.error if s.error is not None else (s.reply or "")
    return AttemptResult(
        attempt=attempt, outcome=outcome,
        transcript=[Message("user", s.probe.text), Message("assistant", shown)],
        responses=[TargetResponse(text=s.reply, error=s.error, latency_s=s.latency_ms / 1000,
                                  meta={"trace": s.events})],
        verdicts=verdicts, error=s.error or s.problem, started_at=s.started_s,
        latency_s=s.latency_ms / 1000,
    )


def load_findings(result: LoadResult, slo_ms: float | None, max_error_rate: float | None
                  ) -> list[str]:
    found = []
    for r in result.ramps:
        for lv in r.levels:
            where = f"{r.name} ramp, concurrency {lv.concurrency}"
            if lv.breaches:
                found.append(f"{where}: {lv.breaches} policy breaches")
            if slo_ms is not None and lv.p95_ms > slo_ms:
                found.append(f"{where}: p95 {lv.p95_ms:.0f} ms over the {slo_ms:g} ms SLO")
            if max_error_rate is not None and lv.error_rate > max_error_rate + 1e-12:
                found.append(f"{where}: error rate {lv.error_rate:.1%} over "
                             f"{max_error_rate:.1%}")
    return found


def load_code(result: LoadResult, findings: list[str]) -> ExitCode:
    first = result.ramps[0].levels[0] if result.ramps and result.ramps[0].levels else None
    if first is None or first.errors == first.requests:
        return ExitCode.INCOMPLETE
    return ExitCode.FINDINGS if findings else ExitCode.OK


@dataclass
class LoadRecorder:
    """A load run in the store, written request by request as the ramps go."""

    store: Store
    target: str
    options: dict[str, Any]
    scenarios: list[LoadScenario]
    slo_ms: float | None
    max_error_rate: float | None
    run_id: str = ""
    writer: BatchWriter | None = None

    def __post_init__(self) -> None:
        # the target's credentials never reach the store, the reports or the load file
        self.mask: Masker = spec_masker(self.target)
        self.target = self.mask.text(self.target) or ""

    def start(self, description: dict[str, Any]) -> None:
        seed = int(self.options["seed"])
        config = {"kind": "load", **self.options, "target": self.target,
                  "slo_p95_ms": self.slo_ms, "max_error_rate": self.max_error_rate}
        planned = 0 if self.options.get("duration_s") else \
            len(self.scenarios) * sum(self.options["levels"]) * int(self.options["per_worker"])
        manifest = build_manifest(config, list(self.scenarios), self.mask.data(description),
                                  seed, planned)
        self.run_id = new_run_id()
        self.store.create_run(self.run_id, self.target, "load", seed, planned, config, manifest,
                              [(s.id, s.version, s.model_dump(mode="json"))
                               for s in self.scenarios])
        self.writer = BatchWriter(self.store, self.run_id)

    def add(self, sample: Sample) -> None:
        assert self.writer is not None
        self.writer.add(sample_result(sample, int(self.options["seed"]), self.slo_ms))

    def finish(self, result: LoadResult | None, out: Path, problem: str | None = None
               ) -> tuple[RunInfo, ExitCode, list[str], dict[str, Path]]:
        """Close the run: `result` None means it stopped early (interrupted, or failed)."""
        if self.writer is not None:
            self.writer.flush()
        infos = {k: v for s in self.scenarios for k, v in _info(s).items()}
        if result is None:
            code, findings, extra = ExitCode.INCOMPLETE, [], {}
            status = "interrupted"
        else:
            findings = load_findings(result, self.slo_ms, self.max_error_rate)
            code, status = load_code(result, findings), "completed"
            problem = "; ".join(findings[:5]) or None
            extra = {"load": self.mask.data({**result.to_dict(), "findings": findings})}
        planned = sum(1 for _ in self.store.outcome_rows(self.run_id))
        run, _, reports = finish(self.store, self.run_id, status, infos, planned, code, problem,
                                 extra, out)
        if result is None:
            return run, code, findings, reports
        path = run_dir(out, self.run_id) / "load.json"
        path.write_text(dumps(extra["load"]), encoding="utf-8")
        return run, code, findings, {**reports, "load": path}


def load_recorder(store: Store, opts: LoadOptions, slo_ms: float | None,
                  max_error_rate: float | None) -> LoadRecorder:
    probes = sorted({p.text for p in opts.probes or LOAD_PROBES})
    faults = [f.text for f in opts.faults]
    scenarios = [load_scenario(name, faults if name == "faulted" else [], probes, opts.levels,
                               slo_ms) for name in ramp_names(opts)]
    return LoadRecorder(store, opts.target, options_record(opts), scenarios, slo_ms,
                        max_error_rate)


def record_load(store: Store, opts: LoadOptions, slo_ms: float | None,
                max_error_rate: float | None, out: Path,
                on_level: Callable[[str, LevelStats], None] | None = None
                ) -> tuple[LoadResult | None, RunInfo, ExitCode, list[str], dict[str, Path]]:
    """`redline load`: run the ramps with every request streamed to the store as it is
    judged; Ctrl-C keeps what was recorded and closes the run as interrupted."""
    rec = load_recorder(store, opts, slo_ms, max_error_rate)
    result: LoadResult | None = None
    try:
        result = asyncio.run(run_load(opts, on_level, rec.start, rec.add))
    except KeyboardInterrupt:
        if not rec.run_id:
            raise
    return (result, *rec.finish(result, out, "interrupted by the user"))


def store_load(store: Store, result: LoadResult, slo_ms: float | None,
               max_error_rate: float | None, out: Path
               ) -> tuple[RunInfo, ExitCode, list[str], dict[str, Path]]:
    """A finished load run into the store (what `record_load` streams as it goes)."""
    probes = sorted({s.probe.text for r in result.ramps for s in r.samples})
    levels = list(result.options["levels"])
    scenarios = [load_scenario(r.name, r.faults, probes, levels, slo_ms) for r in result.ramps]
    rec = LoadRecorder(store, result.target, result.options, scenarios, slo_ms, max_error_rate)
    rec.start(result.description)
    for r in result.ramps:
        for sample in r.samples:
            rec.add(sample)
    return rec.finish(result, out)
