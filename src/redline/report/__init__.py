"""Reports of a run: terminal tables, JSON, JUnit XML and a self-contained HTML page."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.analysis.summary import Summary
from redline.gate.correction import accuracy_of
from redline.gate.evidence import ScenarioMeta
from redline.report.html import render_html
from redline.report.json_report import build_json
from redline.report.junit import render_junit
from redline.store import RunInfo, Store, dumps

MAX_SHOWN_CHARS = 4000
# Reports show the first failures and errors of each scenario, not all of them, so their size
# and the memory to write them do not grow with the run; the store keeps every attempt.
MAX_FINDINGS = 1000
MAX_FINDINGS_PER_SCENARIO = 20
FINDING_COLUMNS = ("attempt_id, scenario_id, category, severity, outcome, chain, transcript, "
                   "responses, error, verdicts")


def clip(text: str | None, limit: int = MAX_SHOWN_CHARS) -> str:
    if not text:
        return ""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [{len(text) - limit} more characters not shown]"


@dataclass
class Finding:
    """One failed, unclear or errored attempt as reports show it."""

    attempt_id: str
    scenario_id: str
    category: str
    severity: str
    outcome: str
    chain: list[str]
    prompt: str
    response: str
    error: str | None
    evidence: list[dict[str, Any]]
    review: dict[str, Any] | None = None  # a person's label that overrides the detectors

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _chosen_seqs(store: Store, run_id: str, outcome: str, limit: int,
                 per_scenario: int, labels: dict[str, dict[str, Any]]) -> list[int]:
    """The first `per_scenario` attempts of each scenario with this outcome (a reviewed
    label overriding the stored one), `limit` in all.

    Reads two small columns of each row, so a report of a million-attempt run stays small
    and quick; the store keeps every attempt.
    """
    per: dict[str, int] = {}
    chosen: list[int] = []
    relabelled = [aid for aid, rec in labels.items() if rec["label"] == outcome]
    cur = store.outcome_seqs(run_id, outcome, relabelled)
    for seq, sid, aid in cur:
        if aid in labels and labels[aid]["label"] != outcome:
            continue
        if per.get(sid, 0) < per_scenario:
            per[sid] = per.get(sid, 0) + 1
            chosen.append(seq)
            if len(chosen) >= limit:
                break
    return chosen


def _finding(rec: dict[str, Any]) -> Finding:
    user_turns = [m["content"] for m in rec["transcript"] if m["role"] == "user"]
    last_reply = next(
        (r["text"] for r in reversed(rec["responses"]) if r.get("text") is not None), ""
    )
    return Finding(
        attempt_id=rec["attempt_id"], scenario_id=rec["scenario_id"],
        category=rec["category"], severity=rec["severity"], outcome=rec["outcome"],
        chain=rec["chain"], prompt=clip("\n\n".join(user_turns)), response=clip(last_reply),
        error=rec["error"],
        evidence=[v for v in rec["verdicts"] if v["detected"] or v.get("unclear")],
    )


def findings(store: Store, run_id: str, outcome: str, limit: int = MAX_FINDINGS,
             per_scenario: int = MAX_FINDINGS_PER_SCENARIO) -> list[Finding]:
    """Failed or errored attempts to show, in plan order, at most `per_scenario` per scenario
    and `limit` in all (the summary counts them all)."""
    labels = store.labels(run_id)
    seqs = _chosen_seqs(store, run_id, outcome, limit, per_scenario, labels)
    names = [c.strip() for c in FINDING_COLUMNS.split(",")]
    out = []
    for rec in store.results_at(run_id, seqs, names):
        for key in ("chain", "transcript", "responses", "verdicts"):
            rec[key] = json.loads(rec[key])
        finding = _finding(rec)
        if rec["attempt_id"] in labels:
            finding.review = labels[rec["attempt_id"]]
            finding.outcome = finding.review["label"]
        out.append(finding)
    return out


def write_reports(out_dir: Path, store: Store, run: RunInfo, summary: Summary,
                  code: int) -> dict[str, Path]:
    """Write report.json, junit.xml and report.html; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = findings(store, run.id, "fail")
    errored = findings(store, run.id, "error")
    unclear = findings(store, run.id, "unclear")
    doc = build_json(run, summary, failed, errored, code, unclear)
    doc["reviews"] = list(store.labels(run.id).values())  # labels that override detectors
    # run metrics of the kinds that have them (classifier checks), from the finish record
    doc["metrics"] = (run.summary or {}).get("metrics", {})
    definitions = store.scenario_definitions(run.id).values()
    if any(d.get("kind") == "attack" for d in definitions):
        from redline.attack.report import attack_section

        doc["attacks"] = attack_section(store.verdict_rows(run.id))
    doc["judges"] = accuracy_of([d for defn in store.scenario_definitions(run.id).values()
                                 for d in ScenarioMeta.from_definition("", defn).detectors])
    paths = {
        "json": out_dir / "report.json",
        "junit": out_dir / "junit.xml",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(dumps(doc), encoding="utf-8", errors="backslashreplace")
    paths["junit"].write_bytes(render_junit(run, summary, failed, errored, unclear))
    paths["html"].write_text(render_html(doc), encoding="utf-8", errors="backslashreplace")
    return paths


def report_digest(summary: Summary, store: Store, run_id: str) -> str:
    """A digest of everything judged: same verdicts in, same digest out."""
    h = hashlib.sha256()
    h.update(dumps(summary.to_dict()).encode())
    for attempt_id, outcome, verdicts in store.verdict_rows(run_id):
        h.update(dumps([attempt_id, outcome]).encode())
        h.update(verdicts.encode("utf-8", "surrogatepass"))
    return h.hexdigest()
