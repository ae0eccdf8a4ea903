"""The `redline` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
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
from rich.table import Table
from rich.text import Text

from redline import __version__
from redline.errors import RedlineError
from redline.models import AttemptResult

app = typer.Typer(
    help="redline: adversarial scenarios, recorded evidence, deployment decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
catalog_app = typer.Typer(help="Browse and validate the scenario catalog.", no_args_is_help=True)
runs_app = typer.Typer(help="List and inspect stored runs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(runs_app, name="runs")

console = Console()
err_console = Console(stderr=True)


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} att/s" if speed else "-- att/s", style="cyan")


DbOption = Annotated[Path, typer.Option("--db", help="SQLite store file.")]
DEFAULT_DB = Path(".redline/redline.db")


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
) -> None:
    """Run a suite of scenarios against a target and write the evidence and reports."""
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
        TextColumn("[red]{task.fields[fail]} fail[/] [yellow]{task.fields[err]} err[/]"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err_console, disable=not progress, transient=False,
    )
    counts = {"fail": 0, "error": 0}
    task_ids: list = []

    def on_start(run_id: str, planned: int) -> None:
        err_console.print(f"run [bold]{run_id}[/]: {planned} attempts against "
                          f"[cyan]{escape(cfg.target.kind)}[/]")
        bar.start()
        task_ids.append(bar.add_task("scanning", total=planned, fail=0, err=0))

    def on_result(result: AttemptResult) -> None:
        if result.outcome in counts:
            counts[result.outcome] += 1
        bar.update(task_ids[0], advance=1, fail=counts["fail"], err=counts["error"])

    try:
        result = run_scan(cfg, on_result=on_result, on_start=on_start)
    finally:
        bar.stop()
    print_summary(console, result.summary)
    t = result.summary.total
    console.print(
        f"run [bold]{result.run.id}[/] {result.run.status}: {t.attempts}/{result.summary.planned} "
        f"attempts in {result.wall_s:.1f}s ({t.attempts / max(result.wall_s, 1e-9):,.1f}/s), "
        f"{t.failures} failed, {t.errors} errors"
    )
    for kind, path in result.reports.items():
        console.print(f"  {kind:5} {path}")
    if result.problem:
        err_console.print(f"[yellow]{escape(result.problem)}[/]")
    console.print(f"exit code {int(result.code)} ({result.code.name.lower()})")
    raise typer.Exit(int(result.code))


@catalog_app.command("list")
def catalog_list(
    suite: Annotated[str, typer.Option("--suite", "-s", help="Suite to list.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List scenarios with id, version, category, severity and attempt count."""
    from redline.attempts import count_attempts
    from redline.catalog import load_suite

    scenarios = load_suite(suite)
    if as_json:
        rows = [{"id": s.id, "version": s.version, "category": s.category,
                 "severity": s.severity, "title": s.title, "owasp": s.tags.owasp,
                 "attempts": count_attempts([s], 0)} for s in scenarios]
        console.print_json(json.dumps(rows))
        return
    table = Table(title=f"{len(scenarios)} scenarios")
    for col in ("id", "v", "category", "severity", "owasp", "attempts", "title"):
        table.add_column(col)
    total = 0
    for s in scenarios:
        n = count_attempts([s], 0)
        total += n
        table.add_row(s.id, str(s.version), s.category, s.severity, ",".join(s.tags.owasp),
                      str(n), escape(s.title))
    console.print(table)
    console.print(f"{total} attempts at seed 0")


@catalog_app.command("show")
def catalog_show(scenario_id: str) -> None:
    """Show one scenario and the attempts it expands into (seed 0)."""
    import yaml

    from redline.attempts import expand
    from redline.catalog import builtin_catalog

    found = [s for s in builtin_catalog() if s.id == scenario_id]
    if not found:
        raise RedlineError(f"no scenario {scenario_id!r} in the built-in catalog")
    s = found[0]
    console.print(escape(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False,
                                        allow_unicode=True)))
    for a in expand([s], 0):
        last = a.messages[-1].content
        shown = last if len(last) < 300 else last[:300] + f"... [{len(last)} chars]"
        console.print(f"[bold]{a.id}[/] {' + '.join(a.chain)}: {escape(shown)!r}")


@catalog_app.command("validate")
def catalog_validate(paths: list[Path]) -> None:
    """Validate scenario files or directories; errors name file, line and field."""
    from redline.catalog import load_scenarios, scenario_files

    files = [f for p in paths for f in scenario_files(p)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise RedlineError(f"no such file or directory: {', '.join(map(str, missing))}")
    scenarios = load_scenarios(files)
    console.print(f"[green]ok[/]: {len(scenarios)} scenarios in {len(files)} files are valid")


@runs_app.command("list")
def runs_list(db: DbOption = DEFAULT_DB, limit: int = 20) -> None:
    """List recent runs."""
    from redline.store import Store

    store = _open_store(db, Store)
    table = Table(title=f"runs in {db}")
    table.add_column("run", no_wrap=True, min_width=22)
    for col in ("created (UTC)", "status", "target", "suite", "attempts", "failed",
                "errors", "exit"):
        table.add_column(col)
    for run in store.runs(limit):
        s = run.summary or {}
        total = s.get("total", {})
        table.add_row(run.id, run.created_at, run.status, escape(run.target), run.suite,
                      f"{total.get('attempts', '?')}/{run.planned}",
                      str(total.get("failures", "?")), str(total.get("errors", "?")),
                      str(s.get("exit_code", "?")))
    console.print(table)


@runs_app.command("show")
def runs_show(run: str, db: DbOption = DEFAULT_DB,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a run's manifest and summary (RUN: id, unique prefix, or latest)."""
    from redline.report.terminal import print_summary
    from redline.scan import scenario_info_from_store
    from redline.store import Store
    from redline.summary import summarise

    store = _open_store(db, Store)
    info = store.get_run(run)
    if as_json:
        console.print_json(json.dumps({"id": info.id, "status": info.status,
                                       "manifest": info.manifest, "summary": info.summary}))
        return
    console.print(f"[bold]{info.id}[/] {info.status} target={escape(info.target)} "
                  f"suite={info.suite} seed={info.seed}")
    console.print(f"created {info.created_at}, finished {info.finished_at or '-'}")
    summary = summarise(store.outcome_rows(info.id), scenario_info_from_store(store, info.id),
                        info.planned)
    print_summary(console, summary)


@app.command()
def report(run: str, db: DbOption = DEFAULT_DB,
           out: Annotated[Path, typer.Option("--out", "-o")] = Path("redline-out")) -> None:
    """Write the JSON, JUnit and HTML reports of a stored run again."""
    from redline.report import write_reports
    from redline.scan import scenario_info_from_store
    from redline.store import Store
    from redline.summary import summarise

    store = _open_store(db, Store)
    info = store.get_run(run)
    summary = summarise(store.outcome_rows(info.id), scenario_info_from_store(store, info.id),
                        info.planned)
    code = (info.summary or {}).get("exit_code", 3)
    for kind, path in write_reports(out / info.id, store, info, summary, code).items():
        console.print(f"{kind:5} {path}")


@app.command()
def serve(
    target: Annotated[str, typer.Argument(help="Target spec to expose, e.g. demo or local.")],
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8000,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    model_name: Annotated[str | None, typer.Option(help="Model name to report.")] = None,
) -> None:
    """Expose a target as an OpenAI-compatible chat endpoint on loopback only."""
    from redline.config import parse_target
    from redline.serve import check_loopback, run_server
    from redline.targets.spec import build_target

    check_loopback(host)
    built = build_target(parse_target(target))
    name = model_name or target
    err_console.print(f"serving {escape(built.spec)} as model {name!r} on "
                      f"http://{host}:{port}/v1 (Ctrl-C to stop)")
    run_server(built, host, port, name)


@app.command()
def version() -> None:
    """Print the redline version."""
    console.print(__version__)


def _open_store(db: Path, store_cls):
    if not db.exists():
        raise RedlineError(f"no store at {db} (run `redline scan` first, or pass --db)")
    return store_cls(db)


def main() -> None:
    try:
        app()
    except RedlineError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(3)
    except Exception as exc:  # a bug in redline: say so plainly, traceback only on request
        if os.environ.get("REDLINE_DEBUG"):
            raise
        err_console.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                          "(set REDLINE_DEBUG=1 for a traceback)")
        sys.exit(70)
