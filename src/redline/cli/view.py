"""`redline view`: the store in a browser, on loopback."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from redline.cli.base import DEFAULT_DB, DbOption, PolicyOption, app, err_console, open_store
from redline.core.safetext import safe


@app.command()
def view(
    db: DbOption = DEFAULT_DB,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8600,
    host: Annotated[str, typer.Option(help="Address to bind (loopback unless --expose).")
                    ] = "127.0.0.1",
    expose: Annotated[bool, typer.Option(
        "--expose", help="Allow a non-loopback --host; every request then needs the access "
        "token (REDLINE_VIEW_TOKEN, or one generated and printed).")] = False,
    policy: PolicyOption = None,
) -> None:
    """Browse runs, transcripts, evidence, gate decisions, diffs, risks and verification."""
    from redline.gate.policy import load_policy
    from redline.view.guard import check_bind, is_loopback, new_token
    from redline.view.server import run_viewer

    check_bind(host, expose)
    rules = load_policy(policy or [])  # a bad policy file fails here, not on a gate page
    open_store(db).close()  # a missing store is a usage error now, not a page later
    token = None
    if not is_loopback(host):
        token = os.environ.get("REDLINE_VIEW_TOKEN") or new_token()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    err_console.print(f"redline view of {safe(str(db))} on {safe(url)} (Ctrl-C to stop)")
    run_viewer(lambda: open_store(db), host, port, token, rules)
