"""Cascading faults and load: `redline chaos` and `redline load`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from redline.cli.base import (
    DEFAULT_DB,
    DbOption,
    app,
    console,
    err_console,
)
from redline.core.errors import UsageError
from redline.core.paths import check_dir_option
from redline.core.safetext import safe
from redline.demo import AppModel

if TYPE_CHECKING:
    from redline.core.config import JudgeConfig

MAX_CONCURRENCY = 4096
JudgeOption = Annotated[str | None, typer.Option(
    help="Optional LLM judge of what users saw, openai:URL#MODEL (as in a scan).")]
JudgeMode = Literal["unclear", "always"]
JudgeModeOption = Annotated[JudgeMode, typer.Option(
    help="Which replies the judge sees: those the detectors leave unclear, or every one.")]


def judge_config(spec: str | None, mode: JudgeMode) -> JudgeConfig | None:
    from redline.core.config import parse_judge

    return None if spec is None else parse_judge(spec).model_copy(update={"mode": mode})


def check_outputs(db: str | Path, out: Path) -> None:
    """The store file and report directory are usable: checked before the experiment runs."""
    from redline.store import db_location

    db_location(db)
    check_dir_option(out, "--out")


@app.command()
def chaos(
    scenario: Annotated[str | None, typer.Argument(
        help="Cascade scenario id (or id glob, or a scenario YAML file).")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every cascade scenario.")] = False,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the fault draws.")] = 0,
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", "-o", help="Report directory.")] = Path(
        "redline-out"),
    model: Annotated[AppModel, typer.Option(
        help="The app's model: stand-in (scripted, fast) or local (bundled SmolLM2, slow).")
    ] = "stand-in",
    pipeline: Annotated[str | None, typer.Option(
        help="Fault a declared pipeline (YAML file) or a registered one (`redline plugins "
        "pipeline`) instead of the guarded app.")] = None,
    scenarios: Annotated[Path | None, typer.Option(
        "--scenarios", help="Directory of cascade scenarios instead of the built-in ones.")
    ] = None,
    judge: JudgeOption = None,
    judge_mode: JudgeModeOption = "unclear",
) -> None:
    """Inject a fault at one stage of the guarded app and judge what reaches its users."""
    from redline.cascade.chaos import ExperimentRecord, run_chaos
    from redline.cascade.journal import print_journal
    from redline.cascade.schema import select_cascades
    from redline.pipeline.declared import choose_pipeline

    if scenarios is not None and not scenarios.is_dir():
        raise UsageError(f"no scenario directory {scenarios}")
    target = choose_pipeline(pipeline)
    chosen = select_cascades(scenario, run_all, scenarios, target)
    llm = judge_config(judge, judge_mode)
    check_outputs(db, out)

    def done(rec: ExperimentRecord) -> None:
        print_journal(console, rec.journal)
        console.print(f"  run [bold]{safe(rec.run.id)}[/]: journal {safe(rec.files['journal'])}")

    result = run_chaos(chosen, seed, db, out, model, target, on_done=done, judge=llm)
    met = sum(e.journal.met for e in result.experiments)
    console.print(f"\n{len(result.experiments)} experiments: {met} meet their expectation, "
                  f"{len(result.experiments) - met} do not")
    console.print(f"exit code {int(result.code)} ({result.code.name.lower()})")
    raise typer.Exit(int(result.code))


@app.command()
def load(
    target: Annotated[str, typer.Option(
        "--target", "-t", help="demo (the guarded app, capacity-limited stand-in model), "
        "pipeline:FILE or pipeline:NAME, or any target spec.")] = "demo",
    faults: Annotated[list[str] | None, typer.Option(
        "--faults", "-f", help="STAGE:KIND[:key=value,...], e.g. "
        "model:latency:latency_ms=40,fraction=0.5 (repeatable); adds a faulted ramp.")] = None,
    max_concurrency: Annotated[int, typer.Option(
        min=1, max=MAX_CONCURRENCY, help="Highest concurrency level.")] = 16,
    levels: Annotated[str | None, typer.Option(
        help="Concurrency levels, e.g. 1,2,4,8 (default: doubling up to --max-concurrency).")
    ] = None,
    requests_per_worker: Annotated[int, typer.Option(
        min=1, help="Requests per worker per level.")] = 10,
    duration: Annotated[float | None, typer.Option(
        min=0.001, max=3600, help="Seconds per level instead of a request count.")] = None,
    timeout: Annotated[float, typer.Option(
        min=0.001, help="Seconds a user waits for a reply.")] = 5.0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the fault draws.")] = 0,
    faulted_only: Annotated[bool, typer.Option(help="Skip the clean ramp.")] = False,
    model: Annotated[AppModel, typer.Option(help="demo: stand-in or local.")] = "stand-in",
    model_capacity: Annotated[int, typer.Option(
        min=0, help="demo: concurrent slots of the model server (0: unlimited).")] = 4,
    model_ms: Annotated[float, typer.Option(
        min=0, help="demo: model time per request, ms.")] = 50.0,
    model_timeout_ms: Annotated[float, typer.Option(
        min=1, help="demo: the app's time-out on the model, ms.")] = 250.0,
    breaker: Annotated[bool, typer.Option(
        help="demo: circuit breaker and fallback around the model.")] = True,
    slo_p95_ms: Annotated[float | None, typer.Option(help="p95 latency SLO, ms.")] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        help="Highest acceptable error rate at any level.")] = None,
    rate_limit: Annotated[float | None, typer.Option(
        min=0.001, help="Max requests per second across all workers (as in a scan).")] = None,
    judge: JudgeOption = None,
    judge_mode: JudgeModeOption = "unclear",
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", "-o", help="Report directory.")] = Path(
        "redline-out"),
) -> None:
    """Ramp concurrency on a target, with and without faults; percentiles, errors, the knee."""
    from redline.cascade.load import doubling, parse_fault
    from redline.cascade.loadtest import LoadOptions, print_ramp
    from redline.cascade.record import record_load
    from redline.evidence.credentials import spec_masker
    from redline.store import Store

    try:
        steps = ([int(x) for x in levels.split(",") if x.strip()] if levels
                 else doubling(max_concurrency))
    except ValueError as exc:
        raise UsageError(f"--levels must be comma-separated integers, got {levels!r}") from exc
    if not steps or any(not 1 <= c <= MAX_CONCURRENCY for c in steps):
        raise UsageError(f"--levels must be integers between 1 and {MAX_CONCURRENCY}")
    opts = LoadOptions(
        target=target, levels=steps, per_worker=requests_per_worker, duration_s=duration,
        timeout_s=timeout,
        seed=seed, faults=[parse_fault(f) for f in faults or []], faulted_only=faulted_only,
        model=model, model_capacity=model_capacity or None, model_ms=model_ms,
        model_timeout_ms=model_timeout_ms, breaker=breaker, judge=judge_config(judge, judge_mode),
        rate_limit=rate_limit,
    )
    check_outputs(db, out)
    per_level = (f"{duration:g} s" if duration else f"{requests_per_worker} requests per worker")
    shown = spec_masker(target).text(target)  # no credential from the spec on the terminal
    err_console.print(f"load: {safe(shown)}, levels {steps}, {per_level} per level")
    store = Store(db)
    try:  # every request is stored as soon as it is judged
        result, run, code, findings, files = record_load(store, opts, slo_p95_ms,
                                                         max_error_rate, out)
    finally:
        store.close()
    if result is None:
        err_console.print("[yellow]interrupted[/]: what was recorded is kept")
    for r in result.ramps if result is not None else []:
        print_ramp(console, r)
    for finding in findings:
        console.print(f"[red]-[/] {safe(finding)}")
    console.print(f"run [bold]{safe(run.id)}[/]: "
                  f"{safe(files.get('load', files.get('json', '')))}")
    console.print(f"exit code {int(code)} ({code.name.lower()})")
    raise typer.Exit(int(code))
