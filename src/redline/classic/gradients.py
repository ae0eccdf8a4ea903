"""Loss gradients of a classifier, for white-box evasion (`evasion-gradient`).

A gradient is asked of the target like any query: a request payload with
`"gradient": {"label": CLASS}` beside its features gets, in the reply, `"gradient":
{FEATURE: dL/dx}` for the numeric features (cross-entropy loss at that class). So a
white-box attack's every step is recorded and replayed like a black-box one, and an HTTP
model that returns gradients in that shape could take part.

In process, gradients come from IBM ART's scikit-learn wrappers (the `art` extra), through
`Classifier.loss_gradient`: a model with a `loss_gradient(row, class_index)` method of its own
(the bundled demo: an encoder and a logistic regression; the encoder's standardisation is
undone by the chain rule, one-hot columns are not differentiable and get none) or an
estimator fed plain numeric arrays that ART can differentiate (logistic regression, SVMs,
...). Anything else exposes no gradients, which is that attempt's error, never a pass.
"""

from __future__ import annotations

import functools
from typing import Any

from redline.classic.errors import PredictError

NEEDS_ART = "white-box evasion needs ART: pip install 'redline[art]'"


def sklearn_loss_gradient(estimator: Any, x: Any, index: int) -> Any:
    """d(cross-entropy loss at class `index`)/dx for one row `x` (shape (1, F)) of a fitted
    scikit-learn estimator fed numeric arrays, through ART's wrapper; a PredictError when ART
    is missing or cannot differentiate the estimator."""
    return _wrapped(estimator).loss_gradient(x, _onehot(index, estimator))


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
