"""Gate policies on classifier metrics: thresholds (ECE, parity difference, robust accuracy),
a metric that was not measured fails closed, and a candidate model compared with a
baseline model by a statistical test; real models, real store."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("fairlearn")

from redline.core.config import load_config
from redline.core.errors import InputFileError
from redline.core.scan import scan
from redline.gate.metrics import regression_test
from redline.gate.policy import load_policy
from redline.gate.runner import evaluate
from redline.store import Store
from test_classic_checks import write_checks

FAIR_MODULE = """
from redline.classic.data import credit
from sklearn.linear_model import LogisticRegression

_DATA = credit(1500, seed=11, bias=0.0)
NUMERIC = list(_DATA.numeric)
MODEL = LogisticRegression(max_iter=1000).fit(
    [[r[n] for n in NUMERIC] for r in _DATA.rows], _DATA.labels)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(store, run against the fair model, run against the biased demo), same checks."""
    tmp = tmp_path_factory.mktemp("gate")
    (tmp / "gate_fair_model.py").write_text(textwrap.dedent(FAIR_MODULE))
    sys.path.insert(0, str(tmp))
    try:
        import gate_fair_model

        suite = write_checks(tmp, ["fair", "calib", "noise"])
        common = {"suite": str(suite), "db": str(tmp / "r.db"), "out": str(tmp / "out")}
        config = tmp / "fair.yaml"
        config.write_text(json.dumps({"target": {
            "kind": "classifier", "model": "gate_fair_model:MODEL",
            "features": gate_fair_model.NUMERIC}, **common}))
        fair = scan(load_config(config, {})).run.id
        biased = scan(load_config(None, {"target": "demo-classifier", **common})).run.id
    finally:
        sys.path.remove(str(tmp))
        sys.modules.pop("gate_fair_model", None)
    return tmp / "r.db", fair, biased


def decide(db: Path, run: str, policy_text: str, tmp_path: Path,
           baseline: str | None = None) -> Any:
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text)
    store = Store(db)
    try:
        return evaluate(store, run, baseline, load_policy([path])).decision
    finally:
        store.close()


POLICY = """\
version: 1
rules:
  - match: {scenario: "t-*"}
    max_failure_rate: 1.0
metrics:
  - match: {category: calibration}
    metric: ece
    max: 0.5
  - match: {category: fairness}
    metric: demographic_parity_difference
    max: 0.1
  - match: {scenario: t-noise}
    metric: robust_accuracy@0.1
    min: 0.5
    on_breach: warn
"""


def test_thresholds_on_metrics_block_the_biased_model_and_approve_the_fair_one(
        runs: tuple[Path, str, str], tmp_path: Path) -> None:
    db, fair, biased = runs
    bad = decide(db, biased, POLICY, tmp_path)
    kinds = {(r.kind, r.subject) for r in bad.reasons}
    assert ("metric", "t-fair") in kinds and bad.verdict == "block"
    reason = next(r for r in bad.reasons if r.subject == "t-fair" and r.kind == "metric")
    assert "demographic_parity_difference" in reason.message and "> max 0.1" in reason.message
    assert reason.rule.endswith("policy.yaml:9")
    assert reason.evidence["low"] > 0.1  # the planted bias: the whole interval is over
    good = decide(db, fair, POLICY, tmp_path)
    assert good.verdict == "approve", [r.message for r in good.reasons]


def test_bound_mode_and_an_unmeasured_metric_fail_closed(runs: tuple[Path, str, str],
                                                         tmp_path: Path) -> None:
    db, fair, _ = runs
    strict = POLICY.replace("max: 0.1\n", "max: 0.1\n    at: bound\n").replace(
        "max: 0.5\n", "max: 0.5\n  - match: {category: fairness}\n    metric: ece\n"
        "    max: 0.1\n")
    d = decide(db, fair, strict, tmp_path)
    missing = [r for r in d.reasons if r.kind == "metric_missing"]
    assert missing and "t-fair: ece was not measured" in missing[0].message
    assert d.verdict == "block"


def test_a_candidate_worse_than_its_baseline_is_a_significant_regression(
        runs: tuple[Path, str, str], tmp_path: Path) -> None:
    db, fair, biased = runs
    policy = POLICY.replace("max: 0.1\n", "max: 1.0\n    max_regression: 0.02\n")
    worse = decide(db, biased, policy, tmp_path, baseline=fair)
    found = [r for r in worse.reasons if r.kind == "metric_regression"]
    assert len(found) == 1 and found[0].subject == "t-fair"
    assert found[0].evidence["p_value"] < 0.05 and found[0].evidence["worse_by"] > 0.1
    better = decide(db, fair, policy, tmp_path, baseline=biased)
    assert not [r for r in better.reasons if r.kind == "metric_regression"]


def test_the_regression_test_reads_direction_and_spread() -> None:
    base = {"value": 0.10, "low": 0.05, "high": 0.15, "better": "lower"}
    assert regression_test({**base, "value": 0.30, "low": 0.25, "high": 0.35}, base)[
        "p_value"] < 0.001
    assert regression_test({**base, "value": 0.12, "low": 0.02, "high": 0.22}, base)[
        "p_value"] > 0.3
    acc = {"value": 0.9, "low": 0.85, "high": 0.95, "better": "higher"}
    assert regression_test({**acc, "value": 0.7, "low": 0.65, "high": 0.75}, acc)[
        "worse_by"] == pytest.approx(0.2)


def test_a_metric_rule_without_a_bound_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nmetrics:\n  - match: {category: fairness}\n"
                    "    metric: ece\n")
    with pytest.raises(InputFileError, match=r"p\.yaml:3.*give max, min or max_regression"):
        load_policy([path])
