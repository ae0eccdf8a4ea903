"""Loss gradients of a classifier, for white-box evasion (`evasion-gradient`).

A gradient is asked of the target like any query: a request payload with
`"gradient": {"label": CLASS}` beside its features gets, in the reply, `"gradient":
{FEATURE: dL/dx}` for the numeric features (cross-entropy loss at that class). So a
white-box attack's every step is recorded and replayed like a black-box one, and an HTTP
model that returns gradients in that shape could take part.

In process, gradients come from IBM ART's scikit-learn wrappers (the `art` extra): the bundled
demo (an encoder and a logistic regression; the encoder's standardisation is undone by the
chain rule, one-hot columns are not differentiable and get none) or an estimator fed plain
numeric arrays that ART can differentiate (logistic regression, SVMs, ...). Anything else
exposes no gradients, which is that attempt's error, never a pass.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from redline.classic.errors import PredictError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from redline.classic.estimator import Classifier

NEEDS_ART = "white-box evasion needs ART: pip install 'redline[art]'"


def loss_gradient(classifier: Classifier, row: Mapping[str, Any], index: int
                  ) -> dict[str, float]:
    import numpy as np

    model = classifier.model
    if hasattr(model, "encoder") and hasattr(model, "estimator"):  # the demo's EncodedModel
        encoded = model.encoder.transform([row])
        grad = _wrapped(model.estimator).loss_gradient(encoded, _onehot(index, model.estimator))
        numeric = model.encoder.numeric
        return {f: float(grad[0, i]) / model.encoder.stds[i] for i, f in enumerate(numeric)}
    names = classifier.features
    if not names or not hasattr(model, "predict_proba") or getattr(model, "takes_rows", False):
        raise PredictError(f"this model ({type(model).__name__}) exposes no loss gradients")
    try:
        x = np.asarray([[float(row[f]) for f in names]], dtype=float)
    except KeyError as exc:
        raise PredictError(f"missing feature {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise PredictError(f"a feature is not a number: {exc}") from None
    grad = _wrapped(model).loss_gradient(x, _onehot(index, model))
    return {f: float(grad[0, i]) for i, f in enumerate(names)}


def _onehot(index: int, estimator: Any) -> Any:
    import numpy as np

    y = np.zeros((1, len(estimator.classes_)))
    y[0, index] = 1.0
    return y


@functools.lru_cache(maxsize=8)
def _wrapped(estimator: Any) -> Any:
    try:
        from art.estimators.classification.scikitlearn import SklearnClassifier
        from art.estimators.estimator import LossGradientsMixin
    except ImportError:
        raise PredictError(NEEDS_ART) from None
    try:
        wrapped = SklearnClassifier(estimator)
    except Exception as exc:  # ART refuses a model type it does not know
        raise PredictError(f"ART cannot wrap {type(estimator).__name__}: {exc}") from None
    if not isinstance(wrapped, LossGradientsMixin):
        raise PredictError(f"this model ({type(estimator).__name__}) exposes no loss gradients")
    return wrapped
