"""The `redline` command line: one module per command group, no domain logic here."""

from __future__ import annotations

import os
import sys

from redline import __version__
from redline.core.safetext import safe

# isort: off
# importing registers the commands, in the order `redline --help` lists them
from redline.cli import scan, catalog, runs, review, serve, evidence, gate, cascade, judges  # noqa: F401
from redline.cli import monitor, training  # noqa: F401
from redline.cli import view  # noqa: F401
from redline.cli import store  # noqa: F401
from redline.cli import plugins  # noqa: F401
# isort: on
from redline.cli.base import app, console, err_console
from redline.core.errors import RedlineError


@app.command()
def version() -> None:
    """Print the redline version."""
    console.print(__version__)


def main() -> None:
    try:
        app()
    except RedlineError as exc:
        err_console.print(f"[red]error:[/] {safe(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(3)
    except Exception as exc:  # a bug in redline: say so plainly, traceback only on request
        if os.environ.get("REDLINE_DEBUG"):
            raise
        err_console.print(f"[red]internal error:[/] {type(exc).__name__}: {safe(str(exc))} "
                          "(set REDLINE_DEBUG=1 for a traceback)")
        sys.exit(70)
