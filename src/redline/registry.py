"""A tiny name -> function registry whose entries declare their keyword parameters."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def check_params(kind: str, name: str, fn: Callable[..., Any], params: dict[str, Any],
                 skip: int) -> None:
    """Raise ValueError if params do not fit fn's keyword-only parameters (after `skip` args)."""
    sig = inspect.signature(fn)
    accepted = dict(list(sig.parameters.items())[skip:])
    for key, value in params.items():
        if key not in accepted:
            raise ValueError(
                f"{kind} {name!r} takes no parameter {key!r}; takes {sorted(accepted)}")
        default = accepted[key].default
        if default is inspect.Parameter.empty or default is None:
            continue
        expected = type(default)
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ValueError(
                f"{kind} {name!r} parameter {key!r} must be {expected.__name__}, "
                f"got {type(value).__name__}"
            )
    missing = [
        k for k, p in accepted.items() if p.default is inspect.Parameter.empty and k not in params
    ]
    if missing:
        raise ValueError(f"{kind} {name!r} needs parameter(s) {missing}")
