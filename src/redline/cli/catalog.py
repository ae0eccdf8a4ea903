"""`redline catalog`: browse and validate scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from redline.cli.base import (
    catalog_app,
    console,
)
from redline.core.errors import RedlineError
from redline.core.safetext import safe

if TYPE_CHECKING:
    from redline.core.models import Attempt


@catalog_app.command("list")
def catalog_list(
    suite: Annotated[str, typer.Option("--suite", "-s", help="Suite to list.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List scenarios with id, version, category, severity and attempt count."""
    from redline.catalog import load_suite
    from redline.core.attempts import count_attempts

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
def catalog_show(
    scenario_id: str,
    suite: Annotated[str | None, typer.Option(
        "--suite", "-s", help="Where to look: a suite name, a directory (imported "
        "scenarios), or a suite file (default: every built-in scenario).")] = None,
) -> None:
    """Show one scenario and the attempts it expands into (seed 0)."""
    import yaml

    from redline.catalog import builtin_scenarios, load_suite
    from redline.core.attempts import expand

    pool = builtin_scenarios() if suite is None else load_suite(suite)
    found = [s for s in pool if s.id == scenario_id]
    if not found:
        where = "the built-in catalog" if suite is None else f"suite {suite!r}"
        raise RedlineError(f"no scenario {scenario_id!r} in {where}")
    s = found[0]
    console.print(safe(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False,
                                        allow_unicode=True)))
    for a in expand([s], 0):
        console.print(f"[bold]{safe(a.id)}[/] {safe(' + '.join(a.chain))}: "
                      f"{safe(repr(_shown(a)))}")


def _shown(attempt: Attempt) -> str:
    """What an attempt first sends, cut to 300 characters: its last message, else its payload."""
    if attempt.messages:
        text = attempt.messages[-1].content
    else:
        text = json.dumps(attempt.payload, sort_keys=True, default=str)
    return text if len(text) < 300 else text[:300] + f"... [{len(text)} chars]"


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


FORMAT_HELP = "harmbench, advbench, jailbreakbench, xstest, csv or jsonl (a `prompt` column)"


def _strategy_option(text: str) -> dict[str, object]:
    """`pair` or `pair:{"iterations": 5}` as {name: params}."""
    name, _, raw = text.partition(":")
    try:
        params = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise RedlineError(f"--strategy: the parameters after ':' are not JSON "
                           f"({exc.msg})") from None
    if not isinstance(params, dict):
        raise RedlineError("--strategy: the parameters after ':' must be a JSON object")
    return {name.strip(): params}


@catalog_app.command("import")
def catalog_import(
    file: Path,
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory the scenario YAML files "
                                      "are written to (run it with `redline scan --suite`).")],
    as_kind: Annotated[str, typer.Option(
        "--as", help="probe: each harmful prompt is sent as it is; attack: each is the "
        "objective of an attack strategy. Safe prompts are benign controls either way.")
    ] = "probe",
    strategy: Annotated[str, typer.Option(
        help="With --as attack: the attack strategy, NAME or NAME:{json params}.")] = "pair",
    max_queries: Annotated[int | None, typer.Option(
        min=1, help="With --as attack: the per-attempt query budget.")] = None,
    prefix: Annotated[str | None, typer.Option(
        help="Scenario id prefix (default: the set's name, or the file's).")] = None,
    benign: Annotated[bool, typer.Option(
        "--benign", help="Every row is a safe request (e.g. JailbreakBench's benign "
        "behaviors): benign controls.")] = False,
    licence: Annotated[str | None, typer.Option(
        help="Licence recorded in each scenario's provenance (default: the set's).")] = None,
) -> None:
    """Turn a local copy of a public prompt set into versioned catalog scenarios."""
    from redline.catalog.importer import FORMATS, import_file

    if fmt not in FORMATS:
        raise RedlineError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if as_kind not in ("probe", "attack"):
        raise RedlineError(f"--as must be probe or attack, got {as_kind!r}")
    chosen = _strategy_option(strategy)
    result = import_file(file, fmt, out, as_kind=as_kind,  # type: ignore[arg-type]
                         strategy=chosen, prefix=prefix, benign=benign, licence=licence,
                         max_queries=max_queries)
    total = len(result.written) + len(result.unchanged)
    console.print(f"[green]ok[/]: {total} scenarios from {safe(str(file))} in "
                  f"{safe(str(out))}: {len(result.written)} new or new versions, "
                  f"{len(result.unchanged)} unchanged, {result.benign} benign controls, "
                  f"{len(result.duplicates)} repeated prompts skipped")
    for line, first in result.duplicates[:10]:
        console.print(f"  line {line} repeats line {first}")
    console.print(f"run them: redline scan --suite {safe(str(out))} --target ...")
