"""A classifier behind one call: rows (feature dicts) or texts in, class probabilities out.

`load_model(ref)` reads a scikit-learn-compatible estimator (anything with `predict_proba`)
or a plain callable from `module:attribute`, or an estimator from a joblib/pickle file
(`.joblib`, `.pkl`), a skops file (`.skops`, needs the optional `skops` package; only
types skops trusts by default are loaded) or an ONNX file (`.onnx`, run by onnxruntime,
the optional `onnx` extra; `redline.classic.onnx_model`). The demo model is a logistic
regression trained, deterministically, on the generated credit set at first use.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.classic.data import Dataset, credit
from redline.classic.errors import PredictError
from redline.core.errors import UsageError

MODEL_FILES = (".joblib", ".pkl", ".pickle", ".skops", ".onnx")


def probabilities_of(payload: Any, classes: Sequence[str] | None = None) -> dict[str, float]:
    """Class probabilities from a reply payload, in any of the shapes endpoints use:
    `{"probabilities": {CLASS: P}}`, `{"probabilities": [P, ...], "classes": [...]}`,
    `{CLASS: P, ...}`, `[P, ...]` or `{"value": [P, ...]}` (`classes` names list positions;
    default "0", "1", ...). A ValueError says what is wrong with anything else."""
    found = payload
    if isinstance(found, Mapping):
        names = found.get("classes", classes)
        for key in ("probabilities", "probs", "proba", "scores", "value"):
            if key in found:
                found = found[key]
                break
        else:
            names = classes
            if not all(isinstance(v, int | float) for v in found.values()):
                found = None  # neither a known key nor a class -> probability mapping
        classes = names
    if isinstance(found, Mapping):
        out = {str(k): _probability(v) for k, v in found.items()}
    elif isinstance(found, list | tuple):
        names = list(classes) if classes else [str(i) for i in range(len(found))]
        if len(names) != len(found):
            raise ValueError(f"{len(found)} probabilities for {len(names)} classes")
        out = {str(n): _probability(v) for n, v in zip(names, found, strict=True)}
    else:
        raise ValueError("no class probabilities in the reply (expected a 'probabilities' "
                         "mapping or list)")
    if len(out) < 2:
        raise ValueError("a classifier reply needs probabilities for two or more classes")
    if abs(sum(out.values()) - 1.0) > 0.02:
        raise ValueError(f"the class probabilities sum to {sum(out.values()):.3f}, not 1")
    return out


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a probability must be a number, got {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"a probability must be in [0, 1], got {value!r}")
    return float(value)


@dataclass
class Classifier:
    """One model behind `predict(inputs) -> [{CLASS: P}, ...]` for feature rows or texts."""

    model: Any
    classes: tuple[str, ...]
    features: tuple[str, ...] | None = None  # column order for a model fed plain arrays
    describe: dict[str, Any] = field(default_factory=dict)

    def predict(self, inputs: Sequence[Mapping[str, Any] | str]) -> list[dict[str, float]]:
        if hasattr(self.model, "predict_proba"):
            matrix = self.model.predict_proba(self._matrix(inputs))
            return [dict(zip(self.classes, map(float, row), strict=True)) for row in matrix]
        return [probabilities_of(self.model(x), self.classes or None) for x in inputs]

    def loss_gradient(self, row: Mapping[str, Any], label: str) -> dict[str, float]:
        """d(cross-entropy loss at `label`)/d(feature) for each numeric feature of `row`,
        through ART's scikit-learn wrappers (the `art` extra); a PredictError when the model
        exposes no gradients (a function, a tree, an ONNX or HTTP model)."""
        if label not in self.classes:
            raise PredictError(f"unknown class {label!r} (known: {', '.join(self.classes)})")
        index = self.classes.index(label)
        if hasattr(self.model, "loss_gradient"):  # a model that knows its own (EncodedModel)
            return self.model.loss_gradient(row, index)  # type: ignore[no-any-return]
        names = self.features
        if (not names or not hasattr(self.model, "predict_proba")
                or getattr(self.model, "takes_rows", False)):
            raise PredictError(f"this model ({type(self.model).__name__}) exposes no loss "
                               "gradients")
        import numpy as np

        from redline.classic.gradients import sklearn_loss_gradient

        x = np.asarray(self._matrix([row]), dtype=float)
        grad = sklearn_loss_gradient(self.model, x, index)
        return {f: float(grad[0, i]) for i, f in enumerate(names)}

    def _matrix(self, inputs: Sequence[Mapping[str, Any] | str]) -> Any:
        if all(isinstance(x, str) for x in inputs):
            return list(inputs)
        rows = [x for x in inputs if isinstance(x, Mapping)]
        if len(rows) != len(inputs):
            raise PredictError("mixed text and feature inputs in one batch")
        names = self.features or tuple(rows[0])
        missing = sorted({n for r in rows for n in names if n not in r})
        if missing:
            raise PredictError(f"missing feature(s) {', '.join(missing)}")
        if getattr(self.model, "takes_rows", False):  # an EncodedModel: rows as they are
            return rows
        if getattr(self.model, "feature_names_in_", None) is not None:
            import pandas as pd

            return pd.DataFrame([{n: r[n] for n in names} for r in rows], columns=list(names))
        import numpy as np

        try:
            return np.asarray([[float(r[n]) for n in names] for r in rows], dtype=float)
        except (TypeError, ValueError) as exc:
            raise PredictError(f"a feature is not a number: {exc}") from None


def load_model(ref: str, classes: Sequence[str] | None = None,
               features: Sequence[str] | None = None) -> Classifier:
    """A Classifier from `module:attribute` or a model file (see the module docstring)."""
    path = Path(ref)
    if path.suffix == ".onnx" and path.is_file():
        from redline.classic.onnx_model import load_onnx

        model = load_onnx(path, classes, features)
        about = {"file": str(path), "sha256": _sha256(path), "runtime": "onnxruntime"}
        classes, features = model.classes_, model.feature_names_in_
    elif path.suffix in MODEL_FILES:
        model, about = _from_file(path), {"file": str(path), "sha256": _sha256(path)}
    else:
        from redline.plugins.targets.python_callable import import_object

        model = import_object(ref, "a classifier model is 'module:attribute' or a model file")
        about = {"object": ref}
        if isinstance(model, type):
            raise UsageError(f"{ref!r} is a class; name a fitted estimator or a function")
    if not (hasattr(model, "predict_proba") or callable(model)):
        raise UsageError(f"{ref!r} has no predict_proba and is not callable")
    known = classes if classes else getattr(model, "classes_", None)
    names = tuple(str(c) for c in known) if known is not None else ()
    if hasattr(model, "predict_proba") and not names:
        raise UsageError(f"{ref!r}: the estimator has no classes_ (is it fitted?); "
                         "give the classes")
    cols = tuple(features) if features else _feature_names(model)
    about.update(type=type(model).__name__, classes=list(names))
    return Classifier(model, names, cols, about)


def _feature_names(model: Any) -> tuple[str, ...] | None:
    names = getattr(model, "feature_names_in_", None)
    return tuple(str(n) for n in names) if names is not None else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _from_file(path: Path) -> Any:
    if not path.is_file():
        raise UsageError(f"{path}: no such model file")
    if path.suffix == ".skops":
        try:
            import skops.io as sio
        except ImportError:
            raise UsageError(f"{path}: reading .skops files needs the skops package "
                             "(pip install skops)") from None
        untrusted = sio.get_untrusted_types(file=path)
        if untrusted:
            raise UsageError(f"{path}: holds types skops does not trust: "
                             f"{', '.join(untrusted)}; convert it or load it in Python")
        return sio.load(path)
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # a corrupt or foreign file: say which, not a traceback
        raise UsageError(f"{path}: cannot load the model: {type(exc).__name__}: {exc}") \
            from None


# --- the bundled demo ---------------------------------------------------------------------


@dataclass(frozen=True)
class Encoder:
    """Feature rows to a numeric matrix: numeric columns standardised, categories one-hot."""

    numeric: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    @classmethod
    def fit(cls, data: Dataset) -> Encoder:
        import numpy as np

        table = np.asarray([[float(r[n]) for n in data.numeric] for r in data.rows])
        return cls(data.numeric, dict(data.categories), tuple(table.mean(0).tolist()),
                   tuple((table.std(0) + 1e-12).tolist()))

    def transform(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        import numpy as np

        out = []
        for r in rows:
            try:
                values = [(float(r[n]) - m) / s
                          for n, m, s in zip(self.numeric, self.means, self.stds, strict=True)]
            except KeyError as exc:
                raise PredictError(f"missing feature {exc.args[0]!r}") from None
            except (TypeError, ValueError) as exc:
                raise PredictError(f"a numeric feature is not a number: {exc}") from None
            for name, levels in self.categories.items():
                if name not in r:
                    raise PredictError(f"missing feature {name!r}")
                if r[name] not in levels:
                    raise PredictError(f"feature {name!r}: unknown value {r[name]!r} "
                                       f"(known: {', '.join(levels)})")
                values.extend(1.0 if r[name] == level else 0.0 for level in levels)
            out.append(values)
        return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class EncodedModel:
    """An encoder and a fitted scikit-learn estimator: `predict_proba(rows)`."""

    encoder: Encoder
    estimator: Any
    takes_rows = True

    def predict_proba(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        return self.estimator.predict_proba(self.encoder.transform(rows))

    def loss_gradient(self, row: Mapping[str, Any], index: int) -> dict[str, float]:
        """The loss gradient for each numeric feature of `row`, in its own units (the chain
        rule through the standardisation); one-hot columns get none."""
        from redline.classic.gradients import sklearn_loss_gradient

        grad = sklearn_loss_gradient(self.estimator, self.encoder.transform([row]), index)
        return {f: float(grad[0, i]) / self.encoder.stds[i]
                for i, f in enumerate(self.encoder.numeric)}


DEMO_ROWS = 3000
DEMO_SEED = 20240611


@functools.lru_cache(maxsize=4)
def demo_classifier(rows: int = DEMO_ROWS, seed: int = DEMO_SEED) -> Classifier:
    """The bundled demo: logistic regression on the generated credit set (sensitive
    attribute included as a feature, so it learns the planted bias). Trained at first use,
    in well under a second, the same way every time."""
    from sklearn.linear_model import LogisticRegression

    data = credit(rows=rows, seed=seed)
    encoder = Encoder.fit(data)
    estimator = LogisticRegression(C=1.0, max_iter=2000)
    estimator.fit(encoder.transform(data.rows), [data.classes.index(y) for y in data.labels])
    weights = ",".join(f"{w:.6f}" for w in [*estimator.coef_.ravel(), *estimator.intercept_])
    about = {"dataset": data.describe, "estimator": "LogisticRegression",
             "weights_sha256": hashlib.sha256(weights.encode()).hexdigest()}
    return Classifier(EncodedModel(encoder, estimator), data.classes, data.features, about)


def callable_classifier(fn: Callable[[Any], Any], classes: Sequence[str] = ()) -> Classifier:
    """A plain function (features dict or text in, probabilities out) as a Classifier."""
    return Classifier(fn, tuple(classes), None, {"object": getattr(fn, "__qualname__", "?")})
