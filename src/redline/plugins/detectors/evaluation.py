"""Measure the detectors against labeled (request, reply, label) cases.

The bundled corpus (detectors/corpus/{dev,heldout}.jsonl) or a team's own JSONL file, one case
a line: `{"detector": NAME, "request": "...", "reply": "...", "label": true}` plus `secrets`
(a list, for the leak detectors) and `system_prompt` where the detector needs them. `label` is
true when the detector should detect. An unclear verdict (or a detector error) is counted as
an error against the label -- a false negative on a positive case, a false positive on a
negative one -- and reported separately, so unclear never flatters a detector.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from redline.core.errors import UsageError
from redline.core.models import Attempt, Message, Verdict
from redline.gate.stats import wilson
from redline.plugins.detectors.base import DETECTORS, DetectionContext

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
# "blind", "blind2", "blind3": cases by writers who read neither the detectors nor the corpus
# (see corpus/README.md); kept out of "all", which the gate's judge-error correction measures on
SPLITS = {"dev": ("dev",), "heldout": ("heldout",), "blind": ("blind",), "blind2": ("blind2",),
          "blind3": ("blind3",), "all": ("dev", "heldout")}
# what the engine's scenario brief would say for attempts these detectors usually judge
EXPECTED = {"harmful_compliance": "refuse", "over_refusal": "comply", "canary_leak": "no_leak",
            "system_prompt_leak": "no_leak", "pii": "no_leak", "exfiltration": "safe_output"}

Interval = tuple[float, float]


@dataclass(frozen=True)
class LabeledCase:
    detector: str
    request: str
    reply: str
    label: bool
    id: str = ""
    secrets: tuple[str, ...] = ()
    system_prompt: str | None = None
    style: str = ""
    provenance: str = ""
    source: str = ""  # file:line it came from


@dataclass(frozen=True)
class DetectorAccuracy:
    """Confusion matrix and rates of one detector; unclear verdicts are inside fp/fn."""

    detector: str
    tp: int
    fp: int
    tn: int
    fn: int
    unclear: int
    precision: float | None
    recall: float | None
    f1: float | None
    specificity: float | None
    precision_ci: Interval
    recall_ci: Interval
    f1_ci: Interval
    specificity_ci: Interval
    unclear_positive: int = 0  # unclear on cases labeled true (counted in fn)
    unclear_negative: int = 0  # unclear on cases labeled false (counted in fp)
    errors: int = 0  # detector raised; counted like unclear

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def sensitivity(self) -> float | None:
        return self.recall

    @property
    def sensitivity_ci(self) -> Interval:
        return self.recall_ci

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["n"] = self.n
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 4)
            elif isinstance(value, tuple):
                out[key] = [round(v, 4) for v in value]
        return out


def _problem(where: str, message: str) -> UsageError:
    return UsageError(f"{where}: {message}")


def _str_list(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _problem(where, f"{name}: must be a list of strings")
    return tuple(value)


def parse_case(obj: Any, where: str) -> LabeledCase:
    """One labeled case from a decoded JSON line; UsageError naming `where` if malformed."""
    if not isinstance(obj, dict):
        raise _problem(where, "each line must be a JSON object")
    for key in ("detector", "request", "reply"):
        if not isinstance(obj.get(key), str):
            raise _problem(where, f"{key}: required, must be a string")
    if not isinstance(obj.get("label"), bool):
        raise _problem(where, "label: required, must be true or false")
    name = obj["detector"]
    if name not in DETECTORS:
        raise _problem(where, f"detector: unknown detector {name!r} "
                              f"(known: {', '.join(sorted(DETECTORS))})")
    system_prompt = obj.get("system_prompt")
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise _problem(where, "system_prompt: must be a string")
    secrets = _str_list(obj.get("secrets", []), where, "secrets")
    return LabeledCase(
        detector=name, request=obj["request"], reply=obj["reply"], label=obj["label"],
        id=str(obj.get("id", "")), secrets=secrets, system_prompt=system_prompt,
        style=str(obj.get("style", "")), provenance=str(obj.get("provenance", "")),
        source=where,
    )


def read_jsonl(path: Path) -> list[LabeledCase]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read labeled cases: {exc}") from exc
    cases = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _problem(where, f"not valid JSON: {exc.msg} (column {exc.colno})") from exc
        cases.append(parse_case(obj, where))
    return cases


def load_cases(path: Path | None = None, split: str = "all") -> list[LabeledCase]:
    """The bundled corpus (one split, or both) or the labeled cases in `path`."""
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    if path is not None:
        if split != "all":
            raise UsageError("--split applies to the bundled corpus, not to a --labels file")
        return read_jsonl(Path(path))
    cases: list[LabeledCase] = []
    for part in SPLITS[split]:
        cases.extend(read_jsonl(CORPUS_DIR / f"{part}.jsonl"))
    return cases


def context_for(case: LabeledCase) -> DetectionContext:
    """The DetectionContext the engine would build for an attempt like this case."""
    messages = [Message("user", case.request)]
    if case.system_prompt is not None:
        messages.insert(0, Message("system", case.system_prompt))
    attempt = Attempt(
        id=case.id or "eval", seq=0, scenario_id=f"eval-{case.detector}", scenario_version=1,
        category="eval", severity="medium", input_index=0, chain=("identity",),
        messages=tuple(messages), canaries=case.secrets, original=case.request,
    )
    expected = EXPECTED.get(case.detector)
    return DetectionContext(
        attempt=attempt, canaries=case.secrets, system_prompt=case.system_prompt,
        extra={"expected": expected} if expected else {},
    )


def judge_case(case: LabeledCase) -> Verdict | None:
    """The detector's verdict on one case, or None when it raised (counted as unclear)."""
    fn = DETECTORS[case.detector]
    if inspect.iscoroutinefunction(fn):
        raise UsageError(f"detector {case.detector} needs an LLM judge; judges eval measures "
                         "the offline detectors")
    try:
        verdict = fn(case.reply, context_for(case))
    except Exception:  # a detector bug is an error against the label, never a pass
        return None
    return verdict if isinstance(verdict, Verdict) else None


def _ratio(k: float, n: float) -> tuple[float | None, Interval]:
    if n == 0:
        return None, (0.0, 1.0)
    ci = wilson(k, n)  # type: ignore[arg-type]  # F1 passes a half-integer n
    return k / n, (ci.low, ci.high)


def accuracy(name: str, pairs: Sequence[tuple[bool, Verdict | None]]) -> DetectorAccuracy:
    """Figures for one detector from (label, verdict) pairs."""
    tp = fp = tn = fn = unclear_pos = unclear_neg = errors = 0
    for label, verdict in pairs:
        if verdict is None or verdict.unclear:
            errors += verdict is None
            if label:
                fn, unclear_pos = fn + 1, unclear_pos + 1
            else:
                fp, unclear_neg = fp + 1, unclear_neg + 1
        elif verdict.detected:
            tp, fp = (tp + 1, fp) if label else (tp, fp + 1)
        else:
            fn, tn = (fn + 1, tn) if label else (fn, tn + 1)
    precision, precision_ci = _ratio(tp, tp + fp)
    recall, recall_ci = _ratio(tp, tp + fn)
    specificity, specificity_ci = _ratio(tn, tn + fp)
    # F1 = tp / (tp + (fp + fn) / 2): a Wilson interval on that ratio (an approximation)
    f1, f1_ci = _ratio(tp, tp + (fp + fn) / 2)
    return DetectorAccuracy(
        detector=name, tp=tp, fp=fp, tn=tn, fn=fn,
        unclear=unclear_pos + unclear_neg - errors, precision=precision, recall=recall,
        f1=f1, specificity=specificity, precision_ci=precision_ci, recall_ci=recall_ci,
        f1_ci=f1_ci, specificity_ci=specificity_ci, unclear_positive=unclear_pos,
        unclear_negative=unclear_neg, errors=errors,
    )


def evaluate(cases: Sequence[LabeledCase],
             detectors: Sequence[str] | None = None) -> dict[str, DetectorAccuracy]:
    """Per detector (all those in the cases, or the named ones), its measured accuracy."""
    wanted = list(detectors) if detectors else sorted({c.detector for c in cases})
    unknown = [d for d in wanted if d not in DETECTORS]
    if unknown:
        raise UsageError(f"unknown detector {unknown[0]!r} (known: {', '.join(sorted(DETECTORS))})")
    out = {}
    for name in wanted:
        mine = [c for c in cases if c.detector == name]
        if not mine:
            raise UsageError(f"no labeled cases for detector {name!r}")
        out[name] = accuracy(name, [(c.label, judge_case(c)) for c in mine])
    return out
