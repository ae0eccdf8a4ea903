"""The gate's decision, a comparison and the risk register on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from redline.core.safetext import safe
from redline.gate.compare import Comparison, UnitComparison
from redline.gate.risks import Risk
from redline.gate.verdict import Decision, Reason

STYLE = {"approve": "bold green", "approve-with-warnings": "bold yellow", "hold": "bold yellow",
         "block": "bold red", "rollback": "bold red"}


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _reason_line(r: Reason) -> str:
    colour = "yellow" if r.action.kind in ("warn", "hold") else "red"
    return (f"[{colour}]{safe(r.action.describe())}[/] [bold]{r.kind}[/] "
            f"{safe(r.message)} [dim](rule {safe(r.rule)})[/]")


def _evidence_line(r: Reason) -> str | None:
    ev = r.evidence
    parts = []
    if "failure_rate" in ev:
        f = ev["failure_rate"]
        parts.append(f"failed {f['k']}/{f['n']}, Wilson {_pct(f['wilson_ci'][0])}–"
                     f"{_pct(f['wilson_ci'][1])}, exact {_pct(f['exact_ci'][0])}–"
                     f"{_pct(f['exact_ci'][1])}")
    if ev.get("test"):
        t = ev["test"]
        parts.append(f"{t['test']} p={t['p_value']:.4g} diff={t['diff']:+.1%}"
                     + (f" OR={t['odds_ratio']:.3g}" if t.get("odds_ratio") is not None else ""))
    if ev.get("failing_attempts"):
        parts.append("attempts " + ", ".join(ev["failing_attempts"][:3]))
    if ev.get("scenarios"):
        parts.append("scenarios " + ", ".join(ev["scenarios"][:8]))
    return "; ".join(parts) or None


def print_decision(console: Console, d: Decision) -> None:
    run = d.run
    console.print(f"gate on run [bold]{safe(run['id'])}[/] ({safe(run['target'])}, seed "
                  f"{run['seed']})" + (f" against baseline [bold]{safe(d.baseline['id'])}[/]"
                                       if d.baseline else ""))
    console.print(f"policy: {safe(', '.join(d.policy['files']))} "
                  f"[dim](digest {d.policy['digest'][:12]})[/]")
    t = d.total
    console.print(f"{t['attempts']} attempts: {t['passes']} passed, {t['failures']} failed, "
                  f"{t['errors']} errored, {t.get('unclear', 0)} unclear")
    if d.reviews:
        who = sorted({str(r["reviewer"]) for r in d.reviews})
        console.print(f"{len(d.reviews)} reviewed label(s) override the detectors (by "
                      f"{safe(', '.join(who))})")
    for r in d.reasons:
        console.print("  " + _reason_line(r), soft_wrap=True)
        ev = _evidence_line(r)
        if ev:
            console.print(f"      [dim]{safe(ev)}[/]", soft_wrap=True)
    for cat, b in d.benign.items():
        c = b["candidate"]["over_refusal"]
        line = f"benign controls {cat}: over-refusal {_pct(c['rate'])} ({c['k']}/{c['n']})"
        if "baseline" in b:
            line += f", baseline {_pct(b['baseline']['over_refusal']['rate'])}"
        console.print(safe(line))
    for name, a in d.judges.items():
        console.print(safe(judge_line(name, a)))
    mode = d.policy["statistics"].get("judge_correction", "raw")
    for s in d.scenarios:
        c = s.corrected
        # where the correction puts a scenario on the other side of its threshold
        if c is not None and (c["raw"] > s.threshold + 1e-12) != (c["rate"] > s.threshold + 1e-12):
            console.print(safe(f"{s.id}: failure rate {_pct(c['raw'])}, corrected for judge "
                                 f"error {_pct(c['rate'])} (CI {_pct(c['ci'][0])}–"
                                 f"{_pct(c['ci'][1])}); decisions use the {mode} figure"))
    console.print(f"verdict: [{STYLE[d.verdict]}]{safe(d.headline())}[/]")


def judge_line(name: str, a: dict) -> str:
    """A judge's measured accuracy, as every report shows it next to the figures."""
    se, sp = a["sensitivity_ci"], a["specificity_ci"]
    return (f"judge {name}: sensitivity {a['sensitivity']:.2f} [{se[0]:.2f}–{se[1]:.2f}], "
            f"specificity {a['specificity']:.2f} [{sp[0]:.2f}–{sp[1]:.2f}] "
            f"(tp {a['tp']} fp {a['fp']} tn {a['tn']} fn {a['fn']}, {a['source']})")


def _worth_showing(u: UnitComparison) -> bool:
    t = u.transitions
    return bool(t.fixed or t.newly_failing or u.base.failures or u.cand.failures
                or not (u.base.attempts and u.cand.attempts))


def print_comparison(console: Console, c: Comparison, benign: list[str]) -> None:
    b, cr = c.baseline.run, c.candidate.run
    console.print(f"baseline [bold]{safe(b.id)}[/] (seed {b.seed}) → candidate "
                  f"[bold]{safe(cr.id)}[/] (seed {cr.seed})")
    if not c.same_seed:
        console.print("[yellow]different seeds: no attempt is shared; scenarios are compared "
                      "as independent samples (Fisher's exact test)[/]")
    t = c.totals
    console.print(f"fixed {t.fixed}, still failing {t.still_failing}, newly failing "
                  f"{t.newly_failing}, still passing {t.still_passing}, errored {t.errored}, "
                  f"unclear {t.unclear}, "
                  f"unmatched {t.only_baseline}/{t.only_candidate}")
    changed = {k: u for k, u in c.scenarios.items() if _worth_showing(u)}
    for title, units in (("categories", c.categories),
                         ("scenarios that changed, fail, or ran in one run only", changed)):
        table = Table(title=title)
        for col in ("name", "fixed", "still failing", "newly failing", "baseline", "candidate",
                    "test"):
            table.add_column(col)
        for name, u in units.items():
            tr = u.transitions
            label = f"{name} (benign)" if name in benign or u.category in benign else name
            table.add_row(safe(label), str(tr.fixed), str(tr.still_failing),
                          str(tr.newly_failing),
                          f"{u.base.failures}/{u.base.judged} {_pct(u.base.failure_rate)}",
                          f"{u.cand.failures}/{u.cand.judged} {_pct(u.cand.failure_rate)}",
                          safe(u.test.describe()) if u.test else "–")
        console.print(table)


def _recurrence(n: int, unsafe: int, last: str | None) -> str:
    if not n:
        return "-"
    return f"{n} ({unsafe} unsafe) {(last or '')[:10]}"


def print_risks(console: Console, risks: list[Risk], db: str,
                recurring: dict[str, dict] | None = None) -> None:
    table = Table(title=f"{len(risks)} open findings in {db}")
    for col in ("#", "scenario", "severity", "score", "fail rate", "reach", "owner",
                "first seen", "last seen", "due", "in production", "remediation"):
        table.add_column(col)
    for i, r in enumerate(risks, 1):
        due = f"[red]{r.due} overdue[/]" if r.overdue else r.due
        table.add_row(str(i), safe(r.scenario_id), r.severity, f"{r.score:.2f}",
                      _pct(r.failure_rate), _pct(r.reach.value), safe(r.owner),
                      r.first_seen[:10], r.last_seen[:10], due,
                      _recurrence(r.recurrences, r.unsafe_recurrences, r.last_recurrence),
                      safe(r.remediation[:80]))
    console.print(table)
    for sid, s in (recurring or {}).items():
        console.print(f"recurring in production, not open: {safe(sid)} "
                      f"{_recurrence(s['recurrences'], s['unsafe'], s['last_seen'])}")
