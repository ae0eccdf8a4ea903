"""Offline, deterministic detectors, registered by name."""

from redline.plugins.detectors import (  # noqa: F401  (importing registers them)
    exfil,
    harmful,
    judge,
    leak,
    pii,
    refusal,
    robustness,
    system_prompt,
)
from redline.plugins.detectors.base import DETECTORS, DetectionContext, detector

__all__ = ["DETECTORS", "DetectionContext", "detector"]
