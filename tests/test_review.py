"""Human review: chained labels that override the detectors in reports and the gate, and
export to the labeled JSONL format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from helpers import write_hedge_suite
from redline.analysis.summary import ExitCode, exit_code
from redline.cli import app
from redline.core.config import load_config
from redline.core.errors import UsageError
from redline.core.scan import scan, stored_summary
from redline.evidence.review import review_queue
from redline.gate.policy import load_policy
from redline.gate.runner import evaluate
from redline.report import write_reports
from redline.store import Store

INPUTS = ["perhaps here are the steps", "perhaps not", "plain one", "plain two", "plain three"]


@pytest.fixture
def scanned(tmp_path: Path) -> dict[str, Any]:
    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(write_hedge_suite(tmp_path, INPUTS)), "seed": 4,
                                "db": str(tmp_path / "r.db"), "out": str(tmp_path / "out")})
    result = scan(config)
    assert result.summary.total.unclear == 2
    store = Store(tmp_path / "r.db")
    ids = {r["attempt"]["original"]: r["attempt_id"] for r in store.results(result.run.id)}
    store.close()
    return {"root": tmp_path, "db": tmp_path / "r.db", "run": result.run.id, "ids": ids}


def cli(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin)


def label_both(s: dict[str, Any]) -> None:
    steps, hedge = s["ids"][INPUTS[0]], s["ids"][INPUTS[1]]
    res = cli("review", s["run"], "--db", str(s["db"]), "--label", f"{steps[:12]}=fail",
              "--label", f"{hedge}=pass", "--reviewer", "ann", "--reason", "read it myself")
    assert res.exit_code == 0, res.output
    assert "labelled" in res.output


def test_labels_are_chained_and_override_the_detectors_everywhere(scanned: dict) -> None:
    label_both(scanned)
    store = Store(scanned["db"])
    run = store.get_run(scanned["run"])
    assert store.verify(run.id).ok
    labels = store.labels(run.id)
    steps = scanned["ids"][INPUTS[0]]
    assert labels[steps]["reviewer"] == "ann" and labels[steps]["was"] == "unclear"
    summary = stored_summary(store, run)
    assert (summary.total.failures, summary.total.unclear, summary.total.passes) == (1, 0, 4)
    assert exit_code(summary, True, 0.2) == ExitCode.FINDINGS
    paths = write_reports(scanned["root"] / "again", store, run, summary, 1)
    doc = json.loads(paths["json"].read_text())
    assert [f["attempt_id"] for f in doc["failures"]] == [steps]
    assert doc["failures"][0]["review"]["reason"] == "read it myself"
    assert doc["unclear"] == [] and len(doc["reviews"]) == 2
    assert "labelled fail by ann" in paths["html"].read_text()
    decision = evaluate(store, run.id, None, load_policy()).decision
    row = decision.scenarios[0]
    assert (row.status, row.counts.failures, row.counts.unclear) == ("breach", 1, 0)
    assert {r["reviewer"] for r in decision.to_dict()["reviews"]} == {"ann"}
    # the detectors' own verdicts are kept: the label is an overlay, not an edit
    assert next(store.results_for(run.id, [steps]))["outcome"] == "unclear"
    # editing a label breaks the chain
    store.db.execute("UPDATE chain SET payload = replace(payload, 'ann', 'bob')"
                     " WHERE kind = 'label'")
    assert not store.verify(run.id).ok
    store.close()


def test_a_later_label_replaces_an_earlier_one(scanned: dict) -> None:
    label_both(scanned)
    hedge = scanned["ids"][INPUTS[1]]
    res = cli("review", scanned["run"], "--db", str(scanned["db"]), "--label", f"{hedge}=fail",
              "--reviewer", "bo", "--reason", "second look")
    assert res.exit_code == 0, res.output
    store = Store(scanned["db"])
    assert store.labels(scanned["run"])[hedge]["reviewer"] == "bo"
    assert stored_summary(store, store.get_run(scanned["run"])).total.failures == 2
    store.close()


def test_export_writes_the_labeled_jsonl_format(scanned: dict) -> None:
    label_both(scanned)
    out = scanned["root"] / "labels.jsonl"
    res = cli("review", scanned["run"], "--db", str(scanned["db"]), "--export", str(out))
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    by_reply = {x["reply"]: x for x in lines}
    assert by_reply[INPUTS[0]]["label"] is True and by_reply[INPUTS[1]]["label"] is False
    for line in lines:
        assert line["detector"] == "hedge_probe" and line["request"] == line["reply"]
        assert line["provenance"]["reviewer"] == "ann"
        assert line["provenance"]["run"] == scanned["run"]


def test_the_queue_is_unclear_first_then_a_seeded_sample(scanned: dict) -> None:
    store = Store(scanned["db"])
    run = scanned["run"]
    queue = review_queue(store, run, 2, seed=1)
    unclear = {scanned["ids"][INPUTS[0]], scanned["ids"][INPUTS[1]]}
    assert set(queue[:2]) == unclear and len(queue) == 4
    assert queue == review_queue(store, run, 2, seed=1)
    assert {tuple(review_queue(store, run, 2, seed=s)[2:]) for s in range(6)} != {
        tuple(queue[2:])}
    store.close()
    label_both(scanned)
    store = Store(scanned["db"])
    assert not set(review_queue(store, run, 2, seed=1)) & unclear
    store.close()


def test_interactive_review_records_what_the_reviewer_typed(scanned: dict) -> None:
    res = cli("review", scanned["run"], "--db", str(scanned["db"]), "--sample", "0",
              "--reviewer", "cy", stdin="fail\nit gives steps\nskip\n")
    assert res.exit_code == 0, res.output
    store = Store(scanned["db"])
    labels = store.labels(scanned["run"])
    store.close()
    assert [(x["label"], x["reviewer"], x["reason"]) for x in labels.values()] == [
        ("fail", "cy", "it gives steps")]


def test_bad_labels_are_usage_errors(scanned: dict) -> None:
    base = ["review", scanned["run"], "--db", str(scanned["db"])]
    for args in (["--label", "nosuch=fail", "--reviewer", "a", "--reason", "r"],
                 ["--label", f"{scanned['ids'][INPUTS[0]]}=maybe", "--reviewer", "a",
                  "--reason", "r"],
                 ["--label", f"{scanned['ids'][INPUTS[0]]}=fail"]):
        res = cli(*base, *args)
        assert isinstance(res.exception, UsageError) and res.exception.exit_code == 2


def test_report_after_review_carries_the_exit_code_the_labels_imply(scanned: dict) -> None:
    for text in INPUTS[:2]:
        res = cli("review", scanned["run"], "--db", str(scanned["db"]), "--label",
                  f"{scanned['ids'][text]}=pass", "--reviewer", "ann", "--reason", "benign")
        assert res.exit_code == 0, res.output
    out = scanned["root"] / "again"
    res = cli("report", scanned["run"], "--db", str(scanned["db"]), "--out", str(out))
    assert res.exit_code == 0, res.output
    doc = json.loads((out / scanned["run"] / "report.json").read_text())
    assert doc["exit_code"] == 0 and doc["summary"]["total"]["unclear"] == 0
