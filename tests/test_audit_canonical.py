"""The audit chain's canonical JSON: its fast paths for text and numbers write exactly the
bytes the general encoder writes, so every stored hash stays valid."""

from __future__ import annotations

import json
import math

import pytest

from redline.store.audit import canonical

VALUES = [
    "", "plain", "quote \" backslash \\ newline \n tab \t nul \x00 bell \x07", "é ü 漢字 🎉",
    "\ud800 lone surrogate", "\u2028\u2029", 0, -1, 2**70, -(2**70), 0.0, -0.0, 1.5, 1e300,
    1e-300, 0.1 + 0.2, 3.0, None, True, False, [1, "a", None], {"b": 1, "a": [2.5, "x"]},
]


def reference(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_fast_paths_write_what_the_encoder_writes(value: object) -> None:
    assert canonical(value) == reference(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused(value: float) -> None:
    with pytest.raises(ValueError):
        canonical(value)
