"""`redline scan`: run a suite against a target."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from redline.cli.base import (
    app,
    console,
    err_console,
)
from redline.core.errors import UsageError
from redline.core.models import AttemptResult
from redline.core.safetext import safe


def scan_rate(task: Task) -> float | None:
    """Attempts per second over the whole scan so far. Attempts that a filter blocks finish
    at once and in bursts; a short window (rich's default) reads a burst as the pace."""
    elapsed = task.finished_time if task.finished else task.elapsed
    if not elapsed or not task.completed or elapsed < 0.5:
        return None
    return task.completed / elapsed


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        rate = scan_rate(task)
        return Text(f"{rate:,.1f}/s" if rate else "--/s", style="cyan")


class EtaColumn(ProgressColumn):
    """Time left at the scan's average rate so far."""

    def render(self, task: Task) -> Text:
        rate = scan_rate(task)
        if task.finished or task.total is None or not rate:
            return Text("" if task.finished else "ETA -:--:--")
        left = int((task.total - task.completed) / rate)
        return Text(f"ETA {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}", style="cyan")


@app.command()
def scan(
    target: Annotated[str | None, typer.Option(
        "--target", "-t",
        help="openai:URL#MODEL | http:URL | python:MODULE:FN | local | demo[:INNER] (default demo)",
    )] = None,
    suite: Annotated[str | None, typer.Option(
        "--suite", "-s", help="Built-in suite (default, attacks, benign), category, id glob, "
        "scenario directory or file.")] = None,
    seed: Annotated[int | None, typer.Option(help="Run seed (default 0).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c",
                                                    help="Attempts in flight.")] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Report directory.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML config file.")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="The store: a SQLite file, or postgresql://USER@HOST[:PORT]/DB.")] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Max requests per second.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-request time-out, seconds.")] = None,
    retries: Annotated[int | None, typer.Option(help="Retries per request.")] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        help="Error share above which the run counts as incomplete (exit 3).")] = None,
    judge: Annotated[str | None, typer.Option(
        help="Optional LLM judge, openai:URL#MODEL.")] = None,
    attacker: Annotated[str | None, typer.Option(
        help="Attacker model of attack scenarios, a target spec (default local).")] = None,
    policy: Annotated[Path | None, typer.Option(
        help="Policy file whose `halt:` block stops the run early (stored as halted).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    resume: Annotated[str | None, typer.Option(
        help="Finish an interrupted run (id, prefix or latest) with exactly its planned "
        "attempts.")] = None,
    replay: Annotated[str | None, typer.Option(
        help="Re-judge a recorded run from its cassette instead of calling a target.")] = None,
    sign: Annotated[Path | None, typer.Option(
        help="Sign the run's chain head with this Ed25519 key (see `redline keys init`).")
    ] = None,
    executor: Annotated[str, typer.Option(
        help="Where attempts run: local, or ray[:ADDRESS] (a Ray cluster; default a local "
        "one; the ray extra).")] = "local",
    ray_cpus: Annotated[int | None, typer.Option(
        help="CPUs of the local Ray cluster that --executor ray starts (default all).")
    ] = None,
    max_in_flight: Annotated[int | None, typer.Option(
        help="--executor ray: attempts submitted at once (default max(concurrency, "
        "2 x workers)).")] = None,
) -> None:
    """Run a suite of scenarios against a target and write the evidence and reports.

    Every target interaction is recorded in the store (the run's cassette), so any run can
    be replayed with `--replay RUN` or `redline replay RUN`.
    """
    from redline.core.config import load_config
    from redline.core.engine import executor_for
    from redline.core.scan import scan as run_scan
    from redline.report.terminal import print_summary

    runner = executor_for(executor, {"num_cpus": ray_cpus, "max_in_flight": max_in_flight},
                          {"num_cpus": "--ray-cpus", "max_in_flight": "--max-in-flight"})
    halt = None
    if policy is not None:
        from redline.gate.policy import load_policy

        halt = load_policy([policy]).halt
        if halt is None:
            raise UsageError(f"{policy}: the policy has no `halt:` block")
    cfg = load_config(config, {
        "target": target, "suite": suite, "seed": seed, "concurrency": concurrency, "out": out,
        "db": db, "rate_limit": rate_limit, "timeout_s": timeout, "retries": retries,
        "max_error_rate": max_error_rate, "judge": judge, "attacker": attacker, "halt": halt,
    })
    bar = Progress(  # fits 80 columns
        TextColumn("[bold]scan"), BarColumn(bar_width=12), MofNCompleteColumn(), RateColumn(),
        TextColumn("[red]{task.fields[fail]} fail[/] [yellow]{task.fields[err]} err "
                   "{task.fields[unclear]} unclear[/]"),
        TimeElapsedColumn(), EtaColumn(),
        console=err_console, disable=not progress, transient=False,
    )
    # building the target can take a while (the bundled model loads for ~20 s): say so
    loading = err_console.status(f"loading target [cyan]{safe(cfg.target.kind)}[/] ...")
    if progress and not replay:
        loading.start()
    load_started = time.perf_counter()
    counts = {"fail": 0, "error": 0, "unclear": 0}
    task_ids: list = []

    def on_start(run_id: str, planned: int) -> None:
        loading.stop()
        what = "resuming" if resume else "replaying" if replay else "against"
        ready = "" if replay else f" (ready in {time.perf_counter() - load_started:.1f}s)"
        err_console.print(f"run [bold]{run_id}[/]: {planned} attempts {what} "
                          f"[cyan]{safe(replay or resume or cfg.target.kind)}[/]{ready}")
        bar.start()
        task_ids.append(bar.add_task("scanning", total=planned, fail=0, err=0,
                                      unclear=0))

    def on_result(result: AttemptResult) -> None:
        if result.outcome in counts:
            counts[result.outcome] += 1
        bar.update(task_ids[0], advance=1, fail=counts["fail"], err=counts["error"],
                   unclear=counts["unclear"])

    try:
        if resume is not None and replay is not None:
            raise UsageError("--resume and --replay cannot be combined")
        result = run_scan(cfg, on_result=on_result, on_start=on_start, resume=resume,
                          replay_of=replay, sign_with=sign, executor=runner)
    finally:
        loading.stop()
        bar.stop()
    print_summary(console, result.summary)
    _print_judges(result.reports.get("json"))
    _print_metrics((result.run.summary or {}).get("metrics") or {})
    t = result.summary.total
    console.print(
        f"run [bold]{result.run.id}[/] {result.run.status}: {t.attempts}/{result.summary.planned} "
        f"attempts in {result.wall_s:.1f}s ({t.attempts / max(result.wall_s, 1e-9):,.1f}/s)")
    console.print(f"  {t.failures} failed, {t.errors} errors, {t.unclear} unclear")
    for kind, path in result.reports.items():
        console.print(f"  {kind:5} {safe(path)}")
    if result.problem:
        err_console.print(f"[yellow]{safe(result.problem)}[/]")
    console.print(f"exit code {int(result.code)} ({result.code.name.lower()})")
    raise typer.Exit(int(result.code))


def _print_metrics(metrics: dict) -> None:
    """Each check's headline figures with their intervals (classifier checks)."""
    if not metrics:
        return
    from rich.table import Table

    from redline.classic.summary import headline

    table = Table(title="Model metrics (95% intervals)", title_justify="left")
    table.add_column("scenario", overflow="fold")
    table.add_column("finding", overflow="fold")
    for sid, m in metrics.items():
        table.add_row(safe(sid), safe(headline(m)))
    console.print(table)


def _print_judges(report: Path | None) -> None:
    """The judges' measured accuracy, next to the figures they produced (fits 80 columns)."""
    import json

    from rich.table import Table

    if report is None or not report.exists():
        return
    judges = json.loads(report.read_text()).get("judges") or {}
    if not judges:
        return
    sources = {a["source"] for a in judges.values()}
    table = Table(title="Judges' measured accuracy"
                  + (f" ({safe(next(iter(sources)))})" if len(sources) == 1 else ""),
                  title_justify="left")
    for col in ("judge", "sensitivity", "specificity", "tp fp tn fn"):
        table.add_column(col, overflow="fold")
    if len(sources) > 1:
        table.add_column("source", overflow="fold")
    for name, a in judges.items():
        se, sp = a["sensitivity_ci"], a["specificity_ci"]
        row = [safe(name), f"{a['sensitivity']:.2f} [{se[0]:.2f}–{se[1]:.2f}]",
               f"{a['specificity']:.2f} [{sp[0]:.2f}–{sp[1]:.2f}]",
               f"{a['tp']} {a['fp']} {a['tn']} {a['fn']}"]
        table.add_row(*row, *([safe(a["source"])] if len(sources) > 1 else []))
    console.print(table)
