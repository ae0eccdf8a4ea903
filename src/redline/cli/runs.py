"""`redline runs` and `redline report`: stored runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from redline.cli.base import (
    DEFAULT_DB,
    DbOption,
    app,
    console,
    open_store,
    runs_app,
)
from redline.core.safetext import safe


def run_row(run) -> dict:
    """One stored run as `runs list --json` gives it."""
    s = run.summary or {}
    total = s.get("total", {})
    return {"id": run.id, "created_at": run.created_at, "finished_at": run.finished_at,
            "status": run.status, "target": run.target, "suite": run.suite, "seed": run.seed,
            "planned": run.planned, "attempts": total.get("attempts"),
            "failures": total.get("failures"), "errors": total.get("errors"),
            "unclear": total.get("unclear"), "exit_code": s.get("exit_code")}


def _cell(value: object) -> str:
    return "?" if value is None else str(value)


@runs_app.command("list")
def runs_list(db: DbOption = DEFAULT_DB, limit: int = 20,
              as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
              ) -> None:
    """List recent runs (the run id starts with its UTC start time)."""
    from redline.store import describe_location

    store = open_store(db)
    rows = [run_row(run) for run in store.runs(limit)]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    # fits 80 columns: the id carries the start time, long targets and suites wrap
    table = Table(title=f"runs in {safe(describe_location(db))}", title_justify="left",
                  box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    table.add_column("run", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("target", overflow="fold", min_width=10)
    table.add_column("suite", overflow="fold", max_width=12)
    for col in ("done", "fail", "err", "uncl", "exit"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for r in rows:
        table.add_row(r["id"], r["status"], safe(r["target"]), safe(r["suite"]),
                      f"{_cell(r['attempts'])}/{r['planned']}", _cell(r["failures"]),
                      _cell(r["errors"]), _cell(r["unclear"] or 0), _cell(r["exit_code"]))
    console.print(table)


@runs_app.command("show")
def runs_show(run: str, db: DbOption = DEFAULT_DB,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a run's manifest and summary (RUN: id, unique prefix, or latest)."""
    from redline.core.scan import stored_summary
    from redline.report.terminal import print_summary

    store = open_store(db)
    info = store.get_run(run)
    if as_json:
        console.print_json(json.dumps({
            "id": info.id, "status": info.status, "created_at": info.created_at,
            "finished_at": info.finished_at,
            "manifest": {**info.manifest, "finished_at": info.finished_at},
            "summary": info.summary}))
        return
    console.print(f"[bold]{safe(info.id)}[/] {safe(info.status)} target={safe(info.target)} "
                  f"suite={safe(info.suite)} seed={info.seed}")
    console.print(f"created {safe(info.created_at)}, finished {safe(info.finished_at or '-')}")
    summary = stored_summary(store, info)
    print_summary(console, summary)


@app.command()
def report(run: str, db: DbOption = DEFAULT_DB,
           out: Annotated[Path, typer.Option("--out", "-o")] = Path("redline-out")) -> None:
    """Write the JSON, JUnit and HTML reports of a stored run again."""
    from redline.core.paths import check_dir_option, run_dir
    from redline.core.scan import stored_summary
    from redline.report import write_reports

    check_dir_option(out, "--out")
    store = open_store(db)
    info = store.get_run(run)
    summary = stored_summary(store, info)
    code = (info.summary or {}).get("exit_code", 3)
    if code in (0, 1) and store.labels(info.id):  # reviewed labels can change the finding
        from redline.analysis.summary import exit_code
        from redline.core.config import ScanConfig

        max_error_rate = ScanConfig.model_validate(info.config).max_error_rate
        code = int(exit_code(summary, info.status == "completed", max_error_rate))
    for kind, path in write_reports(run_dir(out, info.id), store, info, summary, code).items():
        console.print(f"{kind:5} {safe(path)}")
