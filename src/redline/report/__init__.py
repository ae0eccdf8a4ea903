"""Reports of a run: terminal tables, JSON, JUnit XML and a self-contained HTML page."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.report.html import render_html
from redline.report.json_report import build_json
from redline.report.junit import render_junit
from redline.store import RunInfo, Store, dumps
from redline.summary import Summary

MAX_SHOWN_CHARS = 4000


def clip(text: str | None, limit: int = MAX_SHOWN_CHARS) -> str:
    if not text:
        return ""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [{len(text) - limit} more characters not shown]"


@dataclass
class Finding:
    """One failed or errored attempt as reports show it."""

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

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def findings(store: Store, run_id: str, outcome: str) -> list[Finding]:
    out = []
    for rec in store.results(run_id, outcome=outcome):
        user_turns = [m["content"] for m in rec["transcript"] if m["role"] == "user"]
        last_reply = next(
            (r["text"] for r in reversed(rec["responses"]) if r.get("text") is not None), ""
        )
        out.append(Finding(
            attempt_id=rec["attempt_id"], scenario_id=rec["scenario_id"],
            category=rec["category"], severity=rec["severity"], outcome=rec["outcome"],
            chain=rec["chain"], prompt=clip("\n\n".join(user_turns)), response=clip(last_reply),
            error=rec["error"], evidence=[v for v in rec["verdicts"] if v["detected"]],
        ))
    return out


def write_reports(out_dir: Path, store: Store, run: RunInfo, summary: Summary,
                  code: int) -> dict[str, Path]:
    """Write report.json, junit.xml and report.html; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = findings(store, run.id, "fail")
    errored = findings(store, run.id, "error")
    doc = build_json(run, summary, failed, errored, code)
    paths = {
        "json": out_dir / "report.json",
        "junit": out_dir / "junit.xml",
        "html": out_dir / "report.html",
    }
    paths["json"].write_text(dumps(doc), encoding="utf-8", errors="backslashreplace")
    paths["junit"].write_bytes(render_junit(run, summary, failed, errored))
    paths["html"].write_text(render_html(doc), encoding="utf-8", errors="backslashreplace")
    return paths


def report_digest(summary: Summary, store: Store, run_id: str) -> str:
    """A digest of everything judged: same verdicts in, same digest out."""
    h = hashlib.sha256()
    h.update(dumps(summary.to_dict()).encode())
    for rec in store.results(run_id):
        h.update(dumps([rec["attempt_id"], rec["outcome"], rec["verdicts"]]).encode())
    return h.hexdigest()
