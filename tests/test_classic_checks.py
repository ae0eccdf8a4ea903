"""Classifier checks through the one scan: evasion, calibration and fairness scenarios
against real scikit-learn models (in process, and served on loopback HTTP), their metrics
in the chained finish record, report.json, the HTML and the terminal; replay reproduces
them; bad scenario files are located errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("fairlearn")

from redline.classic.estimator import demo_classifier
from redline.classic.metrics import calibration, fairness, robustness
from redline.core.config import load_config
from redline.core.scan import scan
from redline.store import Store
from test_payloads import json_server

HEADER = """\
id: {id}
version: 1
kind: {kind}
title: A check
objective: A check of the model.
category: {category}
severity: high
author: tests
expected: handle_gracefully
tags: {{atlas: [AML.T0015]}}
remediation: Fix the model.
rollback: Keep the old one.
"""

CHECKS = {
    "noise": ("evasion", "evasion", "method: noise\nbudgets: [0.1, 0.5, 2.0]\nsamples: 4\n"
              "dataset: {rows: 40}\n"),
    "boundary": ("evasion", "evasion", "method: boundary\nbudgets: [0.25, 1.0, 4.0]\n"
                 "iterations: 2\ndirections: 6\ndataset: {rows: 25}\n"),
    "categorical": ("evasion", "evasion", "method: categorical\nbudgets: [1, 2]\nsamples: 4\n"
                    "dataset: {rows: 40}\n"),
    "calib": ("calibration", "calibration", "dataset: {rows: 120}\nbins: 5\n"),
    "missing": ("calibration", "calibration", "slice: missing_feature\n"
                "dataset: {rows: 120}\nbins: 5\n"),
    "fair": ("fairness", "fairness", "dataset: {rows: 300}\nresamples: 100\n"
             "success: {max_failure_rate: 0.0}\n"),
}


def write_checks(root: Path, names: list[str]) -> Path:
    suite = root / "checks"
    suite.mkdir(exist_ok=True)
    for name in names:
        kind, category, body = CHECKS[name]
        (suite / f"{name}.yaml").write_text(
            HEADER.format(id=f"t-{name}", kind=kind, category=category) + body)
    return suite


def run(tmp_path: Path, suite: Path, target: str = "demo-classifier", **extra: Any) -> Any:
    cfg = load_config(None, {"target": target, "suite": str(suite),
                             "db": str(tmp_path / "r.db"), "out": str(tmp_path / "out"),
                             **extra})
    return scan(cfg)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("demo")
    result = run(tmp, write_checks(tmp, list(CHECKS)))
    return tmp, result


def test_the_planted_bias_is_found_with_an_interval_that_excludes_parity(demo_run: Any) -> None:
    _, result = demo_run
    m = result.run.summary["metrics"]["t-fair"]
    group = m["features"]["group"]
    dp = group["demographic_parity_difference"]
    assert dp["low"] > 0.05 and dp["low"] <= dp["value"] <= dp["high"]
    assert group["groups"]["a"]["selection_rate"] > group["groups"]["b"]["selection_rate"]
    assert not group["four_fifths"]["passes"]
    assert m["counterfactual_flip_rate"]["k"] > 0  # the model uses the attribute itself
    assert result.summary.status("t-fair") == "fail"


def test_robust_accuracy_falls_with_the_budget_and_margins_are_real_flips(demo_run: Any
                                                                          ) -> None:
    tmp, result = demo_run
    metrics = result.run.summary["metrics"]
    for name in ("t-noise", "t-boundary", "t-categorical"):
        values = [r["value"] for r in metrics[name]["robust_accuracy"].values()]
        assert values == sorted(values, reverse=True)
        assert values[0] <= metrics[name]["clean_accuracy"]["value"]
    assert metrics["t-boundary"]["margins"]["found"] > 0
    model = demo_classifier()
    store = Store(tmp / "r.db")
    try:
        checked = 0
        for outcome, verdicts in store.scenario_verdicts(result.run.id, "t-boundary"):
            ev = json.loads(verdicts)[0]["evidence"]
            if ev.get("adversarial") is None:
                continue
            (probs,) = model.predict([ev["adversarial"]])
            assert max(probs, key=probs.get) != ev["clean"]  # the stored example does flip
            assert (outcome == "fail") == (ev["margin"] <= ev["judged_budget"])
            checked += 1
    finally:
        store.close()
    assert checked > 0


def test_calibration_metrics_reports_and_replay(demo_run: Any) -> None:
    tmp, result = demo_run
    calib = result.run.summary["metrics"]["t-calib"]
    assert calib["rows"] == 120 and 0 <= calib["ece"]["low"] <= calib["ece"]["high"] <= 1
    assert sum(b["count"] for b in calib["reliability"]) == 120
    doc = json.loads(result.reports["json"].read_text())
    assert doc["metrics"] == result.run.summary["metrics"]
    html = result.reports["html"].read_text()
    assert 'aria-label="reliability diagram"' in html and "four-fifths rule" in html
    replayed = scan(load_config(None, {"db": str(tmp / "r.db"), "out": str(tmp / "out")}),
                    replay_of=result.run.id)
    assert replayed.run.summary["metrics"] == result.run.summary["metrics"]


def test_calibration_and_fairness_definitions_on_known_cases() -> None:
    # 10 rows at confidence 0.8, 8 right: calibrated as one bin; equal-count halves of
    # 5 and 3 right are 0.2 off each
    rows = [("pass" if i < 8 else "fail",
             {"label": "y" if i < 8 else "n", "probabilities": {"y": 0.8, "n": 0.2}})
            for i in range(10)]
    m = calibration(rows, n_bins=1, binning="adaptive", seed=1)
    assert m["ece"]["value"] == pytest.approx(0.0, abs=1e-9)
    halves = calibration(rows, n_bins=2, binning="adaptive", seed=1)
    assert halves["ece"]["value"] == pytest.approx(0.2)
    assert [b["count"] for b in halves["reliability"]] == [5, 5]
    assert m["brier"]["value"] == pytest.approx((8 * 0.08 + 2 * (0.64 + 0.64)) / 10)
    over = calibration([("pass", {"label": "y", "probabilities": {"y": 0.9, "n": 0.1}}),
                        ("fail", {"label": "n", "probabilities": {"y": 0.9, "n": 0.1}})],
                       n_bins=1, binning="uniform", seed=1)
    assert over["ece"]["value"] == pytest.approx(0.4) and over["mce"]["value"] == 0.4
    sel = [("pass", {"label": "ok", "predicted": p, "sensitive": {"g": g}, "flips": []})
           for g, p in [("a", "ok")] * 8 + [("a", "no")] * 2 + [("b", "ok")] * 4
           + [("b", "no")] * 6]
    f = fairness(sel, "ok", 0.8, 100, seed=3)["features"]["g"]
    assert f["demographic_parity_difference"]["value"] == pytest.approx(0.4)
    assert f["demographic_parity_ratio"]["value"] == pytest.approx(0.5)
    assert not f["four_fifths"]["passes"]
    r = robustness([("pass", {"margin": None}), ("fail", {"margin": 0.3}),
                    ("fail", {"margin": 0.0}), ("error", {})], [0.1, 0.5], "noise", 0.5)
    assert r["robust_accuracy"]["0.1"]["k"] == 2 and r["robust_accuracy"]["0.5"]["k"] == 1
    assert r["errors"] == 1 and r["clean_accuracy"]["k"] == 2


MODULE = """
from redline.classic.data import credit
from sklearn.linear_model import LogisticRegression

_DATA = credit(1500, seed=11, bias=0.0)
NUMERIC = list(_DATA.numeric)
FAIR = LogisticRegression(max_iter=1000).fit(
    [[r[n] for n in NUMERIC] for r in _DATA.rows], _DATA.labels)
"""


def test_a_model_blind_to_the_attribute_shows_no_counterfactual_flips(
        tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "fair_models.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fair_models", raising=False)
    import fair_models

    config = tmp_path / "fair.yaml"
    config.write_text(json.dumps({
        "target": {"kind": "classifier", "model": "fair_models:FAIR",
                   "features": fair_models.NUMERIC},
        "db": str(tmp_path / "r.db"), "out": str(tmp_path / "out")}))
    cfg = load_config(config, {})
    assert cfg.suite == "classic"  # a classifier target's own suite when none is named
    result = scan(load_config(config, {"suite": str(write_checks(tmp_path, ["fair"]))}))
    m = result.run.summary["metrics"]["t-fair"]
    assert m["counterfactual_flip_rate"]["k"] == 0
    assert result.summary.status("t-fair") == "pass"


def _score(body: dict[str, Any]) -> dict[str, Any]:
    model = demo_classifier()
    (probs,) = model.predict([body["inputs"]])
    return {"scores": [probs[c] for c in model.classes]}


def test_an_http_scoring_service_gets_the_same_metrics_as_the_model_in_process(
        tmp_path: Path, demo_run: Any) -> None:
    with json_server(_score) as (url, seen):
        config = tmp_path / "http.yaml"
        config.write_text(textwrap.dedent(f"""
            target:
              kind: http
              url: {url}/score
              body: {{inputs: "{{{{payload.features}}}}"}}
              payload_path: "{{probabilities: scores, classes: ['deny', 'approve']}}"
              concurrency: 4
            suite: {write_checks(tmp_path, ["calib"])}
            db: {tmp_path / "h.db"}
            out: {tmp_path / "out"}
        """))
        result = scan(load_config(config, {}))
    assert len(seen) == 120 and "label" not in json.dumps(seen[0])  # the truth is not sent
    _, local = demo_run
    want = local.run.summary["metrics"]["t-calib"]
    got = result.run.summary["metrics"]["t-calib"]
    assert got["ece"]["value"] == pytest.approx(want["ece"]["value"], abs=1e-5)
    assert got["accuracy"] == want["accuracy"]


@pytest.mark.parametrize(("body", "message"), [
    ("method: noise\nbudgets: [0.5, 0.1]\n", "strictly ascending"),
    ("method: noise\nbudgets: [0.1]\njudged_at: 0.3\n", "not one of the budgets"),
    ("method: warp\n", "method"),
    ("inputs: [hello]\n", "takes its rows from 'dataset'"),
])
def test_bad_check_files_are_located_errors(tmp_path: Path, body: str, message: str) -> None:
    from redline.catalog import load_scenarios
    from redline.core.errors import InputFileError

    path = tmp_path / "x.yaml"
    path.write_text(HEADER.format(id="t-bad", kind="evasion", category="evasion") + body)
    with pytest.raises(InputFileError, match=r"x\.yaml:\d+") as caught:
        load_scenarios([path])
    assert message in str(caught.value)


def test_a_bad_check_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    suite = tmp_path / "bad"
    suite.mkdir()
    (suite / "x.yaml").write_text(HEADER.format(id="t-bad", kind="evasion",
                                                category="evasion") + "budgets: [0.5, 0.1]\n")
    proc = subprocess.run([sys.executable, "-m", "redline", "scan", "-t", "demo-classifier",
                           "-s", str(suite), "--no-progress", "--db", str(tmp_path / "d.db")],
                          cwd=tmp_path, text=True, capture_output=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "x.yaml" in proc.stderr and "strictly ascending" in proc.stderr
    assert "Traceback" not in proc.stderr
