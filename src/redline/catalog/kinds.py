"""Every kind of scenario, by name: read a stored or loaded scenario of any kind."""

from __future__ import annotations

from typing import Any

from redline.catalog.schema import KINDS, ScenarioHeader


def kind_model(kind: str) -> type[ScenarioHeader]:
    if kind not in KINDS:  # the built-in kinds beyond probes register when first needed
        import redline.cascade.schema  # noqa: F401
    if kind not in KINDS:
        raise ValueError(f"unknown scenario kind {kind!r}; known: {sorted(KINDS)}")
    return KINDS[kind]


def parse_scenario(data: dict[str, Any]) -> ScenarioHeader:
    """A stored or loaded scenario of any kind (no `kind`: a probe, as before kinds)."""
    return kind_model(str(data.get("kind", "probe"))).model_validate(data)
