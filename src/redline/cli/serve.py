"""`redline serve`: any target as an OpenAI-compatible endpoint on loopback."""

from __future__ import annotations

from typing import Annotated

import typer

from redline.cli.base import (
    app,
    err_console,
)
from redline.core.safetext import safe


@app.command()
def serve(
    target: Annotated[str, typer.Argument(help="Target spec to expose, e.g. demo or local.")],
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port on 127.0.0.1.")] = 8000,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    model_name: Annotated[str | None, typer.Option(help="Model name to report.")] = None,
) -> None:
    """Expose a target as an OpenAI-compatible chat endpoint on loopback only."""
    from redline.core.config import parse_target
    from redline.plugins.targets.serve import check_loopback, run_server
    from redline.plugins.targets.spec import build_target

    check_loopback(host)
    built = build_target(parse_target(target))
    name = model_name or target
    err_console.print(f"serving {safe(built.spec)} as model {name!r} on "
                      f"http://{host}:{port}/v1 (Ctrl-C to stop)")
    run_server(built, host, port, name)
