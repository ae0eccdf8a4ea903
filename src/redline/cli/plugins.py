"""`redline plugins [KIND]`: what is registered, with a one-line description and parameters."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from redline.cli.base import app, console, err_console
from redline.core.errors import UsageError
from redline.core.safetext import safe


@app.command("plugins")
def plugins(
    kind: Annotated[str | None, typer.Argument(
        help="One kind: target, detector, mutator, generator, fault, strategy, store, "
        "category, scenario.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the available plugins (built in and from installed packages)."""
    from redline.core import registry

    if kind is not None and kind not in registry.KINDS:
        raise UsageError(f"unknown plugin kind {kind!r}; known: {', '.join(registry.KINDS)}")
    found = registry.available(kind)
    if as_json:
        rows = [{"kind": p.kind, "name": p.name, "description": p.description,
                 "params": [{"name": n, "type": t, "default": d}
                            for n, t, d in p.param_summary()]} for p in found]
        console.print_json(json.dumps(rows))
    else:
        for p in found:
            console.print(f"[bold]{p.kind}[/] {safe(p.name)}  {safe(p.description)}",
                          soft_wrap=True, highlight=False)
            for n, t, d in p.param_summary():
                console.print(f"    {safe(n)}: {safe(t)} = {safe(d)}", soft_wrap=True,
                              highlight=False)
    if registry.LOAD_ERRORS:
        for line in registry.LOAD_ERRORS:
            err_console.print(f"[red]error:[/] {safe(line)}", soft_wrap=True)
        raise typer.Exit(2)
