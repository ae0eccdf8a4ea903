"""White-box evasion through ART (FGSM, PGD) on the bundled demo classifier: its gradients
are right (against finite differences), every attack point is a recorded query inside its
budget, the attack is stronger than random noise at each budget, a replay with no model
gives the same verdicts, and a model that exposes no gradients makes errors, not passes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("art")
pytest.importorskip("sklearn")

from redline.classic.data import credit
from redline.classic.estimator import callable_classifier, demo_classifier
from redline.classic.schema import EvasionScenario
from redline.classic.target import ClassifierTarget
from redline.core.config import load_config
from redline.core.models import TargetRequest
from redline.core.scan import scan
from redline.store import Store
from test_classic_checks import HEADER, run

pytestmark = pytest.mark.slow  # ART's first import takes seconds

WHITEBOX = {
    "fgsm": "method: fgsm\nbudgets: [0.1, 0.25, 0.5, 1.0]\ndataset: {rows: 40}\n",
    "pgd": "method: pgd\nbudgets: [0.1, 0.25, 0.5, 1.0]\nsteps: 5\ndataset: {rows: 40}\n",
    "noise": "method: noise\nbudgets: [0.1, 0.25, 0.5, 1.0]\nsamples: 8\ndataset: {rows: 40}\n",
}


def _suite(root: Path, names: list[str]) -> Path:
    suite = root / "checks"
    suite.mkdir(exist_ok=True)
    for name in names:
        (suite / f"{name}.yaml").write_text(
            HEADER.format(id=f"w-{name}", kind="evasion", category="evasion") + WHITEBOX[name])
    return suite


def _loss(model: Any, row: dict[str, Any], label: str) -> float:
    (probs,) = model.predict([row])
    return -math.log(probs[label])


def test_the_demo_models_loss_gradient_matches_finite_differences() -> None:
    model = demo_classifier()
    for row in credit(5, seed=9).rows:
        grad = model.loss_gradient(row, "approve")
        assert set(grad) == set(credit(5).numeric)  # one-hot columns have none
        for feature, g in grad.items():
            h = 1e-4 * max(1.0, abs(float(row[feature])))
            up = _loss(model, {**row, feature: float(row[feature]) + h}, "approve")
            down = _loss(model, {**row, feature: float(row[feature]) - h}, "approve")
            assert g == pytest.approx((up - down) / (2 * h), rel=1e-3, abs=1e-6)


def test_a_plain_numeric_estimators_loss_gradient_matches_finite_differences() -> None:
    from sklearn.linear_model import LogisticRegression

    from redline.classic.estimator import Classifier

    data = credit(300, seed=4)
    names = list(data.numeric)
    fitted = LogisticRegression(max_iter=1000).fit([[r[n] for n in names] for r in data.rows],
                                                    data.labels)
    model = Classifier(fitted, tuple(fitted.classes_), tuple(names))
    for row in data.rows[:3]:
        grad = model.loss_gradient(row, "deny")
        assert set(grad) == set(names)
        for feature, g in grad.items():
            h = 1e-4 * max(1.0, abs(float(row[feature])))
            up = _loss(model, {**row, feature: float(row[feature]) + h}, "deny")
            down = _loss(model, {**row, feature: float(row[feature]) - h}, "deny")
            assert g == pytest.approx((up - down) / (2 * h), rel=1e-3, abs=1e-6)


@pytest.fixture(scope="module")
def whitebox_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("whitebox")
    return tmp, run(tmp, _suite(tmp, list(WHITEBOX)))


def test_gradient_attacks_beat_random_noise_within_their_budgets(whitebox_run: Any) -> None:
    tmp, result = whitebox_run
    metrics = result.run.summary["metrics"]
    for method in ("fgsm", "pgd"):
        m = metrics[f"w-{method}"]
        assert m["method"] == method and m["errors"] == 0
        for budget, acc in m["robust_accuracy"].items():
            assert acc["value"] <= metrics["w-noise"]["robust_accuracy"][budget]["value"]
        assert m["margins"]["found"] > metrics["w-noise"]["margins"]["found"]
    # every query of the attack is in the transcript and inside its budget (L-inf, in
    # standard deviations of each feature)
    scenario = EvasionScenario.model_validate(
        yaml.safe_load((tmp / "checks" / "pgd.yaml").read_text()))
    scales = scenario.strategy_choice()[1]["scales"]
    store = Store(tmp / "r.db")
    try:
        checked = 0
        for row in store.results(result.run.id):
            if row["scenario_id"] != "w-pgd":
                continue
            asked = [json.loads(m["content"]) for m in row["transcript"] if m["role"] == "user"]
            base = asked[0]["features"]
            for q in asked[1:]:
                size = q["perturbation"]["size"]
                for f, s in scales.items():
                    assert abs(q["features"][f] - base[f]) <= size * s * (1 + 1e-6) + 1e-9
                checked += 1
            assert any("gradient" in q for q in asked) or len(asked) == 1
    finally:
        store.close()
    assert checked > 40


def test_a_replay_gives_the_same_verdicts_with_no_model(whitebox_run: Any) -> None:
    tmp, result = whitebox_run
    replayed = scan(load_config(None, {"db": str(tmp / "r.db"), "out": str(tmp / "out2")}),
                    replay_of=result.run.id)
    assert replayed.run.summary["metrics"] == result.run.summary["metrics"]


async def test_a_model_without_gradients_is_an_error_never_a_pass(tmp_path: Path) -> None:
    demo = demo_classifier()

    def opaque(features: dict[str, Any]) -> dict[str, float]:
        (probs,) = demo.predict([features])
        return probs

    target = ClassifierTarget(callable_classifier(opaque, demo.classes), spec="opaque")
    row = credit(3, seed=1).rows[0]
    resp = await target.send(TargetRequest(attempt_id="t", payload={
        "features": row, "gradient": {"label": "approve"}}))
    assert not resp.ok and "exposes no loss gradients" in resp.error
