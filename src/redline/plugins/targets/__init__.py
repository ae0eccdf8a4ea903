"""Targets: parse a target spec (CLI string or config block) into a Target."""

from redline.plugins.targets.base import Target
from redline.plugins.targets.spec import TargetConfig, build_target, parse_spec

__all__ = ["Target", "TargetConfig", "build_target", "parse_spec"]
