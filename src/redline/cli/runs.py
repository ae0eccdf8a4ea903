"""`redline runs` and `redline report`: stored runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from redline.cli.base import (
    DEFAULT_DB,
    DbOption,
    app,
    console,
    open_store,
    runs_app,
)


@runs_app.command("list")
def runs_list(db: DbOption = DEFAULT_DB, limit: int = 20) -> None:
    """List recent runs."""

    store = open_store(db)
    table = Table(title=f"runs in {db}")
    table.add_column("run", no_wrap=True, min_width=22)
    for col in ("created (UTC)", "status", "target", "suite", "attempts", "failed",
                "errors", "unclear", "exit"):
        table.add_column(col)
    for run in store.runs(limit):
        s = run.summary or {}
        total = s.get("total", {})
        table.add_row(run.id, run.created_at, run.status, escape(run.target), run.suite,
                      f"{total.get('attempts', '?')}/{run.planned}",
                      str(total.get("failures", "?")), str(total.get("errors", "?")),
                      str(total.get("unclear", 0)),
                      str(s.get("exit_code", "?")))
    console.print(table)


@runs_app.command("show")
def runs_show(run: str, db: DbOption = DEFAULT_DB,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a run's manifest and summary (RUN: id, unique prefix, or latest)."""
    from redline.report.terminal import print_summary
    from redline.scan import stored_summary

    store = open_store(db)
    info = store.get_run(run)
    if as_json:
        console.print_json(json.dumps({
            "id": info.id, "status": info.status, "created_at": info.created_at,
            "finished_at": info.finished_at,
            "manifest": {**info.manifest, "finished_at": info.finished_at},
            "summary": info.summary}))
        return
    console.print(f"[bold]{info.id}[/] {info.status} target={escape(info.target)} "
                  f"suite={info.suite} seed={info.seed}")
    console.print(f"created {info.created_at}, finished {info.finished_at or '-'}")
    summary = stored_summary(store, info)
    print_summary(console, summary)


@app.command()
def report(run: str, db: DbOption = DEFAULT_DB,
           out: Annotated[Path, typer.Option("--out", "-o")] = Path("redline-out")) -> None:
    """Write the JSON, JUnit and HTML reports of a stored run again."""
    from redline.report import write_reports
    from redline.scan import stored_summary

    store = open_store(db)
    info = store.get_run(run)
    summary = stored_summary(store, info)
    code = (info.summary or {}).get("exit_code", 3)
    if code in (0, 1) and store.labels(info.id):  # reviewed labels can change the finding
        from redline.config import ScanConfig
        from redline.summary import exit_code

        max_error_rate = ScanConfig.model_validate(info.config).max_error_rate
        code = int(exit_code(summary, info.status == "completed", max_error_rate))
    for kind, path in write_reports(out / info.id, store, info, summary, code).items():
        console.print(f"{kind:5} {path}")
