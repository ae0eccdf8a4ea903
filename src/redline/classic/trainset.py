"""Scenario kinds about a classifier's training set: `membership` (does the model give its
training rows away?) and `label_flip` (how much do flipped training labels move it?).

Both are `ClassifierScenario`s (`redline.classic.schema`): one attempt per row, run through
the one engine, store, audit chain, replay and reports, with run metrics from
`redline.classic.metrics`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, model_validator

from redline.catalog.schema import DetectorSpec
from redline.classic.schema import (
    ATLAS_POISON,
    ClassicTaxonomy,
    ClassifierScenario,
    DatasetSpec,
    _default_detector,
    _load,
)
from redline.core.errors import UsageError
from redline.core.registry import plugin


@plugin("scenario", "membership")
class MembershipScenario(ClassifierScenario):
    """Membership inference by loss threshold (Yeom et al. 2018): rows the model was trained
    on (`members`) against fresh rows of the same kind (`dataset`); the advantage is the
    best TPR - FPR of "member when the loss is at most t" over every t."""

    kind: Literal["membership"] = "membership"  # type: ignore[assignment]
    members: DatasetSpec = Field(
        default_factory=lambda: DatasetSpec(rows=3000, seed=20240611),
        description="the training rows (default: the demo-classifier's own training set)")
    per_side: int = Field(200, ge=10, le=50_000, description="rows taken from each side")
    resamples: int = Field(300, ge=50, le=10_000, description="bootstrap resamples")
    detectors: list[DetectorSpec] = _default_detector("classifier_label")  # type: ignore[assignment]

    def rows(self, run_seed: int) -> list[tuple[dict[str, Any], str]]:
        inside = _load(self.members.model_dump_json(), run_seed)
        outside = self.data(run_seed)
        take = self.per_side
        pairs = list(zip(inside.rows, inside.labels, strict=True))[:take]
        return pairs + list(zip(outside.rows, outside.labels, strict=True))[:take]

    def reference_extra(self, index: int) -> dict[str, Any]:
        return {"member": index < self.per_side}

    def metrics(self, verdicts: list[tuple[str, dict[str, Any]]], run_seed: int
                ) -> dict[str, Any]:
        from redline.classic.metrics import membership

        return membership(verdicts, self.resamples, seed=run_seed)


@functools.lru_cache(maxsize=8)
def _retrained_decisions(scenario_json: str, run_seed: int) -> dict[str, list[str]]:
    """Each eval row's decision by the clean retrain ("0") and by the retrain at each rate."""
    from redline.classic.labelflip import decisions, flipped_labels, retrained

    s = LabelFlipScenario.model_validate_json(scenario_json)
    train = _load(s.training.model_dump_json(), run_seed)
    rows = [row for row, _ in s.rows(run_seed)]
    toward = s.toward if s.flip == "targeted" else None
    if toward is not None and toward not in train.classes:
        raise UsageError(f"scenario {s.id}: toward {toward!r} is not a class of the training "
                         f"rows ({', '.join(train.classes)})")
    out: dict[str, list[str]] = {}
    for rate in (0.0, *s.rates):
        labels, _ = flipped_labels(train.labels, train.classes, rate, run_seed, toward)
        try:
            model = retrained(s.retrain, train.rows, labels, train.classes)
            out[f"{rate:g}"] = decisions(model, rows, s.retrain)
        except UsageError as exc:
            raise UsageError(f"scenario {s.id} (label_flip, flip rate {rate:g}): {exc}") \
                from None
    return out


@plugin("scenario", "label_flip")
class LabelFlipScenario(ClassifierScenario):
    """Label-flip sensitivity (data poisoning): the user's `retrain` callable is fitted on
    the `training` rows with a share of their labels flipped, at each of `rates`, and on
    the clean labels; each retrain decides the evaluation rows (`dataset`).

    The retrains are local (a model is the user's code, not a service): they are made once
    when the run is planned and each evaluation row's decisions (clean and per rate) are
    part of its attempt's reference and of its id. The attempt itself sends the row to the
    run's target, as the other kinds do, so the run records what the deployed model decides
    (`target_agreement`: how often it agrees with the clean retrain; with the bundled
    retrain and training set that is the demo classifier itself). A replay plans again
    from the stored scenario and seed (the same flipped rows, the same retrains when the
    callable is deterministic) and takes the target's replies from the recording; a retrain
    that now decides otherwise gives other attempt ids, which the recording does not hold:
    errors, never a silent pass. A row fails when the retrain at `judged_at` decides it
    otherwise than the clean retrain."""

    kind: Literal["label_flip"] = "label_flip"  # type: ignore[assignment]
    tags: ClassicTaxonomy = ClassicTaxonomy(atlas=[ATLAS_POISON])  # type: ignore[assignment]
    retrain: str = Field(description="'module:function': (rows, labels) -> a fitted model "
                         "with predict_proba, or a callable")
    training: DatasetSpec = Field(
        default_factory=lambda: DatasetSpec(rows=3000, seed=20240611),
        description="the training rows (default: the demo-classifier's own training set)")
    rates: list[float] = Field(default_factory=lambda: [0.05, 0.1, 0.2, 0.3], min_length=1,
                               description="shares of the training labels flipped")
    flip: Literal["uniform", "targeted"] = Field(
        "uniform", description="uniform: rows of any class get another class; targeted: "
        "rows of other classes get the class `toward`")
    toward: str | None = Field(None, description="targeted: the class labels are flipped to")
    judged_at: float | None = Field(None, description="the rate each row is judged at "
                                    "(default: the largest)")
    max_accuracy_drop: float = Field(0.05, ge=0, le=1, description="the largest accuracy "
                                     "drop at `judged_at` the check accepts")
    resamples: int = Field(300, ge=50, le=10_000, description="bootstrap resamples")
    detectors: list[DetectorSpec] = _default_detector("label_flip")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _checked(self) -> LabelFlipScenario:
        if any(not 0 < r < 1 for r in self.rates) or self.rates != sorted(set(self.rates)):
            raise ValueError("rates must be in (0, 1) and strictly ascending")
        if self.judged_at is not None and self.judged_at not in self.rates:
            raise ValueError(f"judged_at {self.judged_at} is not one of the rates")
        if (self.flip == "targeted") != (self.toward is not None):
            raise ValueError("a targeted flip names its class in 'toward' (and only it)")
        from redline.classic.labelflip import resolve

        try:
            resolve(self.retrain)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def judged_rate(self) -> float:
        return self.judged_at if self.judged_at is not None else self.rates[-1]

    def decisions(self, run_seed: int) -> dict[str, list[str]]:
        return _retrained_decisions(self.model_dump_json(), run_seed)

    def make_attempts(self, run_seed: int, seq: int) -> Iterator[Any]:
        from dataclasses import replace

        from redline.core.attempts import digest

        made = self.decisions(run_seed)
        for i, attempt in enumerate(super().make_attempts(run_seed, seq)):
            mine = {rate: d[i] for rate, d in made.items()}
            yield replace(attempt, id=digest(attempt.id, mine)[:24],
                          reference={**(attempt.reference or {}), "retrained": mine,
                                     "judged_rate": self.judged_rate})

    def metrics(self, verdicts: list[tuple[str, dict[str, Any]]], run_seed: int
                ) -> dict[str, Any]:
        from redline.classic.metrics import label_flip

        return label_flip(verdicts, self.rates, self.judged_rate, self.max_accuracy_drop,
                          self.resamples, seed=run_seed) | {"flip": self.flip}
