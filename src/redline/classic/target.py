"""The classifier target: a request's payload in, the model's class probabilities out.

Request payload: `{"features": {NAME: VALUE, ...}}` for a tabular model or `{"text": "..."}`
for a text model (other keys, such as the perturbation a check applied, ride along and are
recorded but not given to the model; `"gradient": {"label": CLASS}` asks for the loss
gradient too, `redline.classic.gradients`). Reply payload: `{"probabilities": {CLASS: P},
"label": CLASS}`. A request the model cannot take (no payload, a missing feature, an unknown
category) is that attempt's error, never a guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redline.classic.estimator import Classifier, PredictError
from redline.core.models import TargetRequest, TargetResponse
from redline.plugins.targets.base import NoSecrets, is_cancellation, raised_by_target


def model_input(payload: Any) -> dict[str, Any] | str:
    """What a classifier is given from a request payload; a ValueError says why not."""
    if not isinstance(payload, dict):
        raise ValueError("a classifier request needs a payload with 'features' or 'text'")
    if isinstance(payload.get("features"), dict):
        return payload["features"]
    if isinstance(payload.get("text"), str):
        return payload["text"]
    raise ValueError("a classifier request payload needs 'features' (a mapping) or 'text'")


def reply_payload(probabilities: dict[str, float]) -> dict[str, Any]:
    label = max(probabilities, key=lambda c: probabilities[c])
    return {"probabilities": {c: round(p, 6) for c, p in probabilities.items()},
            "label": label}


@dataclass
class ClassifierTarget(NoSecrets):
    classifier: Classifier
    spec: str
    kind: str = "classifier"

    async def send(self, request: TargetRequest) -> TargetResponse:
        started = time.perf_counter()
        try:
            x = model_input(request.payload)
        except ValueError as exc:
            return TargetResponse(text=None, error=f"cannot build the request: {exc}")
        try:
            (probs,) = self.classifier.predict([x])
        except PredictError as exc:
            return TargetResponse(text=None, error=f"the model cannot take this input: {exc}",
                                  latency_s=time.perf_counter() - started)
        except BaseException as exc:  # the model's own failure is data, not a crash
            if is_cancellation(exc) or isinstance(exc, KeyboardInterrupt):
                raise
            return raised_by_target(exc, time.perf_counter() - started)
        payload = reply_payload(probs)
        wanted = request.payload.get("gradient") if isinstance(x, dict) else None
        if isinstance(wanted, dict):
            try:
                payload["gradient"] = self.classifier.loss_gradient(x, str(wanted.get("label")))
            except PredictError as exc:
                return TargetResponse(text=None, error=f"no gradient: {exc}",
                                      latency_s=time.perf_counter() - started)
        return TargetResponse(text=None, payload=payload,
                              latency_s=time.perf_counter() - started)

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.classifier.describe}
