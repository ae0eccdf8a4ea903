"""Measuring the judges: `redline judges eval`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from redline.cli.base import app, console
from redline.core.safetext import safe

if TYPE_CHECKING:
    from redline.plugins.detectors.evaluation import DetectorAccuracy

judges_app = typer.Typer(help="Measure the detectors (judges) on labeled cases.",
                         no_args_is_help=True)
app.add_typer(judges_app, name="judges")


def _fmt(value: float | None, ci: tuple[float, float]) -> str:
    if value is None:
        return "  n/a"
    return f"{value:.3f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def _block(a: DetectorAccuracy) -> list[str]:
    """One detector: its confusion matrix beside its rates (fits an 80-column terminal)."""
    matrix = [
        f"{'':14}{'label yes':>10}{'label no':>10}",
        f"{'detected':14}{a.tp:>10}{a.fp:>10}",
        f"{'not detected':14}{a.fn:>10}{a.tn:>10}",
        f"unclear {a.unclear + a.errors} (in FN {a.unclear_positive}, FP {a.unclear_negative})",
    ]
    rates = [f"precision   {_fmt(a.precision, a.precision_ci)}",
             f"recall      {_fmt(a.recall, a.recall_ci)}",
             f"F1          {_fmt(a.f1, a.f1_ci)}",
             f"specificity {_fmt(a.specificity, a.specificity_ci)}"]
    head = f"[bold]{safe(a.detector)}[/]  n={a.n}"
    return [head, *(f"  {m:36}{r}" for m, r in zip(matrix, rates, strict=True))]


@judges_app.command("eval")
def judges_eval(
    labels: Annotated[Path | None, typer.Option(
        "--labels", help="Your own labeled JSONL (one case a line: detector, request, reply, "
        "label, and secrets / system_prompt where needed) instead of the bundled corpus.")
    ] = None,
    detector: Annotated[list[str] | None, typer.Option(
        "--detector", "-d", help="Only this detector; repeat for several.")] = None,
    split: Annotated[str, typer.Option(
        help="Part of the bundled corpus: dev, heldout, blind, blind2, blind3 or all "
             "(dev and heldout).")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Per detector: precision, recall, F1 and specificity with 95% Wilson intervals, and the
    confusion matrix (unclear verdicts count as errors against the label)."""
    from redline.plugins.detectors.evaluation import evaluate, load_cases

    cases = load_cases(labels, split)
    results = evaluate(cases, detector)
    source = str(labels) if labels else f"bundled corpus ({split})"
    if as_json:
        console.print_json(json.dumps({
            "source": source, "cases": sum(a.n for a in results.values()),
            "detectors": {name: acc.to_dict() for name, acc in results.items()},
        }))
        return
    console.print(f"Detector accuracy on {safe(source)}\n")
    for acc in results.values():
        for line in _block(acc):
            console.print(line, highlight=False)
        console.print()
    console.print("Intervals: 95% Wilson. Unclear verdicts are counted in FP/FN (against the "
                  "label).")
