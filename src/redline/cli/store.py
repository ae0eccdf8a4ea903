"""`redline store`: schema migrations and copying runs between stores."""

from __future__ import annotations

from typing import Annotated

import typer

from redline.cli.base import DEFAULT_DB, DbOption, app, console
from redline.core.safetext import safe

store_app = typer.Typer(help="Store schema versions, and copying runs between stores.",
                        no_args_is_help=True)
app.add_typer(store_app, name="store")


def _open(location: str, migrate: bool):
    from redline.store import Store, db_location

    return Store(db_location(location), migrate=migrate)


@store_app.command("migrate")
def migrate(db: DbOption = DEFAULT_DB,
            status: Annotated[bool, typer.Option(
                "--status", help="Only list applied and pending migrations.")] = False,
            ) -> None:
    """Bring a store to this redline's schema version (creating it if need be)."""
    from pathlib import Path

    from redline.store import SCHEMA_VERSION, describe_location, is_url

    if not status and not is_url(db) and not Path(db).exists():
        _open(db, migrate=True).close()  # a new file store, at the current version
        console.print(f"{safe(db)}: created at schema version {SCHEMA_VERSION}")
        return
    store = _open(db, migrate=False)
    try:
        applied = store.applied_migrations()
        todo = store.pending_migrations()
        for version, at in applied.items():
            console.print(f"applied  {version}  {safe(at)}")
        if status:
            for m in todo:
                console.print(f"pending  {m.version}  {safe(m.name)}")
            return
        done = store.migrate()
        for m in done:
            console.print(f"applied  {m.version}  {safe(m.name)} (now)")
        console.print(f"{safe(describe_location(db))}: schema version {SCHEMA_VERSION}"
                      f"{'' if done else ', nothing to do'}")
    finally:
        store.close()


@store_app.command("copy")
def copy(src: Annotated[str, typer.Argument(help="Source store (file or postgresql://).")],
         dst: Annotated[str, typer.Argument(help="Destination store (created if need be).")],
         ) -> None:
    """Copy every run of SRC that DST lacks, rows as stored; each is verified on DST."""
    from redline.cli.base import open_store
    from redline.store.copy import copy_store

    source = open_store(src)
    try:
        target = _open(dst, migrate=True)
        try:
            report = copy_store(source, target,
                                lambda run_id, what: console.print(f"{run_id}  {what}"))
        finally:
            target.close()
    finally:
        source.close()
    console.print(f"{len(report.copied)} runs copied ({report.rows} rows), "
                  f"{len(report.skipped)} already there")
