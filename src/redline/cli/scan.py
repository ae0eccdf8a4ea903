"""`redline scan`: run a suite against a target."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from redline.cli.base import (
    app,
    console,
    err_console,
)
from redline.errors import UsageError
from redline.models import AttemptResult


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} att/s" if speed else "-- att/s", style="cyan")



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
    db: Annotated[str | None, typer.Option("--db", help="SQLite store file.")] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Max requests per second.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-request time-out, seconds.")] = None,
    retries: Annotated[int | None, typer.Option(help="Retries per request.")] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        help="Error share above which the run counts as incomplete (exit 3).")] = None,
    judge: Annotated[str | None, typer.Option(
        help="Optional LLM judge, openai:URL#MODEL.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    resume: Annotated[str | None, typer.Option(
        help="Finish an interrupted run (id, prefix or latest) with exactly its planned "
        "attempts.")] = None,
    replay: Annotated[str | None, typer.Option(
        help="Re-judge a recorded run from its cassette instead of calling a target.")] = None,
    sign: Annotated[Path | None, typer.Option(
        help="Sign the run's chain head with this Ed25519 key (see `redline keys init`).")
    ] = None,
) -> None:
    """Run a suite of scenarios against a target and write the evidence and reports.

    Every target interaction is recorded in the store (the run's cassette), so any run can
    be replayed with `--replay RUN` or `redline replay RUN`.
    """
    from redline.config import load_config
    from redline.report.terminal import print_summary
    from redline.scan import scan as run_scan

    cfg = load_config(config, {
        "target": target, "suite": suite, "seed": seed, "concurrency": concurrency, "out": out,
        "db": db, "rate_limit": rate_limit, "timeout_s": timeout, "retries": retries,
        "max_error_rate": max_error_rate, "judge": judge,
    })
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TextColumn("[red]{task.fields[fail]} fail[/] [yellow]{task.fields[err]} err "
                   "{task.fields[unclear]} unclear[/]"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err_console, disable=not progress, transient=False,
    )
    counts = {"fail": 0, "error": 0, "unclear": 0}
    task_ids: list = []

    def on_start(run_id: str, planned: int) -> None:
        what = "resuming" if resume else "replaying" if replay else "against"
        err_console.print(f"run [bold]{run_id}[/]: {planned} attempts {what} "
                          f"[cyan]{escape(replay or resume or cfg.target.kind)}[/]")
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
                          replay_of=replay, sign_with=sign)
    finally:
        bar.stop()
    print_summary(console, result.summary)
    _print_judges(result.reports.get("json"))
    t = result.summary.total
    console.print(
        f"run [bold]{result.run.id}[/] {result.run.status}: {t.attempts}/{result.summary.planned} "
        f"attempts in {result.wall_s:.1f}s ({t.attempts / max(result.wall_s, 1e-9):,.1f}/s), "
        f"{t.failures} failed, {t.errors} errors, {t.unclear} unclear"
    )
    for kind, path in result.reports.items():
        console.print(f"  {kind:5} {path}")
    if result.problem:
        err_console.print(f"[yellow]{escape(result.problem)}[/]")
    console.print(f"exit code {int(result.code)} ({result.code.name.lower()})")
    raise typer.Exit(int(result.code))


def _print_judges(report: Path | None) -> None:
    """The judges' measured accuracy, next to the figures they produced."""
    import json

    from redline.gate.terminal import judge_line

    if report is None or not report.exists():
        return
    for name, a in (json.loads(report.read_text()).get("judges") or {}).items():
        console.print(escape(judge_line(name, a)))
