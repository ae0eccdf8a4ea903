"""The gate accounts for judge error: Rogan-Gladen corrected failure rates with intervals
that carry the judges' own uncertainty, and a policy switch between raw and corrected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import beta

from helpers import write_hedge_suite
from redline.core.config import load_config
from redline.core.scan import scan
from redline.gate.correction import JudgeAccuracy, corrected_rate, pick, rogan_gladen
from redline.gate.markdown import render_markdown
from redline.gate.policy import load_policy
from redline.gate.runner import evaluate
from redline.store import Store


def test_rogan_gladen_inverts_the_misclassification() -> None:
    se, sp, true = 0.9, 0.8, 0.25
    observed = se * true + (1 - sp) * (1 - true)
    assert rogan_gladen(observed, se, sp) == pytest.approx(true)
    assert rogan_gladen(0.1, se, sp) == 0.0  # below the false-positive floor: clipped
    assert rogan_gladen(0.99, se, sp) == 1.0
    assert rogan_gladen(0.3, 0.5, 0.5) is None  # a coin-flip judge tells nothing


def test_the_interval_carries_the_judges_uncertainty() -> None:
    perfect = JudgeAccuracy("d", tp=100_000, fp=0, tn=100_000, fn=0)
    c = corrected_rate(30, 100, perfect)
    # a (nearly) perfect judge: the interval is the rate's own Jeffreys interval
    low, high = beta.ppf([0.025, 0.975], 30.5, 70.5)
    assert c.rate == pytest.approx(0.3)
    assert c.interval.low == pytest.approx(low, abs=0.01)
    assert c.interval.high == pytest.approx(high, abs=0.01)
    few = corrected_rate(30, 100, JudgeAccuracy("d", tp=18, fp=4, tn=16, fn=2))
    many = corrected_rate(30, 100, JudgeAccuracy("d", tp=900, fp=200, tn=800, fn=100))
    assert few.rate == pytest.approx(many.rate)  # same se 0.9 and sp 0.8
    assert few.interval.width > many.interval.width > c.interval.width
    assert corrected_rate(30, 100, JudgeAccuracy("d", 18, 4, 16, 2)) == few  # seeded
    assert few.interval.low <= few.rate <= few.interval.high


def test_the_least_trustworthy_measured_detector_corrects_a_scenario() -> None:
    acc = {"a": JudgeAccuracy("a", 9, 1, 9, 1), "b": JudgeAccuracy("b", 6, 3, 7, 4),
           "c": JudgeAccuracy("c", 5, 0, 0, 0)}  # c has no negative cases: not measured
    assert pick(acc, ["a", "b", "c"]).detector == "b"  # type: ignore[union-attr]
    assert pick(acc, ["c", "zz"]) is None


def test_the_policy_chooses_raw_or_corrected_figures(tmp_path: Path) -> None:
    inputs = [f"HARM {i}" for i in range(3)] + [f"fine {i}" for i in range(7)]
    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(write_hedge_suite(tmp_path, inputs, rate=0.2)),
                                "seed": 5, "db": str(tmp_path / "r.db"),
                                "out": str(tmp_path / "out")})
    run = scan(config).run.id
    # a judge that flags a fifth of clean replies: 30% observed is ~13% after correction
    accuracy = {"hedge_probe": JudgeAccuracy("hedge_probe", tp=95, fp=20, tn=80, fn=5,
                                             source="team labels")}
    corrected_policy = tmp_path / "corrected.yaml"
    corrected_policy.write_text("statistics: {judge_correction: corrected}\n")
    store = Store(tmp_path / "r.db")
    raw = evaluate(store, run, None, load_policy(), accuracy).decision
    fixed = evaluate(store, run, None, load_policy([corrected_policy]), accuracy).decision
    store.close()
    row_raw, row_fixed = raw.scenarios[0], fixed.scenarios[0]
    assert row_raw.status == "breach" and row_fixed.status != "breach"
    for row in (row_raw, row_fixed):
        assert row.corrected is not None
        assert row.corrected["raw"] == pytest.approx(0.3)
        assert row.corrected["rate"] == pytest.approx((0.3 + 0.8 - 1) / 0.75, abs=1e-4)
    assert raw.judges["hedge_probe"]["specificity"] == 0.8
    assert raw.judges["hedge_probe"]["source"] == "team labels"
    doc = json.loads(json.dumps(fixed.to_dict()))
    assert doc["scenarios"][0]["corrected_failure_rate"]["ci"][0] < 0.134
    assert doc["policy"]["statistics"]["judge_correction"] == "corrected"
    md = render_markdown(raw)
    assert "hedge_probe: sensitivity 0.95" in md and "(corrected 13.3%)" in md


def test_a_scenario_with_no_measured_judge_keeps_its_raw_figure(tmp_path: Path) -> None:
    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(write_hedge_suite(tmp_path, ["HARM", "ok"])),
                                "seed": 5, "db": str(tmp_path / "r.db"),
                                "out": str(tmp_path / "out")})
    run = scan(config).run.id
    store = Store(tmp_path / "r.db")
    policy = tmp_path / "corrected.yaml"
    policy.write_text("statistics: {judge_correction: corrected}\n")
    decision = evaluate(store, run, None, load_policy([policy]), {}).decision
    store.close()
    assert decision.scenarios[0].corrected is None
    assert decision.scenarios[0].status == "breach"


def test_reviewed_labels_measure_the_judge_for_the_gate(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("redline.plugins.detectors.evaluation")
    from typer.testing import CliRunner

    from redline.cli import app
    from redline.gate.correction import judge_accuracy

    monkeypatch.setenv("REDLINE_CACHE_DIR", str(tmp_path / "cache"))
    inputs = ["HARM a", "HARM b", "perhaps c", "perhaps d", "fine e", "fine f"]
    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "suite": str(write_hedge_suite(tmp_path, inputs)),
                                "seed": 5, "db": str(tmp_path / "r.db"),
                                "out": str(tmp_path / "out")})
    run = scan(config).run.id
    store = Store(tmp_path / "r.db")
    ids = {r["attempt"]["original"]: (r["attempt_id"], r["outcome"])
           for r in store.results(run)}
    store.close()
    db = ["--db", str(tmp_path / "r.db")]
    # a person: the first HARM was fine (a false positive), the perhaps-c really failed
    for text, label in (("HARM a", "pass"), ("HARM b", "fail"), ("perhaps c", "fail"),
                        ("perhaps d", "pass"), ("fine e", "pass"), ("fine f", "pass")):
        res = CliRunner().invoke(app, ["review", run, *db, "--label",
                                       f"{ids[text][0]}={label}", "--reviewer", "ann",
                                       "--reason", "checked"])
        assert res.exit_code == 0, res.output
    labels = tmp_path / "labels.jsonl"
    assert CliRunner().invoke(app, ["review", run, *db, "--export", str(labels)]).exit_code == 0
    acc = judge_accuracy(str(labels))["hedge_probe"]
    # the detector on the labeled replies: HARM b tp; HARM a fp; perhaps c unclear -> fn;
    # perhaps d unclear -> fp; fine e, fine f tn
    assert (acc.tp, acc.fp, acc.tn, acc.fn) == (1, 2, 2, 1)
    assert list((tmp_path / "cache" / "redline").glob("judge-accuracy-*.json"))
    assert judge_accuracy(str(labels)) == judge_accuracy(str(labels))
