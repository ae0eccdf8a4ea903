"""`redline review`: label unclear (and a sample of decided) attempts; export the labels."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.prompt import Prompt

from redline.cli.base import DEFAULT_DB, DbOption, app, console, open_store
from redline.core.errors import UsageError
from redline.core.safetext import safe


@app.command()
def review(
    run: Annotated[str, typer.Argument(help="Run id, unique prefix, or latest.")],
    db: DbOption = DEFAULT_DB,
    label: Annotated[list[str] | None, typer.Option(
        "--label", help="ATTEMPT=pass|fail[:DETECTOR]; repeat. Records without prompting.")
    ] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who labels (default: your login).")
                        ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (required with --label).")] = None,
    sample: Annotated[int, typer.Option(min=0, help="Decided attempts to sample for review.")
                      ] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of that sample.")] = 0,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Write the run's reviewed labels as labeled JSONL to this file.")
    ] = None,
) -> None:
    """Review a run: label its unclear attempts and a seeded sample of decided ones.

    Each label (who, when, why) is chained in the run's audit chain and overrides the
    detectors in reports and in the gate."""
    from redline.evidence.review import export_labels, parse_label, record_label

    store = open_store(db)
    try:
        info = store.get_run(run)
        if label:
            if not reviewer or not reason:
                raise UsageError("--label needs --reviewer NAME and --reason TEXT")
            for text in label:
                ref, value, detector = parse_label(text)
                rec = record_label(store, info.id, ref, value, reviewer, reason, detector)
                console.print(f"labelled {rec['attempt_id']} {value} (detectors said "
                              f"{rec['was']}) by {safe(reviewer)}")
        elif export is None:
            _interactive(store, info.id, reviewer, sample, seed)
        if export is not None:
            n = export_labels(store, info.id, export)
            console.print(f"wrote {n} labeled line(s) to {export}")
    finally:
        store.close()


def _interactive(store, run_id: str, reviewer: str | None, sample: int, seed: int) -> None:
    from redline.evidence.review import describe, record_label, review_queue

    queue = review_queue(store, run_id, sample, seed)
    if not queue:
        console.print("nothing to review: no unclear attempts and no unlabelled decided ones")
        return
    who = reviewer or Prompt.ask("reviewer", default=getpass.getuser())
    for i, aid in enumerate(queue, 1):
        shown = describe(next(store.results_for(run_id, [aid])))
        console.rule(f"{i}/{len(queue)} {shown['attempt']} ({shown['scenario']}): "
                     f"detectors said [bold]{shown['outcome']}[/]")
        console.print(f"[b]request[/]\n{safe(shown['request'][:3000])}")
        console.print(f"[b]reply[/]\n{safe(shown['reply'][:3000])}")
        for v in shown["verdicts"]:
            state = "unclear" if v.get("unclear") else "detected" if v["detected"] else "clear"
            console.print(f"  {v['detector']}: {state} (score {v['score']})")
        choice = Prompt.ask("label", choices=["fail", "pass", "skip", "quit"], default="skip")
        if choice == "quit":
            break
        if choice == "skip":
            continue
        why = Prompt.ask("reason")
        record_label(store, run_id, aid, choice, who, why or "(no reason given)")
