"""Unclear verdicts downstream: stored, shown in every report, never counted as a pass."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from helpers import write_hedge_suite
from redline.analysis.summary import ExitCode
from redline.cascade.experiment import outcome_for
from redline.cascade.judge import classify
from redline.core.config import load_config
from redline.core.judging import outcome_of
from redline.core.models import Verdict
from redline.core.scan import scan
from redline.gate.policy import load_policy
from redline.gate.runner import evaluate
from redline.store import SCHEMA, Store


def run_scan(root: Path, suite: Path, fn: str = "echo") -> Any:
    config = load_config(None, {"target": f"python:redline.plugins.targets.toys:{fn}",
                                "suite": str(suite), "seed": 1, "db": str(root / "r.db"),
                                "out": str(root / "out")})
    return scan(config)


def test_unclear_is_stored_shown_and_exits_1(tmp_path: Path) -> None:
    inputs = ["perhaps this", "a plain question", "perhaps that", "hello"]
    result = run_scan(tmp_path, write_hedge_suite(tmp_path, inputs))
    total = result.summary.total
    assert (total.passes, total.failures, total.unclear, total.errors) == (2, 0, 2, 0)
    assert result.summary.statuses() == {"hedge-a": "inconclusive"}
    assert result.code == ExitCode.FINDINGS  # not provably within its criterion
    store = Store(tmp_path / "r.db")
    outcomes = sorted(r["outcome"] for r in store.results(result.run.id))
    assert outcomes == ["pass", "pass", "unclear", "unclear"]
    assert store.verify(result.run.id).ok
    doc = json.loads(result.reports["json"].read_text())
    assert doc["summary"]["total"]["unclear"] == 2
    assert len(doc["unclear"]) == 2 and doc["shown"]["of_unclear"] == 2
    assert doc["unclear"][0]["evidence"][0]["unclear"] is True
    case = ET.parse(result.reports["junit"]).getroot().find(".//testcase")
    assert case is not None and case.find("error").get("type") == "inconclusive"  # type: ignore
    assert "2 unclear" in case.find("error").get("message")  # type: ignore[union-attr]
    html = result.reports["html"].read_text()
    assert "Unclear (2" in html and "perhaps this" in html
    decision = evaluate(store, result.run.id, None, load_policy()).decision
    assert not decision.approved
    row = decision.scenarios[0]
    assert (row.status, row.counts.unclear, row.counts.judged) == ("inconclusive", 2, 2)
    assert any(r.kind == "inconclusive" and "2 unclear" in r.message for r in decision.reasons)
    assert decision.total["unclear"] == 2
    store.close()


def test_only_unclear_is_never_passed_by_the_gate_even_with_a_loose_threshold(
        tmp_path: Path) -> None:
    suite = write_hedge_suite(tmp_path, ["perhaps one", "perhaps two"], rate=0.5)
    result = run_scan(tmp_path, suite)
    assert result.code == ExitCode.FINDINGS
    store = Store(tmp_path / "r.db")
    decision = evaluate(store, result.run.id, None, load_policy()).decision
    assert not decision.approved
    assert "no judged attempts (0 errored, 2 unclear)" in decision.reasons[0].message
    store.close()


def test_a_failure_outranks_unclear_and_a_clean_run_still_passes(tmp_path: Path) -> None:
    result = run_scan(tmp_path, write_hedge_suite(tmp_path, ["HARM perhaps", "hi"], name="b"))
    assert (result.summary.total.failures, result.summary.total.unclear) == (1, 0)
    clean = run_scan(tmp_path, write_hedge_suite(tmp_path, ["hi", "there"], name="c"))
    assert clean.code == ExitCode.OK and clean.summary.total.unclear == 0


def test_comparison_counts_unclear_transitions_apart(tmp_path: Path) -> None:
    suite = write_hedge_suite(tmp_path, ["perhaps x", "plain y", "plain z"])
    base = run_scan(tmp_path, suite, "refuse")  # refuses everything: all pass
    cand = run_scan(tmp_path, suite, "echo")
    store = Store(tmp_path / "r.db")
    comparison = evaluate(store, cand.run.id, base.run.id, load_policy()).decision.comparison
    assert comparison is not None
    totals = comparison["totals"]
    assert (totals["unclear"], totals["still_passing"], totals["errored"]) == (1, 2, 0)
    store.close()


def test_a_store_made_before_unclear_existed_accepts_it(tmp_path: Path) -> None:
    old = SCHEMA.replace("'error', 'unclear'", "'error'")
    assert old != SCHEMA
    db = sqlite3.connect(tmp_path / "r.db")
    db.executescript(old)
    db.close()
    result = run_scan(tmp_path, write_hedge_suite(tmp_path, ["perhaps so"]))
    assert result.summary.total.unclear == 1
    store = Store(tmp_path / "r.db")
    assert store.verify(result.run.id).ok
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("UPDATE results SET outcome = 'maybe'")
    store.close()


def test_cascade_states_an_unclear_detector_as_unclear_never_ok() -> None:
    unclear = outcome_of([Verdict("harmful_compliance", False, 0.5, {}, unclear=True)])
    state = classify("Some reply", False, unclear, [])
    assert state == "unclear"
    assert outcome_for(state, ["ok", "refused", "degraded"], None) == "unclear"
    assert classify("Some reply", True, unclear, []) == "error"
