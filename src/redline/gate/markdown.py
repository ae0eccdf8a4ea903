"""A Decision as Markdown, sized for a pull-request comment."""

from __future__ import annotations

from typing import Any

from redline.gate.verdict import Decision, Reason

ICON = {"approve": "✅", "approve-with-warnings": "⚠️", "hold": "⏸️", "block": "⛔",
        "rollback": "⏪"}
MAX_SCENARIO_ROWS = 200


def cell(text: Any) -> str:
    """Table-safe text: no pipes, no newlines, no HTML."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return s.replace("<", "&lt;").replace(">", "&gt;")


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _ci(rate: dict[str, Any]) -> str:
    lo, hi = rate["wilson_ci"]
    return f"{_pct(lo)}–{_pct(hi)}"


def _reason_rows(reasons: list[Reason]) -> list[str]:
    rows = ["| action | kind | subject | reason | rule |", "|---|---|---|---|---|"]
    rows += [f"| {cell(r.action.describe())} | {r.kind} | `{cell(r.subject)}` | "
             f"{cell(r.message)} | `{cell(r.rule)}` |" for r in reasons]
    return rows


def _test_text(test: dict[str, Any] | None) -> str:
    if not test:
        return "–"
    text = f"{test['test']} p={test['p_value']:.3g}, Δ={test['diff']:+.1%}"
    if test.get("odds_ratio") is not None:
        text += f", OR={test['odds_ratio']:.3g}"
    return text


def _comparison(d: Decision) -> list[str]:
    c = d.comparison
    if not c:
        return []
    t = c["totals"]
    lines = ["", f"### Against baseline `{c['baseline_run']}`", ""]
    if not c["same_seed"]:
        lines += ["> The runs used different seeds: no attempt is shared, so scenarios are "
                  "compared as independent samples (Fisher's exact test).", ""]
    lines += [f"Fixed **{t['fixed']}**, still failing **{t['still_failing']}**, newly failing "
              f"**{t['newly_failing']}**, still passing {t['still_passing']}, errored "
              f"{t['errored']}, unclear {t.get('unclear', 0)}, unmatched {t['only_baseline']} / "
              f"{t['only_candidate']}.", "",
              "| category | fixed | still failing | newly failing | baseline | candidate | "
              "test |", "|---|---|---|---|---|---|---|"]
    for cat, u in c["categories"].items():
        tr = u["transitions"]
        lines.append(f"| {cat} | {tr['fixed']} | {tr['still_failing']} | {tr['newly_failing']} "
                     f"| {_pct(u['baseline']['failure_rate'])} | "
                     f"{_pct(u['candidate']['failure_rate'])} | {_test_text(u['test'])} |")
    return lines


def _benign(d: Decision) -> list[str]:
    if not d.benign:
        return []
    lines = ["", "### Benign controls (over-refusal)", ""]
    for cat, b in d.benign.items():
        cand = b["candidate"]["over_refusal"]
        text = f"- `{cat}`: {_pct(cand['rate'])} over-refusal ({cand['k']}/{cand['n']}, " \
               f"CI {_ci(cand)})"
        if "baseline" in b:
            base = b["baseline"]["over_refusal"]
            text += f"; baseline {_pct(base['rate'])}; {_test_text(b.get('test'))}"
        lines.append(text)
    return lines


def _corrected(c: dict | None) -> str:
    return f" (corrected {_pct(c['rate'])})" if c else ""


def _scenarios(d: Decision) -> list[str]:
    rows = [s for s in d.scenarios if s.status != "pass"] + \
           [s for s in d.scenarios if s.status == "pass"]
    lines = ["", "<details><summary>Evidence per scenario "
             f"({len(d.scenarios)})</summary>", "",
             "| scenario | severity | status | failed | errors | unclear | rate | 95% CI | allowed "
             "| test |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for s in rows[:MAX_SCENARIO_ROWS]:
        lines.append(
            f"| `{cell(s.id)}` | {s.severity} | {s.status} | {s.counts.failures}/"
            f"{s.counts.judged} | {s.counts.errors} | {s.counts.unclear} | "
            f"{_pct(s.failure['rate'])}{_corrected(s.corrected)} | "
            f"{_ci(s.failure)} | {_pct(s.threshold)} | "
            f"{_test_text(s.test.to_dict() if s.test else None)} |")
    if len(rows) > MAX_SCENARIO_ROWS:
        lines.append(f"| … {len(rows) - MAX_SCENARIO_ROWS} more in gate.json | | | | | | | | | |")
    return [*lines, "", "</details>"]


def render_markdown(d: Decision) -> str:
    run = d.run
    t = d.total
    files = ", ".join(f"`{cell(f)}`" for f in d.policy["files"])
    lines = [f"## {ICON.get(d.verdict, '')} redline gate: {d.headline()}", "",
             f"Run `{run['id']}` ({cell(run['target'])}, suite {cell(run['suite'])}, seed "
             f"{run['seed']}): {t['attempts']} attempts, {t['failures']} failed, "
             f"{t['errors']} errored, {t.get('unclear', 0)} unclear. Policy: {files}"
             f" (digest `{d.policy['digest'][:12]}`). Exit code **{d.exit_code}**."]
    if d.rollback_to:
        lines += ["", f"**Roll back to `{cell(d.rollback_to)}`.**"]
    if d.judges:
        from redline.gate.terminal import judge_line

        lines += ["", "Judges' measured accuracy: " + "; ".join(
            cell(judge_line(n, a).removeprefix("judge ")) for n, a in d.judges.items())]
    if d.hold_flags:
        flags = ", ".join(f"`{cell(h)}`" for h in d.hold_flags)
        lines += ["", f"**Pause feature flag(s): {flags}.**"]
    if d.blocking():
        lines += ["", "### Blocking", "", *_reason_rows(d.blocking())]
    if d.warnings():
        lines += ["", "### Warnings", "", *_reason_rows(d.warnings())]
    if not d.reasons:
        lines += ["", "Every scenario is within the policy."]
    lines += _comparison(d) + _benign(d) + _scenarios(d)
    return "\n".join(lines) + "\n"
