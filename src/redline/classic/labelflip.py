"""Label-flip sensitivity: how a model retrained on training labels partly flipped decides.

The user names a retrain callable, `module:function`, taking `(rows, labels)` (feature
dicts and their class names) and returning a fitted model with `predict_proba` (its
columns in `classes_` order, or in sorted label order when it has no `classes_`) or a
callable (one row in, class probabilities out). For each rate r a share r of the training
rows is relabelled: `uniform` picks rows of any class and gives each another class;
`targeted` picks rows not of the target class and gives them that class. Which rows are
flipped comes from one seeded permutation (the run seed), so a rate's flipped rows include
every smaller rate's and a run with the same seed flips the same rows.

Everything here is local: the retrained models never go through a target (see
`LabelFlipScenario` for what the run's target answers and how replay stays deterministic).
`logistic_regression` is the bundled retrain: the demo classifier's training (standardised
numbers, one-hot categories, logistic regression) as a function.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from redline.classic.data import Dataset
from redline.classic.estimator import Classifier, EncodedModel, Encoder
from redline.core.errors import UsageError

Retrain = Callable[[list[dict[str, Any]], list[str]], Any]


def flipped_labels(labels: Sequence[str], classes: Sequence[str], rate: float, seed: int,
                   toward: str | None = None) -> tuple[list[str], list[int]]:
    """The labels with round(rate * n) of them flipped, and the flipped rows' indices.
    `toward`: only rows of another class are flipped, to that class (fewer when there are
    not enough of them)."""
    rng = random.Random(f"label-flip/{seed}")
    order = list(range(len(labels)))
    rng.shuffle(order)
    if toward is not None:
        order = [i for i in order if labels[i] != toward]
    chosen = sorted(order[:round(rate * len(labels))])
    out = list(labels)
    for i in chosen:
        others = [c for c in classes if c != labels[i]]
        # each row's new class is its own draw, so it does not depend on the rate
        out[i] = toward if toward is not None else random.Random(
            f"label-flip/{seed}/{i}").choice(others)
    return out, chosen


def resolve(ref: str) -> Retrain:
    """The retrain callable `module:function` names; a UsageError says why not."""
    from redline.plugins.targets.python_callable import import_object

    fn = import_object(ref, "retrain must be 'module:function'")
    if not callable(fn) or isinstance(fn, type):
        raise UsageError(f"retrain {ref!r} is not a function")
    return fn  # type: ignore[no-any-return]


def retrained(ref: str, rows: list[dict[str, Any]], labels: list[str], classes: Sequence[str]
              ) -> Classifier:
    """The model `ref` fits on these rows and labels, as a Classifier; a UsageError when
    the retrain raises or hands back something that is not a model."""
    fn = resolve(ref)
    try:
        model = fn([dict(r) for r in rows], list(labels))
    except Exception as exc:  # the user's code failing is a usage problem, never a pass
        raise UsageError(f"retrain {ref!r} raised {type(exc).__name__}: {exc}") from None
    if isinstance(model, type) or not (hasattr(model, "predict_proba") or callable(model)):
        raise UsageError(f"retrain {ref!r} returned {type(model).__name__}: expected a "
                         "fitted model with predict_proba, or a callable")
    known = getattr(model, "classes_", None)
    names = tuple(str(c) for c in known) if known is not None else tuple(sorted(set(classes)))
    return Classifier(model, names, None, {"retrain": ref})


def decisions(model: Classifier, rows: Sequence[Mapping[str, Any]], ref: str
              ) -> list[str]:
    """The model's decision (most probable class) on each row; a UsageError when its
    output is not class probabilities."""
    from redline.classic.estimator import probabilities_of

    try:
        probs = model.predict(list(rows))
        if len(probs) != len(rows):
            raise ValueError(f"{len(probs)} predictions for {len(rows)} rows")
        checked = [probabilities_of(p) for p in probs]
    except Exception as exc:
        raise UsageError(f"the model retrain {ref!r} returned cannot predict the evaluation "
                         f"rows: {type(exc).__name__}: {exc}") from None
    return [max(p, key=lambda c: p[c]) for p in checked]


def _columns(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Numeric columns (every value a number) and the others' levels, in first-row order."""
    names = list(rows[0])
    numeric = tuple(n for n in names if all(
        isinstance(r[n], int | float) and not isinstance(r[n], bool) for r in rows))
    levels = {n: tuple(sorted({r[n] for r in rows}, key=str)) for n in names if n not in numeric}
    return numeric, levels


def logistic_regression(rows: list[dict[str, Any]], labels: list[str]) -> EncodedModel:
    """The bundled retrain: the demo classifier's recipe (numbers standardised, categories
    one-hot, LogisticRegression C=1) fitted on these rows; deterministic."""
    from sklearn.linear_model import LogisticRegression

    if not rows:
        raise ValueError("no training rows")
    numeric, levels = _columns(rows)
    classes = tuple(sorted(set(labels)))
    data = Dataset("retrain", rows, labels, numeric, levels, classes)
    encoder = Encoder.fit(data)
    estimator = LogisticRegression(C=1.0, max_iter=2000)
    estimator.fit(encoder.transform(rows), labels)
    return _Fitted(encoder, estimator)


class _Fitted(EncodedModel):
    """An EncodedModel that says its classes (the estimator's, fitted on class names)."""

    @property
    def classes_(self) -> Any:
        return self.estimator.classes_
