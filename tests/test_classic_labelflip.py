"""Label-flip sensitivity through the one scan: a real retrain (logistic regression on the
generated credit set) whose accuracy drops as more training labels are flipped, seeded
flips, metrics gated by a policy, replay reproducing them, and a broken retrain callable
as a clear error (exit 2, no traceback), never a pass."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sklearn")

from redline.catalog import load_scenarios
from redline.classic.labelflip import flipped_labels
from redline.core.config import load_config
from redline.core.errors import InputFileError, UsageError
from redline.core.scan import scan
from redline.store import Store
from test_classic_checks import HEADER

BODY = """\
retrain: "{retrain}"
training: {{rows: 600, seed: 5}}
dataset: {{rows: 200}}
rates: [0.1, 0.2, 0.4]
flip: targeted
toward: approve
judged_at: 0.2
resamples: 100
"""


def write(root: Path, retrain: str = "redline.classic.labelflip:logistic_regression",
          extra: str = "") -> Path:
    suite = root / "flips"
    suite.mkdir(exist_ok=True)
    (suite / "flip.yaml").write_text(
        HEADER.format(id="t-flip", kind="label_flip", category="poisoning")
        + BODY.format(retrain=retrain) + extra)
    return suite


def run(tmp_path: Path, suite: Path, **extra: Any) -> Any:
    return scan(load_config(None, {"target": "demo-classifier", "suite": str(suite),
                                   "db": str(tmp_path / "r.db"),
                                   "out": str(tmp_path / "out"), **extra}))


@pytest.fixture(scope="module")
def flip_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    tmp = tmp_path_factory.mktemp("flip")
    return tmp, run(tmp, write(tmp))


def test_accuracy_drop_grows_with_the_flip_rate(flip_run: tuple[Path, Any]) -> None:
    _, result = flip_run
    m = result.run.summary["metrics"]["t-flip"]
    assert m["check"] == "label_flip" and m["rows"] == 200 and m["errors"] == 0
    drops = [m["per_rate"][r]["accuracy_drop"]["value"] for r in ("0.1", "0.2", "0.4")]
    changed = [m["per_rate"][r]["decision_change"]["value"] for r in ("0.1", "0.2", "0.4")]
    assert drops == sorted(drops) and drops[-1] > 0.1, drops
    assert changed == sorted(changed) and changed[-1] > changed[0], changed
    assert m["per_rate"]["0.4"]["accuracy_drop"]["low"] > 0  # the interval too
    assert m["clean_accuracy"]["value"] > 0.8
    # the demo target is the same recipe trained on other rows: it mostly agrees
    assert m["target_agreement"]["value"] > 0.85
    # each row is judged at 0.2: it fails when that retrain decided it otherwise
    fails = result.summary.scenarios["t-flip"].failures
    assert fails == m["per_rate"]["0.2"]["decision_change"]["k"]


def test_the_reports_show_each_rate(flip_run: tuple[Path, Any]) -> None:
    _, result = flip_run
    html = result.reports["html"].read_text(encoding="utf-8")
    doc = json.loads(result.reports["json"].read_text(encoding="utf-8"))
    assert doc["metrics"]["t-flip"] == result.run.summary["metrics"]["t-flip"]
    drop = result.run.summary["metrics"]["t-flip"]["per_rate"]["0.4"]["accuracy_drop"]
    assert "<th>flip rate</th>" in html and f"{drop['value']:.3f}" in html


def test_replay_gives_the_same_metrics(flip_run: tuple[Path, Any]) -> None:
    tmp, result = flip_run
    replayed = scan(load_config(None, {"db": str(tmp / "r.db"), "out": str(tmp / "out")}),
                    replay_of=result.run.id)
    assert replayed.run.summary["metrics"] == result.run.summary["metrics"]


def test_a_gate_rule_reads_the_drop_at_a_rate(flip_run: tuple[Path, Any]) -> None:
    from redline.gate.policy import load_policy
    from redline.gate.runner import evaluate

    tmp, result = flip_run
    m = result.run.summary["metrics"]["t-flip"]
    drop = m["per_rate"]["0.4"]["accuracy_drop"]["value"]
    policy = tmp / "p.yaml"
    store = Store(tmp / "r.db")
    try:
        decisions = []
        for bound in (drop + 0.01, drop - 0.01):
            policy.write_text("version: 1\nrules:\n  - match: {scenario: \"t-*\"}\n"
                              "    max_failure_rate: 1.0\nmetrics:\n"
                              "  - match: {category: poisoning}\n"
                              f"    metric: accuracy_drop@0.4\n    max: {bound:.4f}\n")
            decisions.append(evaluate(store, result.run.id, None, load_policy([policy]))
                             .decision)
    finally:
        store.close()
    assert decisions[0].verdict == "approve", [r.message for r in decisions[0].reasons]
    assert decisions[1].verdict == "block"
    assert any("accuracy_drop@0.4" in r.message for r in decisions[1].reasons)


def test_flips_are_seeded_nested_and_targeted() -> None:
    labels = ["deny", "approve"] * 50
    classes = ("deny", "approve")
    a, rows_a = flipped_labels(labels, classes, 0.2, seed=3)
    b, rows_b = flipped_labels(labels, classes, 0.2, seed=3)
    assert a == b and rows_a == rows_b and len(rows_a) == 20
    assert flipped_labels(labels, classes, 0.2, seed=4)[1] != rows_a
    assert set(flipped_labels(labels, classes, 0.1, seed=3)[1]) <= set(rows_a)
    assert all(a[i] != labels[i] for i in rows_a)
    assert sum(x != y for x, y in zip(a, labels, strict=True)) == 20
    t, rows_t = flipped_labels(labels, classes, 0.3, seed=3, toward="approve")
    assert len(rows_t) == 30 and all(labels[i] == "deny" and t[i] == "approve" for i in rows_t)
    assert len(flipped_labels(labels, classes, 0.9, seed=3, toward="approve")[1]) == 50


def test_the_same_seed_retrains_on_the_same_flips(tmp_path: Path) -> None:
    (scenario,) = load_scenarios([write(tmp_path) / "flip.yaml"])
    again = scenario.decisions(11)
    assert again == scenario.model_copy(update={"resamples": 101}).decisions(11)
    ids = [a.id for a in scenario.make_attempts(11, 0)]
    assert ids == [a.id for a in scenario.make_attempts(11, 0)]
    assert ids != [a.id for a in scenario.make_attempts(12, 0)]


BROKEN = """
def raises(rows, labels):
    raise RuntimeError("no GPU here")

def garbage(rows, labels):
    return 42

def nonsense_model(rows, labels):
    return lambda row: {"approve": 0.7, "deny": 0.7}

NOT_A_FUNCTION = 3
"""


@pytest.fixture
def broken(tmp_path: Path) -> Any:
    (tmp_path / "broken_retrain.py").write_text(textwrap.dedent(BROKEN))
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("broken_retrain", None)


@pytest.mark.parametrize(("name", "message"), [
    ("raises", "raised RuntimeError: no GPU here"),
    ("garbage", "returned int: expected a fitted model with predict_proba"),
    ("nonsense_model", "cannot predict the evaluation rows"),
])
def test_a_broken_retrain_is_a_clear_error_never_a_pass(broken: Path, name: str,
                                                        message: str) -> None:
    with pytest.raises(UsageError, match="t-flip") as info:
        run(broken, write(broken, f"broken_retrain:{name}"))
    assert message in str(info.value)
    assert not (broken / "out").exists() or not any((broken / "out").iterdir())


def test_the_cli_exits_2_without_a_traceback(broken: Path) -> None:
    suite = write(broken, "broken_retrain:raises")
    env_path = f"{broken}:{Path(__file__).parents[1] / 'src'}"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "scan", "--target", "demo-classifier", "--suite",
         str(suite), "--db", str(broken / "r.db"), "--out", str(broken / "o")],
        capture_output=True, text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin"},
        cwd=broken, timeout=120)
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "raised RuntimeError: no GPU here" in proc.stderr and "t-flip" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("retrain", "extra", "message"), [
    ("no_such_module_x:fit", "", "cannot import module 'no_such_module_x'"),
    ("redline.classic.labelflip:nope", "", "has no attribute 'nope'"),
    ("redline.classic.labelflip:logistic_regression", "judged_at: 0.3\n",
     "judged_at 0.3 is not one of the rates"),
])
def test_a_bad_scenario_file_is_a_located_error(tmp_path: Path, retrain: str, extra: str,
                                               message: str) -> None:
    path = write(tmp_path, retrain).joinpath("flip.yaml")
    text = path.read_text().replace("judged_at: 0.2\n", extra or "judged_at: 0.2\n")
    path.write_text(text)
    with pytest.raises(InputFileError, match=r"flip\.yaml") as info:
        load_scenarios([path])
    assert message in str(info.value)


def test_toward_must_be_a_class_of_the_training_rows(tmp_path: Path) -> None:
    path = write(tmp_path).joinpath("flip.yaml")
    path.write_text(path.read_text().replace("toward: approve", "toward: maybe"))
    (scenario,) = load_scenarios([path])
    with pytest.raises(UsageError, match="toward 'maybe' is not a class"):
        scenario.decisions(0)
