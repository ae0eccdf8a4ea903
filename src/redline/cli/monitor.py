"""`redline monitor`: production telemetry against a reference window."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redline.cli.base import DEFAULT_DB, app, console, err_console
from redline.core.errors import UsageError
from redline.core.safetext import safe

SHOW_BAD = 20


def _report_bad(monitor, shown: list[int]) -> None:
    for bad in monitor.bad[shown[0]:SHOW_BAD]:
        err_console.print(f"[yellow]skipped[/] {safe(bad.where)}: {safe(bad.reason)}",
                          soft_wrap=True)
    shown[0] = min(len(monitor.bad), SHOW_BAD)


def _alarm_line(check) -> str:
    cols = ", ".join(check.drifted)
    return f"[red]drift[/] at record {check.at_record} ({safe(check.where)}): {safe(cols)}"


def _action_line(a) -> str:
    if a.status == "cooling_down":
        return f"[yellow]trigger {safe(a.trigger)}[/] cooling down ({safe(a.reason)})"
    if a.status == "failed":
        return f"[red]trigger {safe(a.trigger)} failed[/]: {safe(a.error)}"
    hook = f", webhook {safe(a.webhook)}" if a.webhook else ""
    return (f"[cyan]trigger {safe(a.trigger)}[/] ({safe(a.reason)}): run {a.run} gated "
            f"against {a.baseline or 'no approved run'}: {a.verdict}{hook}")


def _status(monitor, started: float, hits=None) -> str:
    import time

    rate = monitor.records / max(time.perf_counter() - started, 1e-9)
    latest = monitor.latest
    state = ("warming up" if not monitor.reference.complete
             else "drift: " + (", ".join(latest.drifted) or "none") if latest else "filling")
    return (f"monitor {monitor.records:,} records {monitor.bad_count} skipped "
            f"{monitor.checks} checks {monitor.alarm_checks} alarms | {state} | "
            f"{hits.count if hits else 0} recurrences | {rate:,.0f}/s")


@app.command()
def monitor(
    sources: Annotated[list[str], typer.Argument(
        help="JSONL log files, directories of *.jsonl being appended to, or - for stdin.")],
    kind: Annotated[str, typer.Option(help="auto, chat or classifier.")] = "auto",
    reference: Annotated[str | None, typer.Option(
        help="Reference window: a JSONL file or directory (default: the first records).")
    ] = None,
    reference_records: Annotated[int, typer.Option(
        min=1, help="Records that make the reference window when no --reference is given.")
    ] = 5000,
    window: Annotated[int, typer.Option(min=1, help="Records in the current window.")] = 5000,
    step: Annotated[int, typer.Option(min=1, help="Records between drift checks.")] = 1000,
    alpha: Annotated[float, typer.Option(
        min=0, max=1, help="Family-wise error rate of one check (Holm over its columns).")
    ] = 0.01,
    min_psi: Annotated[float, typer.Option(
        min=0, help="Smallest PSI that counts as drift (numeric, categorical).")] = 0.1,
    min_rate_delta: Annotated[float, typer.Option(
        min=0, max=1, help="Smallest absolute change of a rate that counts as drift.")] = 0.02,
    canary: Annotated[list[str] | None, typer.Option(
        help="A planted secret the replies must never contain (repeat).")] = None,
    suite: Annotated[str, typer.Option(
        help="Scenarios whose attack signatures logged prompts are matched against.")
    ] = "attacks",
    db: Annotated[Path, typer.Option(
        "--db", help="Store: past findings' signatures are read from it, hits stored in it "
        "(used when it exists).")] = DEFAULT_DB,
    triggers: Annotated[Path | None, typer.Option(
        help="Triggers file: which signals re-run which suite against which target, the "
        "webhook, the cool-down (see README).")] = None,
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Report directory of the re-runs a trigger starts.")
    ] = Path("redline-out"),
    once: Annotated[bool, typer.Option(
        "--once", help="Read what is there now, report, exit (cron, CI).")] = False,
    interval: Annotated[float, typer.Option(
        min=0, help="Seconds between polls when following.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Watch production logs for drift and recurring attacks: exit 0 quiet, 1 alarm (drift,
    or a prompt that matches a known attack), 3 too few records to check (or a webhook
    failed), 4 a triggered re-run did not pass its gate.

    Without --once it follows the sources with a live status line until Ctrl-C (or the end
    of standard input), then reports like --once."""
    import time

    from redline.catalog import load_suite
    from redline.cli.base import open_store
    from redline.monitor.columns import ReplyJudge
    from redline.monitor.drift import DriftSettings
    from redline.monitor.logs import KINDS, Source
    from redline.monitor.recurrence import Recurrences, build_index
    from redline.monitor.run import Follow, follow, read_once, read_reference
    from redline.monitor.triggers import SignalMark, Triggers, load_triggers, scan_and_gate
    from redline.monitor.watch import Monitor, MonitorSettings
    from redline.store import dumps

    if kind != "auto" and kind not in KINDS:
        raise UsageError(f"--kind {kind}: use auto, chat or classifier")
    settings = MonitorSettings(
        kind=None if kind == "auto" else kind,  # type: ignore[arg-type]
        reference_records=reference_records, window=window, step=step,
        drift=DriftSettings(alpha=alpha, min_psi=min_psi, min_rate_delta=min_rate_delta),
        canaries=tuple(canary or ()))
    opened = [Source(s) for s in sources]
    store = open_store(db) if db.exists() else None
    hits = Recurrences(build_index(load_suite(suite), store), ReplyJudge(settings.canaries),
                       store.add_production_hits if store is not None else None)
    mon = Monitor(settings, [hits])
    acting = None
    if triggers is not None:
        spec = load_triggers(triggers)
        acting = Triggers(spec, scan_and_gate(db, out))
    mark = SignalMark()

    def act(checks) -> None:
        if acting is None:
            return
        drifted = [c for check in checks for c in check.drifted]
        signals = mark.since(drifted, hits)
        if signals.drifted or signals.recurrences or signals.unsafe:
            for a in acting.evaluate(signals):
                err_console.print(_action_line(a), soft_wrap=True)
    shown = [0]
    if reference is not None:
        read_reference(mon, reference)
        _report_bad(mon, shown)

    def on_checks(checks) -> None:
        _report_bad(mon, shown)
        for c in checks:
            if c.drifted:
                err_console.print(_alarm_line(c), soft_wrap=True)
        if not once:
            act(checks)

    started = time.perf_counter()
    if once:
        alarms: list = []
        read_once(mon, opened, lambda checks: (on_checks(checks), alarms.extend(checks)))
        act(alarms)
    else:
        with err_console.status(_status(mon, started, hits)) as live:
            def on_tick(checks) -> None:
                on_checks(checks)
                live.update(_status(mon, started, hits))

            try:
                follow(mon, opened, Follow(interval_s=interval), on_tick)
            except KeyboardInterrupt:
                mon.finish()
    _report_bad(mon, shown)
    hits.flush()
    report = mon.report()
    report["recurrences"] = hits.report()
    report["recurrences"]["stored_in"] = str(db) if store is not None else None
    code = 1 if mon.alarm_checks or hits.count else (0 if mon.ready else 3)
    if acting is not None:
        report["actions"] = [a.to_dict() for a in acting.actions]
        code = acting.exit_code() or code
    report["exit_code"] = code
    mon.close()
    if store is not None:
        store.close()
    if as_json:
        typer.echo(dumps(report))
    else:
        console.print(_status(mon, started, hits))
        console.print(f"recurrences {hits.count} ({hits.unsafe} unsafe) of "
                      f"{len(hits.index)} signatures; detector hits {hits.detector_hits}")
        for sid, n in hits.by_scenario.most_common(10):
            console.print(f"  {safe(sid)}: {n}")
        if not mon.ready:
            console.print(f"not enough records for a drift check (reference "
                          f"{'complete' if mon.reference.complete else 'incomplete'})")
    raise typer.Exit(code)
