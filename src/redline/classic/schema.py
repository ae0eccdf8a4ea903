"""Scenario kinds for classifiers: `evasion`, `calibration` and `fairness` (the kinds about
the training set, `membership` and `label_flip`, are in `redline.classic.trainset`).

Each is a probe `Scenario` (so `redline scan` runs it through the one engine, store, audit
chain, replay and reports) that plans its own attempts from a dataset instead of prompts:
one attempt per row, the row's features as the request payload, its true label and
sensitive values as the attempt's reference (never sent). Each kind picks its strategy
(how the row is perturbed, or flipped) and its detector, and summarises its verdicts into
run metrics (`redline.classic.metrics`): robust accuracy per budget and per-input margins,
ECE/MCE/Brier with intervals and a reliability diagram, per-group rates with parity and
equalized-odds differences and ratios, the four-fifths rule and counterfactual flips.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from redline.catalog.schema import DetectorSpec, Scenario, Strict, Taxonomy
from redline.core.registry import plugin

ATLAS_EVADE = "AML.T0015"  # MITRE ATLAS: Evade ML Model
ATLAS_POISON = "AML.T0020"  # MITRE ATLAS: Poison Training Data


class ClassicTaxonomy(Taxonomy):
    """OWASP's LLM list rarely fits a classifier: ids optional, ATLAS ids as usual."""

    owasp: list[str] = Field(default_factory=list)


class CohortSpec(Strict):
    """A synthetic cohort: each row drawn into one of `values` from a fixed seed, as a
    sensitive feature the model never saw (a control: no real disparity is expected)."""

    name: str = Field("cohort", min_length=1)
    values: list[str] = Field(default_factory=lambda: ["x", "y"], min_length=2)
    seed: int = Field(0, ge=0)


class DatasetSpec(Strict):
    """Where a check's rows come from: the generated credit set, or a CSV file."""

    generator: Literal["credit", "reviews"] | None = Field(
        "credit", description="credit: tabular with a sensitive attribute; reviews: short "
        "texts labelled pos/neg")
    rows: int = Field(200, ge=10, le=100_000, description="rows generated (or the first "
                      "rows of the CSV)")
    seed: int | None = Field(None, ge=0, description="generator seed (default: from the "
                             "run seed)")
    bias: float = Field(1.2, ge=0, le=10, description="credit: planted bias (logits)")
    shift: float = Field(0.0, ge=0, le=5, description="credit: covariate shift")
    csv: str | None = Field(None, description="a CSV file (relative: to the working dir)")
    label: str | None = Field(None, description="CSV: the true-label column")
    text: str | None = Field(None, description="CSV: the column a text model reads")
    sensitive: list[str] = Field(default_factory=list, description="CSV: sensitive columns")
    categorical: list[str] = Field(default_factory=list,
                                   description="CSV: columns that are categories")
    favourable: str | None = Field(None, description="CSV: the favourable class")
    cohort: CohortSpec | None = Field(None, description="add a synthetic cohort column "
                                      "(seeded) as a sensitive feature")

    @model_validator(mode="after")
    def _csv_needs_label(self) -> DatasetSpec:
        if self.csv is not None and self.label is None:
            raise ValueError("a csv dataset needs its 'label' column")
        return self


@functools.lru_cache(maxsize=32)
def _load(spec_json: str, run_seed: int) -> Any:
    from redline.classic.data import with_cohort

    spec = DatasetSpec.model_validate_json(spec_json)
    data = _rows_of(spec, run_seed)
    if spec.cohort is not None:
        c = spec.cohort
        data = with_cohort(data, c.name, tuple(c.values), c.seed)
    return data


def _rows_of(spec: DatasetSpec, run_seed: int) -> Any:
    from redline.classic.data import credit, from_csv, reviews

    if spec.csv is not None:
        assert spec.label is not None
        data = from_csv(Path(spec.csv), spec.label, tuple(spec.sensitive),
                        tuple(spec.categorical), spec.favourable, spec.text)
        return data if len(data.rows) <= spec.rows else type(data)(
            **{**data.__dict__, "rows": data.rows[:spec.rows], "labels": data.labels[:spec.rows]})
    # a seed given is the generator's own (the demo model's training set is seed 20240611);
    # by default the rows are drawn from the run seed
    seed = spec.seed if spec.seed is not None else run_seed + 1_000_003
    if spec.generator == "reviews":
        return reviews(rows=spec.rows, seed=seed)
    return credit(rows=spec.rows, seed=seed, bias=spec.bias, shift=spec.shift)


class ClassifierScenario(Scenario):
    """What the classifier kinds share: a dataset, one attempt per row, run metrics."""

    tags: ClassicTaxonomy = ClassicTaxonomy(atlas=[ATLAS_EVADE])  # type: ignore[assignment]
    dataset: DatasetSpec = DatasetSpec()

    @model_validator(mode="after")
    def _one_source(self) -> ClassifierScenario:  # rows come from the dataset
        if self.inputs or self.generator is not None:
            raise ValueError(f"a {self.kind} scenario takes its rows from 'dataset', not "
                             "'inputs' or 'generator'")
        return self

    def data(self, run_seed: int) -> Any:
        return _load(self.dataset.model_dump_json(), run_seed)

    def rows(self, run_seed: int) -> list[tuple[dict[str, Any], str]]:
        """The (features, true label) pairs the attempts are made of."""
        data = self.data(run_seed)
        return list(zip(data.rows, data.labels, strict=True))

    def attempt_count(self, run_seed: int) -> int:
        return len(self.rows(run_seed))

    def chain_label(self) -> str:
        return self.kind

    def reference_extra(self, index: int) -> dict[str, Any]:
        """More of what the detectors compare with, for row `index` (a kind's own)."""
        return {}

    def make_attempts(self, run_seed: int, seq: int) -> Iterator[Any]:
        from redline.core.attempts import digest
        from redline.core.models import Attempt

        data = self.data(run_seed)
        label = (self.chain_label(),)
        for i, (row, truth) in enumerate(self.rows(run_seed)):
            # the row index too: a dataset may repeat a row
            attempt_id = digest(self.id, self.version, label, i, row, truth, run_seed)[:24]
            reference = {"label": truth, "row": i, "classes": list(data.classes),
                         "sensitive": {f: row[f] for f in data.sensitive if f in row},
                         **self.reference_extra(i)}
            yield Attempt(
                id=attempt_id, seq=seq + i, scenario_id=self.id,
                scenario_version=self.version, category=self.category,
                severity=self.severity, input_index=i, chain=label, messages=(),
                original=json.dumps(row, sort_keys=True), reference=reference,
                payload={"text": row[data.text]} if data.text else {"features": row})

    def metrics(self, verdicts: list[tuple[str, dict[str, Any]]], run_seed: int
                ) -> dict[str, Any]:
        raise NotImplementedError


SYNONYMS = Path(__file__).parent / "synonyms.txt"


@functools.lru_cache(maxsize=1)
def shipped_synonyms() -> dict[str, list[str]]:
    """The shipped synonym list (`word: synonym, synonym`), for text evasion."""
    out: dict[str, list[str]] = {}
    for line in SYNONYMS.read_text(encoding="utf-8").splitlines():
        word, sep, rest = line.partition(":")
        if sep and not word.startswith("#"):
            out[word.strip()] = [w.strip() for w in rest.split(",") if w.strip()]
    return out


def _default_detector(name: str) -> Any:
    return Field(default_factory=lambda: [DetectorSpec(name=name)], min_length=1)


@plugin("scenario", "evasion")
class EvasionScenario(ClassifierScenario):
    """Seeded black-box evasion: how small a perturbation flips each row's decision."""

    kind: Literal["evasion"] = "evasion"  # type: ignore[assignment]
    method: Literal["noise", "boundary", "categorical", "text", "fgsm", "pgd"] = Field(
        "noise", description="noise: random L-inf noise per budget; boundary: "
        "HopSkipJump-style decision-boundary search (L2); categorical: flip k categories; "
        "text: k typos, swapped letters or synonyms; fgsm / pgd: white-box, ART's fast "
        "gradient sign method or projected gradient descent (L-inf) on the target's "
        "gradients (the art extra)")
    budgets: list[float] = Field(
        default_factory=lambda: [0.1, 0.25, 0.5, 1.0], min_length=1,
        description="perturbation sizes, in standard deviations of each numeric feature "
        "(categorical: features flipped)")
    judged_at: float | None = Field(None, gt=0, description="the budget each row must hold "
                                    "at to pass (default: the largest)")
    samples: int = Field(8, ge=1, le=1000, description="noise/categorical tries per budget")
    iterations: int = Field(4, ge=0, le=100, description="boundary: gradient-estimate steps")
    directions: int = Field(12, ge=2, le=1000, description="boundary: probes per estimate")
    steps: int = Field(10, ge=1, le=1000, description="pgd: iterations")
    features: list[str] | None = Field(None, description="features to perturb (default: "
                                       "every non-sensitive one of the method's type)")
    detectors: list[DetectorSpec] = _default_detector("evasion_margin")  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _judged_by_margin(cls, data: Any) -> Any:
        """By default each row is judged by its margin at the judged budget."""
        if isinstance(data, dict) and "detectors" not in data:
            budgets = data.get("budgets") or [1.0]
            judged = data.get("judged_at")
            if judged is None and isinstance(budgets, list) and budgets:
                judged = budgets[-1]
            data = {**data, "detectors": [{"name": "evasion_margin",
                                           "params": {"budget": judged}}]}
        return data

    @model_validator(mode="after")
    def _budgets_ascend(self) -> EvasionScenario:
        if any(b <= 0 for b in self.budgets) or self.budgets != sorted(set(self.budgets)):
            raise ValueError("budgets must be positive and strictly ascending")
        if self.method in ("categorical", "text") and any(b != int(b) for b in self.budgets):
            raise ValueError(f"{self.method} budgets count changes: whole numbers")
        if self.judged_at is not None and self.judged_at not in self.budgets:
            raise ValueError(f"judged_at {self.judged_at} is not one of the budgets")
        return self

    def chain_label(self) -> str:
        return f"evasion:{self.method}"

    @property
    def judged_budget(self) -> float:
        return self.judged_at if self.judged_at is not None else self.budgets[-1]

    def strategy_choice(self) -> tuple[str, dict[str, Any]]:
        data = self.data(0)
        sensitive = set(data.sensitive)
        if self.method == "text":
            return "evasion-text", {"budgets": self.budgets, "samples": self.samples,
                                    "synonyms": shipped_synonyms()}
        if self.method == "categorical":
            cats = {f: list(v) for f, v in data.categories.items()
                    if f not in sensitive and (self.features is None or f in self.features)}
            return "evasion-categorical", {"budgets": self.budgets, "samples": self.samples,
                                           "categories": cats}
        scales = {f: s for f, s in data.scales().items()
                  if f not in sensitive and (self.features is None or f in self.features)}
        if self.method == "noise":
            return "evasion-noise", {"budgets": self.budgets, "samples": self.samples,
                                     "scales": scales}
        if self.method in ("fgsm", "pgd"):
            return "evasion-gradient", {"budgets": self.budgets, "method": self.method,
                                        "steps": self.steps, "scales": scales}
        return "evasion-boundary", {"budgets": self.budgets, "iterations": self.iterations,
                                    "directions": self.directions, "scales": scales}

    def metrics(self, verdicts: list[tuple[str, dict[str, Any]]], run_seed: int
                ) -> dict[str, Any]:
        from redline.classic.metrics import robustness

        return robustness(verdicts, self.budgets, self.method, self.judged_budget)


@plugin("scenario", "calibration")
class CalibrationScenario(ClassifierScenario):
    """Confidence against accuracy: ECE, MCE, Brier, a reliability diagram; on clean rows,
    covariate-shifted rows or rows with a feature missing (imputed with its mean)."""

    kind: Literal["calibration"] = "calibration"  # type: ignore[assignment]
    slice: Literal["clean", "covariate_shift", "missing_feature"] = "clean"
    shift: float = Field(1.0, gt=0, le=5, description="covariate_shift: its strength")
    bins: int = Field(10, ge=2, le=100)
    binning: Literal["adaptive", "uniform"] = Field(
        "adaptive", description="adaptive: equal-count bins; uniform: equal-width")
    detectors: list[DetectorSpec] = _default_detector("classifier_label")  # type: ignore[assignment]

    def chain_label(self) -> str:
        return f"calibration:{self.slice}"

    def data(self, run_seed: int) -> Any:
        spec = self.dataset
        if self.slice == "covariate_shift" and spec.csv is None:
            spec = spec.model_copy(update={"shift": self.shift})
        return _load(spec.model_dump_json(), run_seed)

    def rows(self, run_seed: int) -> list[tuple[dict[str, Any], str]]:
        from redline.classic.data import covariate_shift, missing_feature

        data = self.data(run_seed)
        pairs = list(zip(data.rows, data.labels, strict=True))
        if self.slice == "missing_feature":
            return missing_feature(data, pairs, seed=run_seed)
        if self.slice == "covariate_shift" and self.dataset.csv is not None:
            return covariate_shift(data, pairs, self.shift, seed=run_seed)
        return pairs

    def metrics(self, verdicts: list[tuple[str, dict[str, Any]]], run_seed: int
                ) -> dict[str, Any]:
        from redline.classic.metrics import calibration

        return calibration(verdicts, self.bins, self.binning, seed=run_seed) | {
            "slice": self.slice}


@plugin("scenario", "fairness")
class FairnessScenario(ClassifierScenario):
    """Decisions across the groups of each sensitive feature (fairlearn's MetricFrame) and
    counterfactual flips: the same row with only the sensitive value changed."""

    kind: Literal["fairness"] = "fairness"  # type: ignore[assignment]
    favourable: str | None = Field(None, description="the favourable class (default: the "
                                   "dataset's)")
    four_fifths: float = Field(0.8, gt=0, le=1, description="the selection-rate ratio below "
                               "which the four-fifths rule fails")
    resamples: int = Field(400, ge=50, le=10_000, description="bootstrap resamples")
    detectors: list[DetectorSpec] = _default_detector("counterfactual_flip")  # type: ignore[assignment]

    def strategy_choice(self) -> tuple[str, dict[str, Any]]:
        data = self.data(0)
        return "counterfactual", {"sensitive": {f: list(data.categories[f])
                                                for f in data.sensitive}}

    @model_validator(mode="after")
    def _needs_sensitive(self) -> FairnessScenario:
        spec = self.dataset
        if spec.csv is not None and not spec.sensitive and spec.cohort is None:
            raise ValueError("a fairness check needs the dataset's 'sensitive' columns "
                             "(or a synthetic 'cohort')")
        return self

    def metrics(self, verdicts: list[tuple[str, dict[str, Any]]], run_seed: int
                ) -> dict[str, Any]:
        data = self.data(run_seed)
        favourable = self.favourable or data.favourable or data.classes[-1]
        try:
            from redline.classic.metrics import fairness

            return fairness(verdicts, favourable, self.four_fifths, self.resamples,
                            seed=run_seed)
        except ImportError as exc:  # the run is kept; its gate rules then fail closed
            return {"check": "fairness", "rows": 0, "errors": len(verdicts),
                    "unavailable": f"{exc.name or exc} is not installed: pip install "
                    "'redline[classic]'"}
