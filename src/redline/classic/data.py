"""Tabular datasets as plain rows: the generated credit-scoring set, and CSV files.

The credit set is drawn from a seeded numpy generator, so one seed always gives the same
rows. Its labels carry a planted bias: at equal merit, applicants of group "b" (the
sensitive attribute `group`) are approved less often (`bias` on the logit), and a model
trained on it with the attribute as a feature learns that penalty.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.core.errors import UsageError

NUMERIC = ("income_k", "debt_ratio", "history_years", "late_payments", "loan_k")
CATEGORIES: dict[str, tuple[str, ...]] = {
    "employment": ("employed", "self_employed", "unemployed"),
    "purpose": ("car", "home", "education", "business"),
    "group": ("a", "b"),
}
CLASSES = ("deny", "approve")


@dataclass(frozen=True)
class Dataset:
    """Rows of features, their true labels, and what the checks need to know of them."""

    name: str
    rows: list[dict[str, Any]]
    labels: list[str]
    numeric: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    classes: tuple[str, ...]
    sensitive: tuple[str, ...] = ()
    favourable: str | None = None
    describe: dict[str, Any] = field(default_factory=dict)
    text: str | None = None  # a text model's input column: rows are {TEXT: "..."}

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categories)

    def scales(self) -> dict[str, float]:
        """Each numeric feature's standard deviation: perturbation budgets are in these units."""
        out = {}
        for name in self.numeric:
            values = [float(r[name]) for r in self.rows]
            mean = sum(values) / len(values)
            var = sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)
            out[name] = math.sqrt(var) or 1.0
        return out


def credit(rows: int = 2000, seed: int = 0, bias: float = 1.2, shift: float = 0.0) -> Dataset:
    """A generated credit-scoring set: five numeric and three categorical features (one of
    them the sensitive `group`), label approve/deny, `bias` logits against group "b".

    `shift` > 0 is covariate shift: lower incomes, more debt and late payments are drawn,
    while the labelling rule P(label | features) stays the same."""
    import numpy as np

    rng = np.random.default_rng(seed)
    group = np.where(rng.random(rows) < 0.35, "b", "a")
    income = np.exp(rng.normal(3.9 - 0.3 * shift, 0.4 + 0.1 * shift, rows))
    debt = rng.beta(2.0 + 1.5 * shift, 5.0, rows)
    history = np.clip(rng.gamma(3.0, 3.0, rows), 0, 40)
    late = rng.poisson(0.8 * (1 + shift), rows)
    loan = np.exp(rng.normal(2.8, 0.6, rows))
    employment = rng.choice(CATEGORIES["employment"], rows, p=[0.7, 0.2, 0.1])
    purpose = rng.choice(CATEGORIES["purpose"], rows, p=[0.35, 0.3, 0.15, 0.2])
    merit = (1.6 * (np.log(income) - 3.9) / 0.4 - 6.0 * (debt - 0.29) + 0.08 * (history - 9)
             - 0.7 * late - 0.5 * (np.log(loan) - 2.8) / 0.6
             - 1.2 * (employment == "unemployed") - 0.3 * (employment == "self_employed")
             - 0.3 * (purpose == "business"))
    logit = 1.3 * (merit + 0.6 - bias * (group == "b"))
    approve = rng.random(rows) < 1 / (1 + np.exp(-logit))
    table = {"income_k": np.round(income, 2), "debt_ratio": np.round(debt, 4),
             "history_years": np.round(history, 1), "late_payments": late,
             "loan_k": np.round(loan, 2), "employment": employment, "purpose": purpose,
             "group": group}
    out_rows = [{k: _plain(v[i]) for k, v in table.items()} for i in range(rows)]
    return Dataset("credit", out_rows, [CLASSES[int(a)] for a in approve], NUMERIC,
                   dict(CATEGORIES), CLASSES, sensitive=("group",), favourable="approve",
                   describe={"generator": "credit", "rows": rows, "seed": seed, "bias": bias,
                             "shift": shift})


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value


POSITIVE = ("great", "good", "excellent", "love", "perfect", "easy", "fast", "happy",
            "recommend", "works")
NEGATIVE = ("terrible", "bad", "broken", "hate", "useless", "slow", "disappointing",
            "awful", "expensive", "never")
NOUNS = ("product", "service", "delivery", "quality", "battery", "screen", "price",
         "support")


def reviews(rows: int = 200, seed: int = 0) -> Dataset:
    """A generated set of short product reviews labelled pos/neg: one to three sentiment
    words, each from the label's side with probability 0.8 (so some reviews are mixed)."""
    import random

    rng = random.Random(f"reviews/{seed}")
    out_rows, labels = [], []
    for _ in range(rows):
        label = "pos" if rng.random() < 0.5 else "neg"
        own, other = (POSITIVE, NEGATIVE) if label == "pos" else (NEGATIVE, POSITIVE)
        words = [rng.choice(own if rng.random() < 0.8 else other)
                 for _ in range(rng.randint(1, 3))]
        text = f"the {rng.choice(NOUNS)} was " + " and ".join(words)
        out_rows.append({"text": text})
        labels.append(label)
    return Dataset("reviews", out_rows, labels, (), {}, ("neg", "pos"), favourable="pos",
                   describe={"generator": "reviews", "rows": rows, "seed": seed},
                   text="text")


def from_csv(path: Path, label: str, sensitive: tuple[str, ...] = (),
             categorical: tuple[str, ...] = (), favourable: str | None = None,
             text: str | None = None) -> Dataset:
    """A CSV file with a header row: numeric columns are those whose every value parses as a
    number (unless named in `categorical`); `label` is the true class; with `text`, that
    column is a text model's whole input."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            table = list(csv.DictReader(fh))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the dataset: {exc.strerror or exc}") from None
    if not table:
        raise UsageError(f"{path}: the dataset has no rows")
    for column in (label, text):
        if column is not None and column not in table[0]:
            raise UsageError(f"{path}:1: no column {column!r} in the header")
    if text is not None:
        labels = [r[label] for r in table]
        return Dataset(path.stem, [{"text": r[text]} for r in table], labels, (), {},
                       tuple(sorted(set(labels))), (), favourable,
                       {"csv": str(path), "rows": len(table)}, text="text")
    names = [c for c in table[0] if c != label]
    numeric = tuple(c for c in names if c not in categorical and _all_numbers(table, c))
    cats = {c: tuple(sorted({r[c] for r in table})) for c in names if c not in numeric}
    rows = [{c: float(r[c]) if c in numeric else r[c] for c in names} for r in table]
    labels = [r[label] for r in table]
    classes = tuple(sorted(set(labels)))
    return Dataset(path.stem, rows, labels, numeric, cats, classes, tuple(sensitive),
                   favourable, {"csv": str(path), "rows": len(rows)})


def _all_numbers(table: list[dict[str, str]], column: str) -> bool:
    try:
        for row in table:
            float(row[column])
    except (TypeError, ValueError):
        return False
    return True


def covariate_shift(data: Dataset, pairs: list[tuple[dict[str, Any], str]], strength: float,
                    seed: int) -> list[tuple[dict[str, Any], str]]:
    """Every numeric feature moved by `strength` standard deviations, each in a seeded
    direction (the labels kept: a shift of the inputs the model was not trained on)."""
    import random

    rng = random.Random(f"covariate-shift/{seed}")
    scales = data.scales()
    step = {n: strength * scales[n] * rng.choice((-1.0, 1.0)) for n in data.numeric}
    return [({**row, **{n: float(row[n]) + step[n] for n in data.numeric}}, label)
            for row, label in pairs]


def missing_feature(data: Dataset, pairs: list[tuple[dict[str, Any], str]], seed: int
                    ) -> list[tuple[dict[str, Any], str]]:
    """In each row one numeric feature (seeded choice) is missing and imputed with its
    mean, as a pipeline's imputer would: the model decides with less information."""
    import random

    rng = random.Random(f"missing-feature/{seed}")
    means = {n: sum(float(r[n]) for r in data.rows) / len(data.rows) for n in data.numeric}
    out = []
    for row, label in pairs:
        gone = rng.choice(data.numeric)
        out.append(({**row, gone: round(means[gone], 6)}, label))
    return out


def with_cohort(data: Dataset, name: str, values: tuple[str, ...], seed: int) -> Dataset:
    """The dataset with a synthetic cohort column `name` (each row's value drawn from a
    generator seeded by `seed`) added as a sensitive feature."""
    import random

    if name in data.features:
        raise UsageError(f"dataset {data.name}: cohort {name!r} is already a feature")
    rng = random.Random(f"cohort/{seed}")
    rows = [{**row, name: rng.choice(values)} for row in data.rows]
    return Dataset(data.name, rows, data.labels, data.numeric,
                   {**data.categories, name: values}, data.classes, (*data.sensitive, name),
                   data.favourable, {**data.describe, "cohort": {"name": name, "seed": seed}},
                   data.text)
