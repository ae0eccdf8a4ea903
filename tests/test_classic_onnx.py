"""ONNX classifier targets: real scikit-learn models converted with skl2onnx and run by
onnxruntime, checked against the models' own probabilities, then scanned; and .skops files,
with a file holding an untrusted type refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

from redline.classic.data import credit
from redline.core.errors import UsageError
from redline.core.models import TargetRequest
from redline.plugins.targets.spec import _validate_config, build_target, parse_spec


def target_for(spec: str, **extra: Any) -> Any:
    return build_target(_validate_config({**parse_spec(spec), **extra}))


async def ask(target: Any, payload: Any) -> Any:
    return await target.send(TargetRequest(attempt_id="t", payload=payload))


def _numeric_model(tmp_path: Path) -> tuple[Any, Any, Path]:
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    data = credit(400, seed=5)
    x = np.asarray([[r[n] for n in data.numeric] for r in data.rows], dtype=np.float32)
    model = LogisticRegression(max_iter=500).fit(x, data.labels)
    path = tmp_path / "numeric.onnx"
    path.write_bytes(to_onnx(model, x[:1]).SerializeToString())
    return data, model, path


async def test_an_onnx_model_gives_the_estimators_probabilities(tmp_path: Path) -> None:
    import numpy as np

    data, model, path = _numeric_model(tmp_path)
    target = target_for(f"classifier:{path}", features=list(data.numeric))
    about = target.describe()
    assert about["runtime"] == "onnxruntime" and about["classes"] == ["approve", "deny"]
    for row in data.rows[:20]:
        want = model.predict_proba(np.asarray([[row[n] for n in data.numeric]],
                                              dtype=np.float32))[0]
        resp = await ask(target, {"features": row})
        assert resp.ok, resp.error
        assert resp.payload["probabilities"] == pytest.approx(
            dict(zip(model.classes_, want, strict=True)), abs=1e-5)
    # the feature order is not in the file: without it each request is an error, not a guess
    blind = target_for(f"classifier:{path}")
    resp = await ask(blind, {"features": data.rows[0]})
    assert not resp.ok and "feature order is unknown" in resp.error


async def test_configured_classes_name_a_zipmaps_integer_labels_by_position(tmp_path: Path
                                                                            ) -> None:
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    data = credit(400, seed=5)
    x = np.asarray([[r[n] for n in data.numeric] for r in data.rows], dtype=np.float32)
    y = [data.classes.index(label) for label in data.labels]  # trained on 0/1, as the demo is
    model = LogisticRegression(max_iter=500).fit(x, y)
    path = tmp_path / "indexed.onnx"
    path.write_bytes(to_onnx(model, x[:1]).SerializeToString())
    target = target_for(f"classifier:{path}", features=list(data.numeric),
                        classes=list(data.classes))
    for i in range(5):
        resp = await ask(target, {"features": data.rows[i]})
        assert resp.ok, resp.error
        assert resp.payload["probabilities"] == pytest.approx(
            dict(zip(data.classes, model.predict_proba(x[i:i + 1])[0], strict=True)), abs=1e-5)
    three = target_for(f"classifier:{path}", features=list(data.numeric),
                       classes=["a", "b", "c"])
    resp = await ask(three, {"features": data.rows[0]})
    assert not resp.ok and "2 class probabilities (0, 1) for 3 classes" in resp.error


async def test_an_onnx_pipeline_takes_named_mixed_features_one_input_each(tmp_path: Path
                                                                          ) -> None:
    import pandas as pd
    from skl2onnx import to_onnx
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = credit(400, seed=6)
    frame = pd.DataFrame(data.rows)
    frame[list(data.numeric)] = frame[list(data.numeric)].astype("float32")
    prep = ColumnTransformer([("num", StandardScaler(), list(data.numeric)),
                              ("cat", OneHotEncoder(), list(data.categories))])
    model = make_pipeline(prep, LogisticRegression(max_iter=500)).fit(frame, data.labels)
    path = tmp_path / "pipeline.onnx"
    path.write_bytes(to_onnx(model, frame[:1]).SerializeToString())
    target = target_for(f"classifier:{path}")
    want = model.predict_proba(frame.iloc[:5])
    for i in range(5):
        resp = await ask(target, {"features": data.rows[i]})
        assert resp.ok, resp.error
        assert resp.payload["probabilities"] == pytest.approx(
            dict(zip(model.classes_, want[i], strict=True)), abs=1e-5)
    unknown = await ask(target, {"features": {**data.rows[0], "income_k": "lots"}})
    assert not unknown.ok and "income_k" not in (unknown.payload or {})
    missing = await ask(target, {"features": {"income_k": 1.0}})
    assert not missing.ok and "missing feature" in missing.error


async def test_an_onnx_text_model_takes_text(tmp_path: Path) -> None:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["great product works well", "terrible broke at once", "love it", "awful junk",
             "works great", "broke awful"]
    # lowercase=False: skl2onnx's lower-casing needs a locale this machine may lack
    model = make_pipeline(TfidfVectorizer(lowercase=False), LogisticRegression()).fit(
        texts, ["pos", "neg", "pos", "neg", "pos", "neg"])
    onx = to_onnx(model, initial_types=[("text", StringTensorType([None, 1]))])
    (tmp_path / "sentiment.onnx").write_bytes(onx.SerializeToString())
    target = target_for(f"classifier:{tmp_path / 'sentiment.onnx'}")
    resp = await ask(target, {"text": "great works"})
    assert resp.ok and resp.payload["label"] == "pos"
    wrong = await ask(target, {"features": {"a": 1}})
    assert not wrong.ok and "text model" in wrong.error


def test_a_file_that_is_not_onnx_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(UsageError, match=r"junk\.onnx: not a loadable ONNX model"):
        target_for(f"classifier:{tmp_path / 'junk.onnx'}")


def test_a_skops_file_loads_and_an_untrusted_type_is_refused(tmp_path: Path,
                                                             monkeypatch: Any) -> None:
    sio = pytest.importorskip("skops.io")
    from sklearn.linear_model import LogisticRegression

    data = credit(300, seed=2)
    x = [[r[n] for n in data.numeric] for r in data.rows]
    model = LogisticRegression(max_iter=500).fit(x, data.labels)
    sio.dump(model, tmp_path / "credit.skops")
    target = target_for(f"classifier:{tmp_path / 'credit.skops'}", features=list(data.numeric))
    assert target.describe()["classes"] == ["approve", "deny"]
    (tmp_path / "odd_types.py").write_text("class Hook:\n    def __init__(self):\n"
                                           "        self.armed = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import odd_types

    sio.dump({"model": model, "hook": odd_types.Hook()}, tmp_path / "odd.skops")
    with pytest.raises(UsageError, match=r"odd\.skops: holds types skops does not trust: "
                       r".*odd_types\.Hook"):
        target_for(f"classifier:{tmp_path / 'odd.skops'}")


def test_a_scan_of_the_onnx_model_gives_the_joblib_models_metrics(tmp_path: Path) -> None:
    import joblib

    from redline.core.config import load_config
    from redline.core.scan import scan
    from test_classic_checks import write_checks

    data, model, _ = _numeric_model(tmp_path)
    joblib.dump(model, tmp_path / "numeric.joblib")
    suite = write_checks(tmp_path, ["noise", "calib"])
    metrics = {}
    for name in ("numeric.onnx", "numeric.joblib"):
        config = tmp_path / f"{name}.json"
        config.write_text(json.dumps({
            "target": {"kind": "classifier", "model": str(tmp_path / name),
                       "features": list(data.numeric)},
            "suite": str(suite), "db": str(tmp_path / f"{name}.db"),
            "out": str(tmp_path / f"out-{name}")}))
        result = scan(load_config(config, {}))
        assert result.summary.total.errors == 0 and result.summary.total.passes > 0
        metrics[name] = result.run.summary["metrics"]
    onnx_noise, sk_noise = metrics["numeric.onnx"]["t-noise"], metrics["numeric.joblib"]["t-noise"]
    assert onnx_noise["robust_accuracy"] == sk_noise["robust_accuracy"]
    assert metrics["numeric.onnx"]["t-calib"]["ece"]["value"] == pytest.approx(
        metrics["numeric.joblib"]["t-calib"]["ece"]["value"], abs=1e-4)
