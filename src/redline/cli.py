"""The `redline` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from redline import __version__
from redline.errors import RedlineError, UsageError
from redline.models import AttemptResult

app = typer.Typer(
    help="redline: adversarial scenarios, recorded evidence, deployment decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
catalog_app = typer.Typer(help="Browse and validate the scenario catalog.", no_args_is_help=True)
runs_app = typer.Typer(help="List and inspect stored runs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(runs_app, name="runs")
keys_app = typer.Typer(help="Manage Ed25519 signing keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
err_console = Console(stderr=True)


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} att/s" if speed else "-- att/s", style="cyan")


DbOption = Annotated[Path, typer.Option("--db", help="SQLite store file.")]
DEFAULT_DB = Path(".redline/redline.db")


@app.command()
def scan(
    target: Annotated[str | None, typer.Option(
        "--target", "-t",
        help="openai:URL#MODEL | http:URL | python:MODULE:FN | local | demo[:INNER] (default demo)",
    )] = None,
    suite: Annotated[str | None, typer.Option(
        "--suite", "-s", help="Built-in suite (default, attacks, benign), category, id glob, "
        "scenario directory or file.")] = None,
    seed: Annotated[int | None, typer.Option(help="Run seed (default 0).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c",
                                                    help="Attempts in flight.")] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Report directory.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML config file.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="SQLite store file.")] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Max requests per second.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-request time-out, seconds.")] = None,
    retries: Annotated[int | None, typer.Option(help="Retries per request.")] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        help="Error share above which the run counts as incomplete (exit 3).")] = None,
    judge: Annotated[str | None, typer.Option(
        help="Optional LLM judge, openai:URL#MODEL.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    resume: Annotated[str | None, typer.Option(
        help="Finish an interrupted run (id, prefix or latest) with exactly its planned "
        "attempts.")] = None,
    replay: Annotated[str | None, typer.Option(
        help="Re-judge a recorded run from its cassette instead of calling a target.")] = None,
    sign: Annotated[Path | None, typer.Option(
        help="Sign the run's chain head with this Ed25519 key (see `redline keys init`).")
    ] = None,
) -> None:
    """Run a suite of scenarios against a target and write the evidence and reports.

    Every target interaction is recorded in the store (the run's cassette), so any run can
    be replayed with `--replay RUN` or `redline replay RUN`.
    """
    from redline.config import load_config
    from redline.report.terminal import print_summary
    from redline.scan import scan as run_scan

    cfg = load_config(config, {
        "target": target, "suite": suite, "seed": seed, "concurrency": concurrency, "out": out,
        "db": db, "rate_limit": rate_limit, "timeout_s": timeout, "retries": retries,
        "max_error_rate": max_error_rate, "judge": judge,
    })
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TextColumn("[red]{task.fields[fail]} fail[/] [yellow]{task.fields[err]} err[/]"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err_console, disable=not progress, transient=False,
    )
    counts = {"fail": 0, "error": 0}
    task_ids: list = []

    def on_start(run_id: str, planned: int) -> None:
        what = "resuming" if resume else "replaying" if replay else "against"
        err_console.print(f"run [bold]{run_id}[/]: {planned} attempts {what} "
                          f"[cyan]{escape(replay or resume or cfg.target.kind)}[/]")
        bar.start()
        task_ids.append(bar.add_task("scanning", total=planned, fail=0, err=0))

    def on_result(result: AttemptResult) -> None:
        if result.outcome in counts:
            counts[result.outcome] += 1
        bar.update(task_ids[0], advance=1, fail=counts["fail"], err=counts["error"])

    try:
        if resume is not None and replay is not None:
            raise UsageError("--resume and --replay cannot be combined")
        result = run_scan(cfg, on_result=on_result, on_start=on_start, resume=resume,
                          replay_of=replay, sign_with=sign)
    finally:
        bar.stop()
    print_summary(console, result.summary)
    t = result.summary.total
    console.print(
        f"run [bold]{result.run.id}[/] {result.run.status}: {t.attempts}/{result.summary.planned} "
        f"attempts in {result.wall_s:.1f}s ({t.attempts / max(result.wall_s, 1e-9):,.1f}/s), "
        f"{t.failures} failed, {t.errors} errors"
    )
    for kind, path in result.reports.items():
        console.print(f"  {kind:5} {path}")
    if result.problem:
        err_console.print(f"[yellow]{escape(result.problem)}[/]")
    console.print(f"exit code {int(result.code)} ({result.code.name.lower()})")
    raise typer.Exit(int(result.code))


@catalog_app.command("list")
def catalog_list(
    suite: Annotated[str, typer.Option("--suite", "-s", help="Suite to list.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List scenarios with id, version, category, severity and attempt count."""
    from redline.attempts import count_attempts
    from redline.catalog import load_suite

    scenarios = load_suite(suite)
    if as_json:
        rows = [{"id": s.id, "version": s.version, "category": s.category,
                 "severity": s.severity, "title": s.title, "owasp": s.tags.owasp,
                 "attempts": count_attempts([s], 0)} for s in scenarios]
        console.print_json(json.dumps(rows))
        return
    table = Table(title=f"{len(scenarios)} scenarios")
    for col in ("id", "v", "category", "severity", "owasp", "attempts", "title"):
        table.add_column(col)
    total = 0
    for s in scenarios:
        n = count_attempts([s], 0)
        total += n
        table.add_row(s.id, str(s.version), s.category, s.severity, ",".join(s.tags.owasp),
                      str(n), escape(s.title))
    console.print(table)
    console.print(f"{total} attempts at seed 0")


@catalog_app.command("show")
def catalog_show(scenario_id: str) -> None:
    """Show one scenario and the attempts it expands into (seed 0)."""
    import yaml

    from redline.attempts import expand
    from redline.catalog import builtin_catalog

    found = [s for s in builtin_catalog() if s.id == scenario_id]
    if not found:
        raise RedlineError(f"no scenario {scenario_id!r} in the built-in catalog")
    s = found[0]
    console.print(escape(yaml.safe_dump(s.model_dump(mode="json"), sort_keys=False,
                                        allow_unicode=True)))
    for a in expand([s], 0):
        last = a.messages[-1].content
        shown = last if len(last) < 300 else last[:300] + f"... [{len(last)} chars]"
        console.print(f"[bold]{a.id}[/] {' + '.join(a.chain)}: {escape(shown)!r}")


@catalog_app.command("validate")
def catalog_validate(paths: list[Path]) -> None:
    """Validate scenario files or directories; errors name file, line and field."""
    from redline.catalog import load_scenarios, scenario_files

    files = [f for p in paths for f in scenario_files(p)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise RedlineError(f"no such file or directory: {', '.join(map(str, missing))}")
    scenarios = load_scenarios(files)
    console.print(f"[green]ok[/]: {len(scenarios)} scenarios in {len(files)} files are valid")


@runs_app.command("list")
def runs_list(db: DbOption = DEFAULT_DB, limit: int = 20) -> None:
    """List recent runs."""
    from redline.store import Store

    store = _open_store(db, Store)
    table = Table(title=f"runs in {db}")
    table.add_column("run", no_wrap=True, min_width=22)
    for col in ("created (UTC)", "status", "target", "suite", "attempts", "failed",
                "errors", "exit"):
        table.add_column(col)
    for run in store.runs(limit):
        s = run.summary or {}
        total = s.get("total", {})
        table.add_row(run.id, run.created_at, run.status, escape(run.target), run.suite,
                      f"{total.get('attempts', '?')}/{run.planned}",
                      str(total.get("failures", "?")), str(total.get("errors", "?")),
                      str(s.get("exit_code", "?")))
    console.print(table)


@runs_app.command("show")
def runs_show(run: str, db: DbOption = DEFAULT_DB,
              as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a run's manifest and summary (RUN: id, unique prefix, or latest)."""
    from redline.report.terminal import print_summary
    from redline.scan import scenario_info_from_store
    from redline.store import Store
    from redline.summary import summarise

    store = _open_store(db, Store)
    info = store.get_run(run)
    if as_json:
        console.print_json(json.dumps({
            "id": info.id, "status": info.status, "created_at": info.created_at,
            "finished_at": info.finished_at,
            "manifest": {**info.manifest, "finished_at": info.finished_at},
            "summary": info.summary}))
        return
    console.print(f"[bold]{info.id}[/] {info.status} target={escape(info.target)} "
                  f"suite={info.suite} seed={info.seed}")
    console.print(f"created {info.created_at}, finished {info.finished_at or '-'}")
    summary = summarise(store.outcome_rows(info.id), scenario_info_from_store(store, info.id),
                        info.planned)
    print_summary(console, summary)


@app.command()
def report(run: str, db: DbOption = DEFAULT_DB,
           out: Annotated[Path, typer.Option("--out", "-o")] = Path("redline-out")) -> None:
    """Write the JSON, JUnit and HTML reports of a stored run again."""
    from redline.report import write_reports
    from redline.scan import scenario_info_from_store
    from redline.store import Store
    from redline.summary import summarise

    store = _open_store(db, Store)
    info = store.get_run(run)
    summary = summarise(store.outcome_rows(info.id), scenario_info_from_store(store, info.id),
                        info.planned)
    code = (info.summary or {}).get("exit_code", 3)
    for kind, path in write_reports(out / info.id, store, info, summary, code).items():
        console.print(f"{kind:5} {path}")


@app.command()
def serve(
    target: Annotated[str, typer.Argument(help="Target spec to expose, e.g. demo or local.")],
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8000,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    model_name: Annotated[str | None, typer.Option(help="Model name to report.")] = None,
) -> None:
    """Expose a target as an OpenAI-compatible chat endpoint on loopback only."""
    from redline.config import parse_target
    from redline.serve import check_loopback, run_server
    from redline.targets.spec import build_target

    check_loopback(host)
    built = build_target(parse_target(target))
    name = model_name or target
    err_console.print(f"serving {escape(built.spec)} as model {name!r} on "
                      f"http://{host}:{port}/v1 (Ctrl-C to stop)")
    run_server(built, host, port, name)


@app.command()
def replay(run: str, db: DbOption = DEFAULT_DB,
           out: Annotated[Path, typer.Option("--out", "-o")] = Path("redline-out")) -> None:
    """Re-judge a run from its recording with no target; exit 0 when verdicts match."""
    from redline.config import ScanConfig
    from redline.report import report_digest
    from redline.scan import scan as run_scan
    from redline.scan import scenario_info_from_store
    from redline.store import Store
    from redline.summary import summarise

    store = _open_store(db, Store)
    source = store.get_run(run)
    original = {a: o for a, o, _ in store.verdict_rows(source.id)}
    store.close()
    cfg = ScanConfig.model_validate({**source.config, "db": str(db), "out": str(out)})
    result = run_scan(cfg, replay_of=source.id)
    store = Store(db)
    replayed = {a: o for a, o, _ in store.verdict_rows(result.run.id)}
    changed = sorted(k for k in original.keys() | replayed.keys()
                     if original.get(k) != replayed.get(k))
    digests = {}
    for info in (source, result.run):
        summary = summarise(store.outcome_rows(info.id), scenario_info_from_store(store, info.id),
                            info.planned)
        digests[info.id] = report_digest(summary, store, info.id)
    store.close()
    same_digest = digests[source.id] == digests[result.run.id]
    console.print(f"replayed {source.id} as {result.run.id} in {result.wall_s:.2f}s: "
                  f"{len(replayed)} attempts, {len(changed)} verdicts differ")
    console.print(f"report digest {digests[result.run.id][:16]} "
                  f"({'same as' if same_digest else 'DIFFERENT from'} the original)")
    for attempt_id in changed[:20]:
        console.print(f"  {attempt_id}: {original.get(attempt_id)} -> {replayed.get(attempt_id)}")
    raise typer.Exit(0 if not changed and same_digest else 1)


@app.command()
def verify(
    run: Annotated[str | None, typer.Argument(help="Run id, prefix or latest.")] = None,
    db: DbOption = DEFAULT_DB,
    pubkey: Annotated[Path | None, typer.Option(help="Require a valid signature by this key.")
                      ] = None,
    bundle: Annotated[Path | None, typer.Option(help="Verify an exported evidence bundle.")
                      ] = None,
) -> None:
    """Check a run's audit chain (and signature); name the first bad record. Exit 1 if bad."""
    from redline.evidence import verify_bundle, verify_run
    from redline.keys import read_public
    from redline.store import Store

    pem = read_public(pubkey) if pubkey else None
    if bundle is not None:
        if not bundle.is_file():
            raise UsageError(f"no bundle at {bundle}")
        meta, rep = verify_bundle(bundle, pem)
        label = f"bundle {bundle} (run {meta['run_id']}{', redacted' if meta['redacted'] else ''})"
    elif run is not None:
        store = _open_store(db, Store)
        info = store.get_run(run)
        rep = verify_run(store, info.id, pem)
        store.close()
        label = f"run {info.id}"
    else:
        raise UsageError("give a RUN or --bundle FILE")
    chain = rep.chain
    if chain.ok:
        console.print(f"[green]chain ok[/]: {label}, {chain.links} records, head {chain.head}")
    else:
        console.print(f"[red]chain broken[/]: {label}: {len(chain.problems)} problem(s); first: "
                      f"{escape(str(chain.first_bad))}")
        for p in chain.problems[1:10]:
            console.print(f"  {escape(str(p))}")
    for sig in rep.signatures:
        colour = "green" if sig.ok else "red"
        console.print(f"[{colour}]signature[/] key {sig.key_id} at #{sig.seq}: {sig.reason}")
    for note in rep.notes:
        console.print(f"[yellow]note[/]: {escape(note)}")
    raise typer.Exit(0 if rep.ok else 1)


@app.command()
def sign(run: str, db: DbOption = DEFAULT_DB,
         key: Annotated[Path, typer.Option(help="Ed25519 private key (PEM).")] = Path(
             ".redline/keys/redline_ed25519")) -> None:
    """Sign a run's current chain head."""
    from redline.evidence import sign_run
    from redline.store import Store

    store = _open_store(db, Store)
    info = store.get_run(run)
    signed = sign_run(store, info.id, key)
    store.close()
    console.print(f"signed {info.id} head #{signed['seq']} {signed['hash']} "
                  f"with key {signed['key_id']}")


@app.command()
def export(run: str, out: Annotated[Path, typer.Option("--out", "-o", help="Bundle path.")],
           db: DbOption = DEFAULT_DB,
           redact: Annotated[bool, typer.Option(
               help="Mask PII and canaries; the chain of the original still verifies.")] = False,
           ) -> None:
    """Export a run's evidence as one archive that verifies on another machine."""
    from redline.evidence import export_bundle
    from redline.store import Store

    store = _open_store(db, Store)
    meta = export_bundle(store, run, out, redact=redact)
    store.close()
    console.print(f"wrote {out}: run {meta['run_id']}, {meta['links']} chained records"
                  f"{', redacted' if redact else ''}")


@keys_app.command("init")
def keys_init(
    path: Annotated[Path, typer.Option(help="Private key file to create.")] = Path(
        ".redline/keys/redline_ed25519"),
    force: Annotated[bool, typer.Option(help="Replace an existing key.")] = False,
) -> None:
    """Create an Ed25519 signing key pair (private key mode 0600)."""
    from redline.keys import init_keys, key_id

    private, public = init_keys(path, force)
    console.print(f"private key {private}\npublic key  {public} "
                  f"(id {key_id(public.read_text())})")


@app.command()
def version() -> None:
    """Print the redline version."""
    console.print(__version__)


PolicyOption = Annotated[list[Path] | None, typer.Option(
    "--policy", "-p", help="Policy file layered over the bundled default; repeat to compose "
    "(org default, then project override: later files win).")]


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
    from redline.gate.policy import load_policy
    from redline.gate.runner import evaluate
    from redline.gate.terminal import print_decision
    from redline.gate.writers import write_reports
    from redline.store import Store

    rules = load_policy(policy or [])
    store = _open_store(db, Store)
    decision = evaluate(store, run, baseline, rules).decision
    print_decision(console, decision)
    for kind, path in write_reports(decision, out or Path("redline-out") / decision.run["id"]
                                    ).items():
        console.print(f"  {kind:8} {path}")
    if record:
        decision_id = store.record_decision(decision.run["id"], decision.to_dict())
        console.print(f"decision {decision_id} recorded in {db}")
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
    from redline.store import Store, dumps

    rules = load_policy(policy or [])
    store = _open_store(db, Store)
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
    from redline.gate.risks import open_findings
    from redline.gate.terminal import print_risks
    from redline.store import Store, dumps

    rules = load_policy(policy or [])
    store = _open_store(db, Store)
    found = open_findings(store, rules, target)
    if as_json:
        typer.echo(dumps([r.to_dict() for r in found]))
    else:
        print_risks(console, found, str(db))


@app.command()
def chaos(
    scenario: Annotated[str | None, typer.Argument(
        help="Cascade scenario id (or id glob, or a scenario YAML file).")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every cascade scenario.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the fault draws.")] = 0,
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", "-o", help="Report directory.")] = Path(
        "redline-out"),
    model: Annotated[str, typer.Option(
        help="The app's model: stand-in (scripted, fast) or local (bundled SmolLM2, slow).")
    ] = "stand-in",
    pipeline: Annotated[Path | None, typer.Option(
        help="Fault a declared pipeline (YAML) instead of the guarded app.")] = None,
    scenarios: Annotated[Path | None, typer.Option(
        "--scenarios", help="Directory of cascade scenarios instead of the built-in ones.")
    ] = None,
) -> None:
    """Inject a fault at one stage of the guarded app and judge what reaches its users."""
    from redline.cascade.chaos import ExperimentRecord, run_chaos
    from redline.cascade.journal import print_journal
    from redline.cascade.schema import select_cascades
    from redline.cascade.system import MODELS
    from redline.errors import UsageError

    if model not in MODELS:
        raise UsageError(f"--model must be one of {list(MODELS)}, got {model!r}")
    if seed < 0:
        raise UsageError("--seed must be 0 or more")
    if pipeline is not None and not pipeline.is_file():
        raise UsageError(f"no pipeline file {pipeline}")
    if scenarios is not None and not scenarios.is_dir():
        raise UsageError(f"no scenario directory {scenarios}")
    chosen = select_cascades(scenario, run_all, scenarios)

    def done(rec: ExperimentRecord) -> None:
        print_journal(console, rec.journal)
        console.print(f"  run [bold]{rec.run.id}[/]: journal {rec.files['journal']}")

    result = run_chaos(chosen, seed, db, out, model, pipeline, on_done=done)
    met = sum(e.journal.met for e in result.experiments)
    console.print(f"\n{len(result.experiments)} experiments: {met} meet their expectation, "
                  f"{len(result.experiments) - met} do not")
    console.print(f"exit code {int(result.code)} ({result.code.name.lower()})")
    raise typer.Exit(int(result.code))


@app.command()
def load(
    target: Annotated[str, typer.Option(
        "--target", "-t", help="demo (the guarded app, capacity-limited stand-in model), "
        "pipeline:FILE, or any target spec.")] = "demo",
    faults: Annotated[list[str] | None, typer.Option(
        "--faults", "-f", help="STAGE:KIND[:key=value,...], e.g. "
        "model:latency:latency_ms=40,fraction=0.5 (repeatable); adds a faulted ramp.")] = None,
    max_concurrency: Annotated[int, typer.Option(help="Highest concurrency level.")] = 16,
    levels: Annotated[str | None, typer.Option(
        help="Concurrency levels, e.g. 1,2,4,8 (default: doubling up to --max-concurrency).")
    ] = None,
    requests_per_worker: Annotated[int, typer.Option(help="Requests per worker per level.")
                                   ] = 10,
    duration: Annotated[float | None, typer.Option(
        help="Seconds per level instead of a request count.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds a user waits for a reply.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Seed of the fault draws.")] = 0,
    faulted_only: Annotated[bool, typer.Option(help="Skip the clean ramp.")] = False,
    model: Annotated[str, typer.Option(help="demo: stand-in or local.")] = "stand-in",
    model_capacity: Annotated[int, typer.Option(
        help="demo: concurrent slots of the model server (0: unlimited).")] = 4,
    model_ms: Annotated[float, typer.Option(help="demo: model time per request, ms.")] = 50.0,
    model_timeout_ms: Annotated[float, typer.Option(
        help="demo: the app's time-out on the model, ms.")] = 250.0,
    breaker: Annotated[bool, typer.Option(
        help="demo: circuit breaker and fallback around the model.")] = True,
    slo_p95_ms: Annotated[float | None, typer.Option(help="p95 latency SLO, ms.")] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        help="Highest acceptable error rate at any level.")] = None,
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path, typer.Option("--out", "-o", help="Report directory.")] = Path(
        "redline-out"),
) -> None:
    """Ramp concurrency on a target, with and without faults; percentiles, errors, the knee."""
    import asyncio

    from redline.cascade.load import doubling, parse_fault
    from redline.cascade.loadtest import LoadOptions, print_ramp, run_load
    from redline.cascade.record import store_load
    from redline.cascade.system import MODELS
    from redline.errors import UsageError
    from redline.store import Store

    if not 1 <= max_concurrency <= 4096:
        raise UsageError("--max-concurrency must be between 1 and 4096")
    try:
        steps = ([int(x) for x in levels.split(",") if x.strip()] if levels
                 else doubling(max_concurrency))
    except ValueError as exc:
        raise UsageError(f"--levels must be comma-separated integers, got {levels!r}") from exc
    if not steps or any(not 1 <= c <= 4096 for c in steps):
        raise UsageError("--levels must be integers between 1 and 4096")
    for name, value, low in (("--requests-per-worker", requests_per_worker, 1),
                             ("--timeout", timeout, 1e-3), ("--model-ms", model_ms, 0),
                             ("--model-capacity", model_capacity, 0), ("--seed", seed, 0),
                             ("--model-timeout-ms", model_timeout_ms, 1)):
        if value < low:
            raise UsageError(f"{name} must be at least {low:g}")
    if model not in MODELS:
        raise UsageError(f"--model must be one of {list(MODELS)}, got {model!r}")
    if duration is not None and not 0 < duration <= 3600:
        raise UsageError("--duration must be between 0 and 3600 seconds")
    opts = LoadOptions(
        target=target, levels=steps, per_worker=requests_per_worker, duration_s=duration,
        timeout_s=timeout,
        seed=seed, faults=[parse_fault(f) for f in faults or []], faulted_only=faulted_only,
        model=model, model_capacity=model_capacity or None, model_ms=model_ms,
        model_timeout_ms=model_timeout_ms, breaker=breaker,
    )
    per_level = (f"{duration:g} s" if duration else f"{requests_per_worker} requests per worker")
    err_console.print(f"load: {escape(target)}, levels {steps}, {per_level} per level")
    result = asyncio.run(run_load(opts))
    store = Store(db)
    try:
        run, code, findings, files = store_load(store, result, slo_p95_ms, max_error_rate, out)
    finally:
        store.close()
    for r in result.ramps:
        print_ramp(console, r)
    for finding in findings:
        console.print(f"[red]-[/] {escape(finding)}")
    console.print(f"run [bold]{run.id}[/]: {files['load']}")
    console.print(f"exit code {int(code)} ({code.name.lower()})")
    raise typer.Exit(int(code))


def _open_store(db: Path, store_cls):
    if not db.exists():
        raise RedlineError(f"no store at {db} (run `redline scan` first, or pass --db)")
    return store_cls(db)


def main() -> None:
    try:
        app()
    except RedlineError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(3)
    except Exception as exc:  # a bug in redline: say so plainly, traceback only on request
        if os.environ.get("REDLINE_DEBUG"):
            raise
        err_console.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                          "(set REDLINE_DEBUG=1 for a traceback)")
        sys.exit(70)
