"""What every command module shares: the app, the consoles and the common options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from redline.core.errors import RedlineError

app = typer.Typer(
    help="redline: adversarial scenarios, recorded evidence, deployment decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
catalog_app = typer.Typer(help="Browse and validate the scenario catalog.", no_args_is_help=True)
runs_app = typer.Typer(help="List and inspect stored runs.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage Ed25519 signing keys.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(runs_app, name="runs")
app.add_typer(keys_app, name="keys")

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[str, typer.Option(
    "--db", help="The store: a SQLite file, or postgresql://USER@HOST[:PORT]/DB.")]
DEFAULT_DB = ".redline/redline.db"

PolicyOption = Annotated[list[Path] | None, typer.Option(
    "--policy", "-p", help="Policy file layered over the bundled default; repeat to compose "
    "(org default, then project override: later files win).")]


def open_store(db: str | Path):
    """Open an existing store; a missing file is a usage error, not a new empty file."""
    from redline.store import Store, db_location

    location = db_location(db)
    if isinstance(location, Path) and not location.exists():
        raise RedlineError(f"no store at {db} (run `redline scan` first, or pass --db)")
    return Store(location)
