"""A Python callable as target: `module:function`, sync or async.

The function takes the list of messages (role/content dicts) and returns the reply text
(or a dict with a "text" key). A sync function runs in a worker thread unless it is
declared cheap with `inline=True`, so a slow one never blocks the engine. A request with a
structured payload (a classifier's features, a tool call) passes the payload instead of the
messages; a returned dict with a "payload" dict (class probabilities, a tool call) is a
structured reply.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redline.core.errors import UsageError
from redline.core.models import TargetRequest, TargetResponse
from redline.plugins.targets.base import is_cancellation, raised_by_target


def import_callable(ref: str) -> Callable[..., Any]:
    obj = import_object(ref, "python target must be 'module:function'")
    if not callable(obj):
        raise UsageError(f"{ref!r} is not callable")
    return obj  # type: ignore[no-any-return]


def import_object(ref: str, shape: str = "expected 'module:attribute'") -> Any:
    """The object `module:attr.sub` names; a UsageError says what is missing."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise UsageError(f"{shape}, got {ref!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import module {module_name!r}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _catching(fn: Callable[..., Any], messages: list[dict[str, str]]
              ) -> tuple[Any, BaseException | None]:
    """Call `fn` in a worker thread and hand back what it raised as a value: a GeneratorExit
    set on the thread's future would be thrown into the awaiting task as a close()."""
    try:
        return fn(messages), None
    except BaseException as exc:
        return None, exc


@dataclass
class PythonTarget:
    ref: str
    inline: bool = False
    spec: str = ""
    fn: Callable[..., Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.fn is None:
            self.fn = import_callable(self.ref)
        self._is_async = inspect.iscoroutinefunction(self.fn)
        self.inline = self.inline or bool(getattr(self.fn, "redline_inline", False))
        if not self.spec:
            self.spec = f"python:{self.ref}"

    async def send(self, request: TargetRequest) -> TargetResponse:
        assert self.fn is not None
        messages: Any = (dict(request.payload) if request.payload is not None
                         else [m.to_dict() for m in request.messages])
        started = time.perf_counter()
        try:
            if self._is_async:
                out = await self.fn(messages)
            elif self.inline:
                out = self.fn(messages)
            else:
                out, raised = await asyncio.to_thread(_catching, self.fn, messages)
                if raised is not None:
                    raise raised
        except BaseException as exc:  # the target's own failure is data, not a crash
            if is_cancellation(exc) or isinstance(exc, KeyboardInterrupt):
                raise
            return raised_by_target(exc, time.perf_counter() - started)
        latency = time.perf_counter() - started
        if isinstance(out, dict):
            if isinstance(out.get("payload"), dict):
                text = out.get("text")
                return TargetResponse(text=text if isinstance(text, str) else None,
                                      payload=out["payload"], latency_s=latency)
            out = out.get("text")
        if not isinstance(out, str):
            return TargetResponse(text=None, error=f"unusable reply: {type(out).__name__}",
                                  latency_s=latency)
        return TargetResponse(text=out, latency_s=latency)

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"kind": "python", "callable": self.ref}

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(getattr(self.fn, "redline_canaries", ()))

    @property
    def system_prompt(self) -> str | None:
        return getattr(self.fn, "redline_system_prompt", None)
