"""Failure rates corrected for the judges' own errors (Rogan-Gladen), with the judges'
uncertainty carried into the interval.

A detector with sensitivity se and specificity sp reports a failure with probability
p = se * pi + (1 - sp) * (1 - pi) when the true failure rate is pi, so

    pi = (p + sp - 1) / (se + sp - 1), clipped to [0, 1]       (Rogan & Gladen, 1978)

The interval is a seeded parametric bootstrap: each draw takes the observed rate, se and sp
from their Beta posteriors (Jeffreys Beta(k + 1/2, n - k + 1/2) for the rate; uniform-prior
Beta(tp + 1, fn + 1) for se and Beta(tn + 1, fp + 1) for sp, from the labeled cases) and
corrects it; the interval is the draws' central quantiles. A draw in which the judge is no
better than chance (se + sp <= 1) cannot be corrected and counts as a failure rate of 1
(fail closed). Same counts, same seed: same interval.

The judges' accuracy comes from the bundled labeled corpus or from a team's labeled JSONL
(e.g. `redline review --export`), measured by redline.plugins.detectors.evaluation and cached on
disk by the digest of the cases and of the detector code, so a gate stays fast.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from redline import __version__
from redline.core.errors import RedlineError
from redline.gate.stats import Interval

DRAWS = 4000


@dataclass(frozen=True)
class JudgeAccuracy:
    """A detector's confusion counts on labeled cases (unclear counted against the label)."""

    detector: str
    tp: int
    fp: int
    tn: int
    fn: int
    source: str = "bundled"

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else 0.0

    @property
    def youden(self) -> float:
        return self.sensitivity + self.specificity - 1

    @property
    def measured(self) -> bool:
        """Both rates need labeled cases of their own kind."""
        return self.tp + self.fn > 0 and self.tn + self.fp > 0

    def to_dict(self) -> dict[str, Any]:
        from redline.gate.stats import wilson

        return {"detector": self.detector, "source": self.source, "tp": self.tp,
                "fp": self.fp, "tn": self.tn, "fn": self.fn,
                "sensitivity": round(self.sensitivity, 4),
                "sensitivity_ci": wilson(self.tp, self.tp + self.fn).to_list(),
                "specificity": round(self.specificity, 4),
                "specificity_ci": wilson(self.tn, self.tn + self.fp).to_list()}


def rogan_gladen(p: float, se: float, sp: float) -> float | None:
    """The true rate behind an observed rate p; None when the judge is no better than
    chance (se + sp <= 1) and nothing can be recovered."""
    j = se + sp - 1
    if j <= 1e-12:
        return None
    return min(1.0, max(0.0, (p + sp - 1) / j))


@dataclass(frozen=True)
class CorrectedRate:
    raw: float
    rate: float  # Rogan-Gladen point estimate; 1.0 when the judge cannot be corrected for
    interval: Interval
    accuracy: JudgeAccuracy

    def to_dict(self) -> dict[str, Any]:
        return {"raw": round(self.raw, 4), "rate": round(self.rate, 4),
                "ci": self.interval.to_list(), "method": "rogan-gladen, beta bootstrap",
                "detector": self.accuracy.detector,
                "sensitivity": round(self.accuracy.sensitivity, 4),
                "specificity": round(self.accuracy.specificity, 4)}


def corrected_rate(k: int, n: int, acc: JudgeAccuracy, confidence: float = 0.95,
                   draws: int = DRAWS) -> CorrectedRate:
    """The corrected failure rate of k failures in n judged attempts, with its interval."""
    import numpy as np

    raw = k / n if n else 0.0
    point = rogan_gladen(raw, acc.sensitivity, acc.specificity)
    seed = int.from_bytes(hashlib.sha256(
        json.dumps([k, n, acc.tp, acc.fp, acc.tn, acc.fn, draws]).encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    p = rng.beta(k + 0.5, n - k + 0.5, draws)
    se = rng.beta(acc.tp + 1, acc.fn + 1, draws)
    sp = rng.beta(acc.tn + 1, acc.fp + 1, draws)
    j = se + sp - 1
    ok = j > 1e-12
    pi = np.ones(draws)
    pi[ok] = np.clip((p[ok] + sp[ok] - 1) / j[ok], 0.0, 1.0)
    tail = (1 - confidence) / 2
    low, high = np.quantile(pi, [tail, 1 - tail])
    return CorrectedRate(raw, 1.0 if point is None else point,
                         Interval(float(low), float(high)), acc)


def pick(accuracies: dict[str, JudgeAccuracy], detectors: list[str]) -> JudgeAccuracy | None:
    """The accuracy to correct a scenario's rate with: of its measured detectors, the one
    with the lowest Youden index (the least trustworthy judge, the widest correction)."""
    measured = [accuracies[d] for d in detectors if d in accuracies and accuracies[d].measured]
    return min(measured, key=lambda a: (a.youden, a.detector)) if measured else None


# -- where the accuracy comes from --------------------------------------------------------


def _cache_dir() -> Path:
    base = os.environ.get("REDLINE_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "redline" if base else Path.home() / ".cache" / "redline"


def _digest(source: str) -> str:
    """What the figures depend on: the labeled cases and the detector code."""
    from redline.plugins.detectors import evaluation

    h = hashlib.sha256(__version__.encode())
    det_dir = Path(evaluation.__file__).parent
    files = sorted(det_dir.glob("*.py"))
    files += [Path(source)] if source != "bundled" else sorted(det_dir.glob("corpus/*.jsonl"))
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:24]


def _measure(source: str) -> dict[str, dict[str, int]]:
    from redline.plugins.detectors.evaluation import evaluate, load_cases

    cases = load_cases() if source == "bundled" else load_cases(Path(source))
    return {name: {"tp": a.tp, "fp": a.fp, "tn": a.tn, "fn": a.fn}
            for name, a in evaluate(cases).items()}


@lru_cache(maxsize=8)
def judge_accuracy(source: str = "bundled") -> dict[str, JudgeAccuracy]:
    """Per detector, its measured accuracy on the bundled corpus (`bundled`) or on the
    labeled JSONL file at `source`; {} where no evaluation is available."""
    try:
        digest = _digest(source)
    except (ImportError, OSError):
        return {}
    path = _cache_dir() / f"judge-accuracy-{digest}.json"
    try:
        counts = json.loads(path.read_text())
    except (OSError, ValueError):
        try:
            counts = _measure(source)
        except RedlineError:
            if source != "bundled":
                raise  # a team's labeled file that does not read is a usage error (file:line)
            return {}  # no bundled corpus in this install: reports show no accuracy
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(counts))
            tmp.replace(path)
        except OSError:
            pass  # a read-only home: measure again next time
    label = "bundled corpus" if source == "bundled" else source
    return {name: JudgeAccuracy(name, c["tp"], c["fp"], c["tn"], c["fn"], label)
            for name, c in counts.items()}


def accuracy_of(detectors: list[str], source: str = "bundled") -> dict[str, dict[str, Any]]:
    """The measured accuracy of these detectors, as reports show it (those not measured
    are left out)."""
    measured = judge_accuracy(source)
    return {d: measured[d].to_dict() for d in sorted(set(detectors)) if d in measured}
