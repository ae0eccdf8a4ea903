"""`redline catalog`: browse and validate scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from redline.cli.base import (
    catalog_app,
    console,
)
from redline.errors import RedlineError
from redline.safetext import safe


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
        table.add_row(safe(s.id), str(s.version), safe(s.category), s.severity,
                      safe(",".join(s.tags.owasp)),
                      str(n), safe(s.title))
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
    console.print(safe(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False,
                                        allow_unicode=True)))
    for a in expand([s], 0):
        last = a.messages[-1].content
        shown = last if len(last) < 300 else last[:300] + f"... [{len(last)} chars]"
        console.print(f"[bold]{safe(a.id)}[/] {safe(' + '.join(a.chain))}: {safe(repr(shown))}")


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
