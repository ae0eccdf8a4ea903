"""The boundary search's margins are true distances: on the bundled demo (logistic
regression, so each row's smallest L2 evasion is its distance to the hyperplane, in closed
form), every stored margin is the size of its stored adversarial example and never below
that exact minimum, and the search's robust accuracy bounds the exact one from above."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from redline.catalog import load_scenarios
from redline.classic.estimator import demo_classifier
from redline.core.config import load_config
from redline.core.scan import scan
from redline.store import Store
from test_classic_checks import write_checks


def exact_margin(row: dict[str, float], scales: dict[str, float]) -> float:
    """|logit| / ||v||, v = the numeric weights times scale / training std."""
    model = demo_classifier()
    enc, est = model.model.encoder, model.model.estimator
    weights = dict(zip(enc.numeric, est.coef_.ravel()[:len(enc.numeric)], strict=False))
    stds = dict(zip(enc.numeric, enc.stds, strict=True))
    v = [weights[f] * scales[f] / stds[f] for f in scales]
    logit = float(est.decision_function(enc.transform([row]))[0])
    return abs(logit) / math.sqrt(sum(x * x for x in v))


def test_boundary_margins_are_real_sizes_never_below_the_exact_distance(tmp_path: Path
                                                                        ) -> None:
    suite = write_checks(tmp_path, ["boundary"])
    result = scan(load_config(None, {"target": "demo-classifier", "suite": str(suite),
                                     "db": str(tmp_path / "r.db"),
                                     "out": str(tmp_path / "out")}))
    (scenario,) = load_scenarios([suite / "boundary.yaml"])
    data = scenario.data(0)
    scales = {f: s for f, s in data.scales().items() if f not in data.sensitive}
    rows = scenario.rows(0)
    store = Store(tmp_path / "r.db")
    try:
        stored = list(store.scenario_verdicts(result.run.id, "t-boundary"))
    finally:
        store.close()
    assert len(stored) == len(rows)
    checked, exact_robust = 0, 0
    for (row, _), (_, verdicts) in zip(rows, stored, strict=True):
        ev = json.loads(verdicts)[0]["evidence"]
        exact = exact_margin(row, scales) if ev["clean"] == ev["label"] else 0.0
        exact_robust += exact > 1.0
        if not ev.get("margin"):
            continue
        moved = math.sqrt(sum(((ev["adversarial"][f] - row[f]) / s) ** 2
                              for f, s in scales.items()))
        assert ev["margin"] == pytest.approx(moved, abs=1e-6)  # its size (stored to 1e-6)
        assert ev["margin"] >= exact - 1e-6  # no search beats the true minimum
        checked += 1
    assert checked >= 5
    robust = result.run.summary["metrics"]["t-boundary"]["robust_accuracy"]["1"]
    assert robust["k"] >= exact_robust  # the search can only overstate robustness
