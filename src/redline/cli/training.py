"""`redline export-training`: failing attempts as training examples, with benign controls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.base import DEFAULT_DB, DbOption, app, console, open_store
from redline.core.errors import UsageError
from redline.core.safetext import safe


@app.command("export-training")
def export_training(
    runs: Annotated[list[str], typer.Argument(help="Runs: ids, unique prefixes or latest.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl, parquet or chat.")
                   ] = "jsonl",
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for train.*, heldout.* "
                                      "and manifest.json.")] = Path("redline-training"),
    heldout: Annotated[float, typer.Option(min=0, max=1, help="Share of seed inputs held out.")
                       ] = 0.1,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write the runs' failing attempts as training examples (attack prompt, unsafe reply,
    safe target reply) and their passing benign controls, deduplicated, with provenance and a
    held-out split. `chat` writes {"messages": [...]} rows ready for chat fine-tuning."""
    from redline.analysis.training import FORMATS, Export, write_export
    from redline.core.paths import check_dir_option

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: use jsonl, parquet or chat")
    check_dir_option(out, "--out")
    store = open_store(db)
    export = Export(heldout=heldout)
    for ref in runs:
        info = store.get_run(ref)
        export.add_run(info.id, store.results(info.id), store.labels(info.id),
                       store.scenario_definitions(info.id))
    store.close()
    if not export.examples:
        raise UsageError("no failing attempts or passing benign controls in "
                         f"{', '.join(runs)}: nothing to export")
    files = write_export(export, out, fmt)  # type: ignore[arg-type]
    for split, kinds in sorted(export.counts().items()):
        console.print(f"{split:8} " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    if export.duplicates:
        console.print(f"{export.duplicates} duplicates dropped")
    for why, n in export.skipped.items():
        console.print(f"skipped {n}: {safe(why)}")
    for name, path in files.items():
        console.print(f"  {name:8} {safe(str(path))}")
