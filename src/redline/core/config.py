"""The scan configuration: a YAML file (optional) overlaid by command-line options."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from redline.core.errors import InputFileError, Problem, UsageError
from redline.core.halting import HaltRules, RunBudget
from redline.core.yamlfile import load_yaml, validate_node
from redline.plugins.targets.spec import TargetConfig, parse_spec

DEFAULT_TARGET = "demo"


class JudgeConfig(BaseModel):
    """An LLM judge over an OpenAI-compatible endpoint (see redline.plugins.detectors.judge)."""

    model_config = ConfigDict(extra="forbid")
    base_url: str
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    timeout_s: float = Field(60.0, gt=0, le=600)
    style: Literal["verdict", "rubric", "moderation"] = Field(
        "verdict", description="verdict: JSON violation; rubric: StrongREJECT-style score; "
        "moderation: Llama Guard / ShieldGemma answer format")
    mode: Literal["always", "unclear", "never"] = Field(
        "unclear", description="which attempts the judge sees: every one, only those the "
        "rules leave unclear, or none")
    threshold: float = Field(0.5, ge=0, le=1, description="rubric score that is a failure")
    conversation: bool = Field(
        False, description="moderation: send the exchange as chat messages for the server's "
        "own template instead of the Llama Guard prompt")
    max_tokens: int = Field(512, ge=1, le=8192)


class ScanConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: TargetConfig = Field(default_factory=lambda: parse_target(DEFAULT_TARGET))
    suite: str = "default"
    seed: int = Field(0, ge=0, le=2**63 - 1)
    concurrency: int | None = Field(
        None, ge=1, le=4096, description="attempts in flight; default: the target's own")
    rate_limit: float | None = Field(None, gt=0, le=1_000_000)
    timeout_s: float | None = Field(
        None, gt=0, le=3600, description="per-request time-out; default: the target's own")
    retries: int = Field(3, ge=0, le=20)
    max_error_rate: float = Field(0.2, ge=0, le=1)
    out: str = "redline-out"
    db: str = ".redline/redline.db"
    judge: JudgeConfig | None = None
    halt: HaltRules | None = Field(
        None, description="halt conditions (a policy's `halt:` block, `scan --policy`)")
    budget: RunBudget | None = Field(None, description="caps on the whole run; prices")
    attacker: TargetConfig | None = Field(
        None, description="the attack scenarios' attacker model, any target kind (default: "
        "the bundled local model)")


_TARGET = TypeAdapter(TargetConfig)


def parse_target(spec: str) -> Any:
    try:
        return _TARGET.validate_python(parse_spec(spec))
    except ValidationError as exc:
        raise UsageError(f"target spec {spec!r}: {exc.errors()[0]['msg']}") from exc


def parse_judge(spec: str) -> JudgeConfig:
    block = parse_spec(spec)
    if block["kind"] != "openai":
        raise UsageError(f"--judge must be an OpenAI-compatible spec openai:URL#MODEL, "
                         f"got {spec!r}")
    return JudgeConfig(base_url=block["base_url"], model=block["model"])


def load_config(path: Path | None, overrides: dict[str, Any]) -> ScanConfig:
    """Read the config file if any, then apply command-line overrides (None means unset)."""
    data: dict[str, Any] = {}
    node = None
    if path is not None:
        raw, node = load_yaml(path)
        if not isinstance(raw, dict):
            raise InputFileError([Problem(str(path), 1, None, "expected a mapping at top level")])
        data = raw
        config = validate_node(ScanConfig, data, node, str(path))
    else:
        config = ScanConfig()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if "target" in updates and isinstance(updates["target"], str):
        updates["target"] = parse_target(updates["target"])
    if "attacker" in updates and isinstance(updates["attacker"], str):
        updates["attacker"] = parse_target(updates["attacker"])
    if "judge" in updates and isinstance(updates["judge"], str):
        updates["judge"] = parse_judge(updates["judge"])
    if "suite" not in updates and "suite" not in data:  # the target kind's own checks
        target = updates.get("target", config.target)
        updates["suite"] = getattr(type(target), "default_suite", config.suite)
    try:
        return ScanConfig.model_validate({**config.model_dump(), **updates})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise UsageError(f"option {field}: {err['msg']}") from exc
