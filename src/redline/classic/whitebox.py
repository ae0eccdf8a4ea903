"""White-box evasion through IBM ART (the `art` extra): FGSM and PGD, their every model call
a recorded query of the target.

ART's attack runs in a worker thread on a stand-in estimator whose `predict` and
`loss_gradient` are queries of the target (a gradient query carries `"gradient": {"label":
CLASS}`, `redline.classic.gradients`): each call the attack makes is handed to this
strategy, which yields it as a request and hands the reply back. So the attack is ART's own
code, yet every step of it is in the transcript, and a replay (replies from the cassette)
gives ART the same numbers and so the same steps; FGSM and PGD without random restarts
draw no randomness.

The attack works in standardised units: a feature moves by `z * scale` (its standard
deviation), so budgets mean what the black-box `noise` budgets mean (L-inf, in standard
deviations). Per budget, ascending: the attack's point is sent once more, and the first
budget whose point flips the decision ends the attempt. A target that exposes no gradients
answers the first gradient query with an error, which makes the attempt an error.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from redline.classic.estimator import probabilities_of
from redline.classic.gradients import NEEDS_ART
from redline.classic.strategies import BudgetParams, _start, decision, query
from redline.core.models import Attempt, TargetResponse
from redline.core.registry import plugin
from redline.core.strategies import Conversation


class Stop(Exception):
    """The attempt ended (an error reply, the run stopped): the attack thread stops too."""


class GradientParams(BudgetParams):
    method: Literal["fgsm", "pgd"] = "fgsm"
    steps: int = Field(10, ge=1, le=1000, description="pgd: iterations")
    step_ratio: float = Field(0.25, gt=0, le=1, description="pgd: step size / budget")
    scales: dict[str, float]


class Bridge:
    """The attack thread's model calls, one at a time, to the strategy and back."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.calls: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.replies: queue.Queue[TargetResponse | None] = queue.Queue()

    def ask(self, kind: str, z: Any) -> TargetResponse:
        """In the attack thread: send a call, wait for its reply (None: stop)."""
        self.finish(kind, z)
        reply = self.replies.get()
        if reply is None:
            raise Stop
        return reply

    def finish(self, kind: str, value: Any) -> None:
        """In the attack thread: hand the strategy a call, the result or a failure."""
        self.loop.call_soon_threadsafe(self.calls.put_nowait, (kind, value))


def _estimator(bridge: Bridge, names: list[str], scales: dict[str, float],
               classes: list[str]) -> Any:
    import numpy as np
    from art.estimators.classification.classifier import ClassifierLossGradients

    class Queried(ClassifierLossGradients):  # type: ignore[misc]
        """ART's view of the target: each row a recorded query."""

        estimator_params = ClassifierLossGradients.estimator_params

        def __init__(self) -> None:
            super().__init__(model=None, clip_values=None)
            self._input_shape = (len(names),)
            self.nb_classes = len(classes)

        @property
        def input_shape(self) -> tuple[int, ...]:
            return self._input_shape

        def predict(self, x: Any, batch_size: int = 1, **kwargs: Any) -> Any:
            rows = [bridge.ask("predict", z) for z in x]
            return np.asarray([[probabilities_of(r.payload, classes)[c] for c in classes]
                               for r in rows])

        def loss_gradient(self, x: Any, y: Any, **kwargs: Any) -> Any:
            return np.asarray([_gradient(bridge.ask("gradient", z)) for z in x])

        def fit(self, x: Any, y: Any, **kwargs: Any) -> None:
            raise TypeError("a target under test is not trained by the attack")

    def _gradient(reply: TargetResponse) -> list[float]:
        grad = (reply.payload or {}).get("gradient") if isinstance(reply.payload, dict) else None
        if not isinstance(grad, dict):
            raise ValueError("the target's reply holds no gradient")
        return [float(grad[f]) * scales[f] for f in names]  # the chain rule: dz = dx / scale

    return Queried()


def _attack(estimator: Any, method: str, budget: float, steps: int, step_ratio: float
            ) -> Any:
    import numpy as np
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescentNumpy

    if method == "fgsm":
        return FastGradientMethod(estimator, norm=np.inf, eps=budget, batch_size=1)
    return ProjectedGradientDescentNumpy(
        estimator, norm=np.inf, eps=budget, eps_step=budget * step_ratio, max_iter=steps,
        num_random_init=0, batch_size=1, verbose=False)


_IMPORTING = threading.Lock()


def _import_art() -> None:
    """ART's first import, one thread at a time: its package imports itself in a circle,
    which deadlocks two threads importing it at once."""
    with _IMPORTING:
        import art.attacks.evasion
        import art.estimators.classification  # noqa: F401


def _run(bridge: Bridge, make_attack: Callable[[Any], Any], names: list[str],
         scales: dict[str, float], classes: list[str], label_index: int) -> None:
    """The attack thread: ART's attack from z = 0; its end point (or its failure) last."""
    try:
        import numpy as np

        _import_art()
        attack = make_attack(_estimator(bridge, names, scales, classes))
        y = np.zeros((1, len(classes)))
        y[0, label_index] = 1.0
        z = attack.generate(np.zeros((1, len(names))), y=y)
        bridge.finish("done", [float(v) for v in z[0]])
    except Stop:
        return
    except ImportError:
        bridge.finish("failed", RuntimeError(NEEDS_ART))
    except Exception as exc:  # a garbled reply, ART's own failure: the attempt's error
        bridge.finish("failed", exc)


@plugin("strategy", "evasion-gradient", params=GradientParams)
async def gradient(attempt: Attempt, budgets: list[float], scales: dict[str, float],
                   method: str = "fgsm", steps: int = 10, step_ratio: float = 0.25
                   ) -> Conversation:
    """ART's FGSM or PGD (L-inf, standardised units) per budget; stops at the first flip."""
    base, label, classes = _start(attempt)
    names = list(scales)
    first = yield query(attempt, base, "none", 0.0)
    clean = decision(first, classes)
    if clean != label or not names:
        return
    order = list(classes) if classes else list(probabilities_of(first.payload))

    def point(z: Any) -> dict[str, Any]:
        return {**base, **{f: float(base[f]) + float(v) * scales[f]
                           for f, v in zip(names, z, strict=True)}}

    for budget in budgets:
        bridge = Bridge(asyncio.get_running_loop())
        make_attack = functools.partial(_attack, method=method, budget=budget, steps=steps,
                                        step_ratio=step_ratio)
        worker = threading.Thread(target=_run, daemon=True, name=f"art-{attempt.id}",
                                  args=(bridge, make_attack, names, scales, order,
                                        order.index(clean)))
        worker.start()
        try:
            while True:
                kind, value = await bridge.calls.get()
                if kind == "failed":
                    raise value
                if kind == "done":
                    break
                request = query(attempt, point(value), method, budget, step=kind)
                if kind == "gradient":
                    request.payload["gradient"] = {"label": clean}  # type: ignore[index]
                bridge.replies.put((yield request))
        finally:
            bridge.replies.put(None)  # the thread, if still waiting, stops
        if decision((yield query(attempt, point(value), method, budget)), classes) != clean:
            return
