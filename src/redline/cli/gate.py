"""Decisions: `redline gate`, `compare` and `risks`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.base import (
    DEFAULT_DB,
    DbOption,
    PolicyOption,
    app,
    console,
    open_store,
)


@app.command()
def gate(
    run: Annotated[str, typer.Argument(help="Candidate run: id, unique prefix, or latest.")],
    baseline: Annotated[str | None, typer.Option(
        "--baseline", "-b", help="Baseline run to test for regressions (same seed: paired).")
    ] = None,
    policy: PolicyOption = None,
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Directory for gate.json, gate-junit.xml, gate.sarif, gate.md "
        "(default redline-out/RUN).")] = None,
    record: Annotated[bool, typer.Option(help="Store the decision in the audit chain.")] = True,
) -> None:
    """Decide on a run: approve (0), or block / rollback / hold (1), with every reason."""
    from redline.core.paths import check_dir_option, run_dir
    from redline.gate.policy import load_policy
    from redline.gate.runner import evaluate
    from redline.gate.terminal import print_decision
    from redline.gate.writers import write_reports
    from redline.store import describe_location

    if out is not None:
        check_dir_option(out, "--out")
    rules = load_policy(policy or [])
    store = open_store(db)
    decision = evaluate(store, run, baseline, rules).decision
    print_decision(console, decision)
    where = out or run_dir(Path("redline-out"), decision.run["id"])
    for kind, path in write_reports(decision, where).items():
        console.print(f"  {kind:8} {path}")
    if record:
        decision_id = store.record_decision(decision.run["id"], decision.to_dict())
        console.print(f"decision {decision_id} recorded in {describe_location(db)}")
    store.close()
    console.print(f"exit code {decision.exit_code} ({decision.verdict})")
    raise typer.Exit(decision.exit_code)


@app.command()
def compare(
    base: Annotated[str, typer.Argument(help="Baseline run (before the patch).")],
    candidate: Annotated[str, typer.Argument(help="Candidate run (with the patch).")],
    policy: PolicyOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Patch validation: fixed, still failing, newly failing and benign over-refusal
    between two runs on the same seed, and the policy's verdict on the patch (exit 0/1)."""
    from redline.gate.policy import load_policy
    from redline.gate.runner import evaluate
    from redline.gate.terminal import print_comparison, print_decision
    from redline.store import dumps

    rules = load_policy(policy or [])
    store = open_store(db)
    result = evaluate(store, candidate, base, rules)
    assert result.comparison is not None
    decision = result.decision
    if as_json:
        typer.echo(dumps({"comparison": result.comparison.to_dict(),
                          "decision": decision.to_dict()}))
    else:
        print_comparison(console, result.comparison, rules.benign_categories)
        print_decision(console, decision)
    raise typer.Exit(decision.exit_code)


@app.command()
def risks(
    db: DbOption = DEFAULT_DB,
    policy: PolicyOption = None,
    target: Annotated[str | None, typer.Option(
        help="Only runs against this target spec.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The risk register: open findings across runs, ranked by severity x rate x reach."""
    from redline.gate.policy import load_policy
    from redline.gate.risks import open_findings, recurring
    from redline.gate.terminal import print_risks
    from redline.store import describe_location, dumps

    rules = load_policy(policy or [])
    store = open_store(db)
    found = open_findings(store, rules, target)
    if as_json:
        typer.echo(dumps([r.to_dict() for r in found]))
    else:
        print_risks(console, found, describe_location(db), recurring(store, found))
