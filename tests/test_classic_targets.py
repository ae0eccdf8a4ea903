"""Classifier targets: real scikit-learn models from a module, a joblib file and a function,
an HTTP endpoint on loopback, and the bundled demo-classifier trained from generated data."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sklearn")

from redline.classic.data import credit, from_csv
from redline.classic.estimator import probabilities_of
from redline.core.errors import UsageError
from redline.core.models import TargetRequest
from redline.plugins.targets.spec import _validate_config, build_target, parse_spec
from test_payloads import json_server


def target_for(spec: str, **extra: Any) -> Any:
    return build_target(_validate_config({**parse_spec(spec), **extra}))


async def ask(target: Any, payload: Any) -> Any:
    return await target.send(TargetRequest(attempt_id="t", payload=payload))


def test_the_generated_credit_set_is_seeded_and_carries_the_planted_bias() -> None:
    one, again, other = credit(500, seed=3), credit(500, seed=3), credit(500, seed=4)
    assert one.rows == again.rows and one.labels == again.labels
    assert one.rows != other.rows
    big = credit(4000, seed=1)
    rate = {g: sum(y == "approve" for r, y in zip(big.rows, big.labels, strict=True)
                   if r["group"] == g) / sum(r["group"] == g for r in big.rows)
            for g in ("a", "b")}
    assert rate["a"] - rate["b"] > 0.1
    unbiased = credit(4000, seed=1, bias=0.0)
    assert sum(y == "approve" for y in unbiased.labels) > sum(y == "approve" for y in big.labels)


async def test_demo_classifier_is_trained_the_same_way_every_time_and_learns_the_bias() -> None:
    target = target_for("demo-classifier")
    assert target.describe()["weights_sha256"] == target_for("demo-classifier").describe()[
        "weights_sha256"]
    data = credit(600, seed=99)
    correct, approved = 0, {"a": [], "b": []}
    for row, label in zip(data.rows, data.labels, strict=True):
        resp = await ask(target, {"features": row, "perturbation": {"kind": "none"}})
        assert resp.ok and abs(sum(resp.payload["probabilities"].values()) - 1) < 1e-4
        correct += resp.payload["label"] == label
        approved[row["group"]].append(resp.payload["label"] == "approve")
    assert correct / len(data.rows) > 0.75
    share = {g: sum(v) / len(v) for g, v in approved.items()}
    assert share["a"] - share["b"] > 0.08
    flipped = await ask(target, {"features": {**data.rows[0], "group": "zz"}})
    assert not flipped.ok and "unknown value 'zz'" in flipped.error
    bare = await ask(target, None)
    assert not bare.ok and "needs a payload" in bare.error


def _fit_tabular() -> Any:
    from sklearn.linear_model import LogisticRegression

    data = credit(300, seed=2)
    x = [[r[n] for n in data.numeric] for r in data.rows]
    return LogisticRegression(max_iter=500).fit(x, data.labels), data


async def test_an_estimator_from_a_module_path(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "my_models.py").write_text(textwrap.dedent("""
        from sklearn.tree import DecisionTreeClassifier
        MODEL = DecisionTreeClassifier(max_depth=2, random_state=0).fit(
            [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], ["no", "yes", "no", "yes"])
        def scorer(features):
            p = min(1.0, max(0.0, features["x"]))
            return {"probabilities": [1 - p, p], "classes": ["low", "high"]}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_models", raising=False)
    tree = target_for("classifier:my_models:MODEL", features=["a", "b"])
    resp = await ask(tree, {"features": {"a": 1.0, "b": 0.0}})
    assert resp.payload == {"probabilities": {"no": 0.0, "yes": 1.0}, "label": "yes"}
    missing = await ask(tree, {"features": {"a": 1.0}})
    assert not missing.ok and "missing feature(s) b" in missing.error
    fn = target_for("classifier:my_models:scorer")
    out = await ask(fn, {"features": {"x": 0.75}})
    assert out.payload == {"probabilities": {"low": 0.25, "high": 0.75}, "label": "high"}
    with pytest.raises(UsageError, match="has no attribute"):
        target_for("classifier:my_models:NOPE")


async def test_a_pipeline_from_a_joblib_file_takes_named_mixed_features(tmp_path: Path) -> None:
    import joblib
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = credit(400, seed=5)
    frame = pd.DataFrame(data.rows)
    prep = ColumnTransformer([("num", StandardScaler(), list(data.numeric)),
                              ("cat", OneHotEncoder(), list(data.categories))])
    model = make_pipeline(prep, LogisticRegression(max_iter=500)).fit(frame, data.labels)
    path = tmp_path / "credit.joblib"
    joblib.dump(model, path)
    target = target_for(f"classifier:{path}")
    assert target.describe()["file"] == str(path) and len(target.describe()["sha256"]) == 64
    want = model.predict_proba(frame.iloc[:1])[0]
    resp = await ask(target, {"features": data.rows[0]})
    assert resp.payload["probabilities"] == pytest.approx(
        dict(zip(model.classes_, want, strict=True)), abs=1e-6)
    (tmp_path / "junk.joblib").write_bytes(b"not a model")
    with pytest.raises(UsageError, match=r"junk\.joblib: cannot load the model"):
        target_for(f"classifier:{tmp_path / 'junk.joblib'}")
    with pytest.raises(UsageError, match="no such model file"):
        target_for(f"classifier:{tmp_path / 'gone.joblib'}")


async def test_a_text_model_takes_text(tmp_path: Path) -> None:
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["great product, works well", "terrible, broke at once", "love it", "awful junk",
             "works great", "broke, awful"]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        texts, ["pos", "neg", "pos", "neg", "pos", "neg"])
    joblib.dump(model, tmp_path / "sentiment.pkl")
    target = target_for(f"classifier:{tmp_path / 'sentiment.pkl'}")
    resp = await ask(target, {"text": "great, works"})
    assert resp.payload["label"] == "pos"


def _score(body: dict[str, Any]) -> dict[str, Any]:
    """A scoring service: {"inputs": {...}} in, {"result": {"scores": [p0, p1]}} out."""
    p = min(1.0, body["inputs"]["debt_ratio"] * 2)
    return {"result": {"scores": [p, 1 - p]}}


async def test_an_http_endpoint_features_in_probabilities_out() -> None:
    with json_server(_score) as (url, seen):
        target = target_for(f"http:{url}/score", body={"inputs": "{{payload.features}}"},
                            payload_path="result.scores")
        resp = await ask(target, {"features": {"debt_ratio": 0.1}})
        await target.aclose()
    assert resp.ok and seen == [{"inputs": {"debt_ratio": 0.1}}]
    assert probabilities_of(resp.payload, ["deny", "approve"]) == pytest.approx(
        {"deny": 0.2, "approve": 0.8})


@pytest.mark.parametrize(("payload", "error"), [
    ({"probabilities": {"a": 1.0}}, "two or more classes"),
    ({"probabilities": [0.5, 0.7]}, "sum to 1.200"),
    ({"probabilities": ["a", "b"]}, "must be a number"),
    ({"label": "x"}, "no class probabilities"),
    ([0.2, 0.3, 0.5], "3 probabilities for 2 classes"),
])
def test_replies_that_are_not_probabilities_are_refused(payload: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        probabilities_of(payload, ["a", "b"])


def test_a_csv_dataset_reads_numbers_and_categories(tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    path.write_text("income,region,y\n10,n,ok\n20,s,bad\n15.5,n,ok\n")
    data = from_csv(path, label="y", sensitive=("region",))
    assert data.numeric == ("income",) and data.categories == {"region": ("n", "s")}
    assert data.rows[2] == {"income": 15.5, "region": "n"} and data.classes == ("bad", "ok")
    with pytest.raises(UsageError, match=r"loans\.csv:1: no column 'label'"):
        from_csv(path, label="label")


def test_without_the_classic_extra_the_demo_is_a_usage_error(monkeypatch: Any) -> None:
    from redline.classic.estimator import demo_classifier

    demo_classifier.cache_clear()
    for name in ("sklearn", "sklearn.linear_model"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(UsageError, match=r"needs sklearn: install the classic extra"):
        target_for("demo-classifier")
    monkeypatch.undo()
    demo_classifier.cache_clear()


def test_without_fairlearn_the_fairness_metrics_say_so_and_gate_rules_fail_closed(
        monkeypatch: Any) -> None:
    from redline.classic.schema import FairnessScenario

    check = FairnessScenario.model_validate({
        "id": "t-f", "version": 1, "kind": "fairness", "title": "A check", "objective": "x y",
        "category": "fairness", "severity": "high", "author": "t",
        "expected": "handle_gracefully", "remediation": "fix", "rollback": "keep",
        "dataset": {"rows": 20}})
    for name in ("fairlearn", "fairlearn.metrics"):
        monkeypatch.setitem(sys.modules, name, None)
    m = check.metrics([("pass", {"label": "approve", "predicted": "approve"})], 0)
    assert m["rows"] == 0 and "pip install 'redline[classic]'" in m["unavailable"]
    from redline.classic.metrics import gate_values

    assert gate_values(m) == {}  # nothing measured: a metric rule on it blocks
