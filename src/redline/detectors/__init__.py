"""Offline, deterministic detectors, registered by name."""

from redline.detectors import (  # noqa: F401  (importing registers them)
    exfil,
    harmful,
    judge,
    leak,
    pii,
    refusal,
    robustness,
    system_prompt,
)
from redline.detectors.base import DETECTORS, DetectionContext, detector

__all__ = ["DETECTORS", "DetectionContext", "detector"]
