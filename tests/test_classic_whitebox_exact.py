"""FGSM and PGD against the closed form: on the bundled demo (binary logistic regression) the
sign-of-gradient step is the worst L-inf perturbation there is (PGD's projected steps reach
it too), so a row flips within budget
b exactly when its distance to the hyperplane in L-inf (|logit| / ||v||_1, v the numeric
weights times scale / training std) is at most b; the white-box check's per-row margins and
robust accuracy must say exactly that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("art")
pytest.importorskip("sklearn")

from redline.catalog import load_scenarios
from redline.classic.estimator import demo_classifier
from redline.store import Store
from test_classic_checks import HEADER, run

pytestmark = pytest.mark.slow  # ART's first import takes seconds

BUDGETS = [0.05, 0.1, 0.25, 0.5, 1.0]


def exact_linf(row: dict[str, float], scales: dict[str, float]) -> float:
    model = demo_classifier()
    enc, est = model.model.encoder, model.model.estimator
    weights = dict(zip(enc.numeric, est.coef_.ravel()[:len(enc.numeric)], strict=False))
    stds = dict(zip(enc.numeric, enc.stds, strict=True))
    dual = sum(abs(weights[f] * scales[f] / stds[f]) for f in scales)
    return abs(float(est.decision_function(enc.transform([row]))[0])) / dual


@pytest.mark.parametrize("method", ["fgsm", "pgd"])
def test_whitebox_margins_on_the_linear_demo_are_its_exact_linf_distances(
        tmp_path: Path, method: str) -> None:
    suite = tmp_path / "checks"
    suite.mkdir()
    (suite / "check.yaml").write_text(
        HEADER.format(id=f"w-{method}", kind="evasion", category="evasion")
        + f"method: {method}\nbudgets: {BUDGETS}\njudged_at: 0.25\ndataset: {{rows: 60}}\n")
    result = run(tmp_path, suite)
    (scenario,) = load_scenarios([suite / "check.yaml"])
    data = scenario.data(0)
    scales = {f: s for f, s in data.scales().items() if f not in data.sensitive}
    store = Store(tmp_path / "r.db")
    try:
        stored = [json.loads(v)[0]["evidence"]
                  for _, v in store.scenario_verdicts(result.run.id, f"w-{method}")]
    finally:
        store.close()
    assert len(stored) == 60
    want_margins = []
    for (row, label), ev in zip(scenario.rows(0), stored, strict=True):
        if ev["clean"] != label:
            want_margins.append(0.0)
            continue
        exact = exact_linf(row, scales)
        first = next((b for b in BUDGETS if b >= exact * (1 + 1e-6)), None)
        if first is not None and abs(first - exact) < 1e-6 * first:
            want_margins.append(ev["margin"])  # on a budget's edge: rounding may go either way
            continue
        want_margins.append(first)
        assert ev["margin"] == first, (row, exact)
    robust = result.run.summary["metrics"][f"w-{method}"]["robust_accuracy"]
    for b in BUDGETS:
        assert robust[f"{b:g}"]["k"] == sum(1 for m in want_margins if m is None or m > b)
