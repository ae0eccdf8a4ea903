"""The terminal summary printed at the end of a scan."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from redline.analysis.summary import Summary, Tally
from redline.core.safetext import safe

SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"]


def _row(name: str, t: Tally) -> list[str]:
    rate = f"{t.failure_rate:.1%}"
    style = "red" if t.failures else "green"
    return [name, str(t.attempts), f"[{style}]{t.failures}[/]", f"[{style}]{rate}[/]",
            f"[yellow]{t.errors}[/]" if t.errors else "0",
            f"[yellow]{t.unclear}[/]" if t.unclear else "0"]


def _table(title: str, first: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first, overflow="fold")
    for col in ("attempts", "failed", "rate", "errors", "unclear"):
        table.add_column(col, justify="right")
    return table


def print_summary(console: Console, summary: Summary, limit: int = 25) -> None:
    cats = _table("Per category", "category")
    for name, t in sorted(summary.categories.items()):
        cats.add_row(*_row(safe(name), t))
    cats.add_section()
    cats.add_row(*_row("[b]total[/]", summary.total))
    console.print(cats)
    sev = _table("Per severity", "severity")
    for name in SEVERITY_ORDER:
        if name in summary.severities:
            sev.add_row(*_row(safe(name), summary.severities[name]))
    console.print(sev)
    statuses = summary.statuses()
    bad = [sid for sid, st in statuses.items() if st != "pass"]
    if not bad:
        console.print("[green]Every scenario is within its success criterion.[/]")
        return
    # one space between columns: the longest id and "inconclusive" still fit 80 columns
    over = Table(title=f"Scenarios over their criterion ({len(bad)})", title_justify="left",
                 box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    over.add_column("scenario", overflow="fold")  # long ids wrap, never truncate
    for col in ("severity", "failed", "err", "uncl", "max", "status"):
        over.add_column(col, no_wrap=True)
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    bad.sort(key=lambda sid: (rank.get(summary.info[sid].severity, 9),
                              -summary.scenarios[sid].failure_rate, sid))
    for sid in bad[:limit]:
        t, info = summary.scenarios[sid], summary.info[sid]
        over.add_row(safe(sid), safe(info.severity), f"{t.failures}/{t.attempts}", str(t.errors),
                     str(t.unclear),
                     f"{info.max_failure_rate:.0%}",
                     f"[red]{statuses[sid]}[/]" if statuses[sid] == "fail"
                     else f"[yellow]{statuses[sid]}[/]")
    console.print(over)
    if summary.total.unclear:
        console.print(f"[yellow]{summary.total.unclear} attempt(s) unclear[/]: the detectors "
                      "could not decide; not counted as passes (review them: redline review)")
    if len(bad) > limit:
        console.print(f"... and {len(bad) - limit} more (see the HTML or JSON report)")
