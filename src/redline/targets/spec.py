"""Target specs: `openai:URL#MODEL`, `http:URL`, `python:MOD:FN`, `local`, `demo[:INNER]`."""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from redline.errors import UsageError
from redline.targets.base import Target


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout_s: float = Field(60.0, gt=0, le=3600)
    concurrency: int = Field(16, ge=1, le=4096, description="default attempts in flight")


class _WithHeaders(_Base):
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="`${VAR}` in a value reads the environment when the target is built, so "
        "secrets stay out of config files and out of the store",
    )

    def resolved_headers(self) -> dict[str, str]:
        return {k: os.path.expandvars(val) for k, val in self.headers.items()}


class OpenAIConfig(_WithHeaders):
    kind: Literal["openai"]
    base_url: str
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int | None = Field(256, ge=1, le=1_000_000)


class HttpConfig(_WithHeaders):
    kind: Literal["http"]
    url: str
    method: Literal["POST", "PUT"] = "POST"
    body: Any = Field(default_factory=lambda: {"prompt": "{{prompt}}"})
    reply_path: str = "response"


class PythonConfig(_Base):
    kind: Literal["python"]
    callable: str


class LocalConfig(_Base):
    kind: Literal["local"]
    # an in-process CPU model queues requests behind its batches: allow for the queue
    timeout_s: float = Field(600.0, gt=0, le=3600)
    # two batches: one generating while the next fills
    concurrency: int = Field(32, ge=1, le=4096)
    model_path: str | None = None
    max_tokens: int = Field(64, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2)


class DemoConfig(_Base):
    kind: Literal["demo"]
    timeout_s: float = Field(600.0, gt=0, le=3600)
    concurrency: int = Field(32, ge=1, le=4096)
    model: TargetConfig | None = None


TargetConfig = Annotated[
    OpenAIConfig | HttpConfig | PythonConfig | LocalConfig | DemoConfig,
    Field(discriminator="kind"),
]
DemoConfig.model_rebuild()


def _url_ok(url: str, spec: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"target spec {spec!r}: expected an http(s) URL, got {url!r}")
    return url


def parse_spec(spec: str) -> dict[str, Any]:
    """Turn a CLI target string into a config block (validated later as TargetConfig)."""
    kind, _, rest = spec.partition(":")
    if kind == "openai":
        url, _, model = rest.partition("#")
        if not model:
            raise UsageError(f"target spec {spec!r}: expected openai:URL#MODEL")
        return {"kind": "openai", "base_url": _url_ok(url, spec), "model": model}
    if kind == "http":
        return {"kind": "http", "url": _url_ok(rest, spec)}
    if kind == "python":
        return {"kind": "python", "callable": rest}
    if kind == "local":
        return {"kind": "local", **({"model_path": rest} if rest else {})}
    if kind == "demo":
        return {"kind": "demo", **({"model": parse_spec(rest)} if rest else {})}
    raise UsageError(
        f"unknown target spec {spec!r}; use openai:URL#MODEL, http:URL, python:MODULE:FUNCTION, "
        "local or demo[:INNER-SPEC]"
    )


def build_target(config: Any, seed: int | None = None) -> Target:
    """Instantiate a target from a validated TargetConfig."""
    from redline.targets.http_json import HttpJsonTarget
    from redline.targets.openai_chat import OpenAIChatTarget
    from redline.targets.python_callable import PythonTarget

    if isinstance(config, OpenAIConfig):
        return OpenAIChatTarget(
            base_url=config.base_url, model=config.model, api_key_env=config.api_key_env,
            headers=config.resolved_headers(), temperature=config.temperature,
            max_tokens=config.max_tokens, seed=seed, timeout_s=config.timeout_s,
        )
    if isinstance(config, HttpConfig):
        return HttpJsonTarget(
            url=config.url, body=config.body, reply_path=config.reply_path,
            method=config.method, headers=config.resolved_headers(), timeout_s=config.timeout_s,
        )
    if isinstance(config, PythonConfig):
        return PythonTarget(ref=config.callable)
    if isinstance(config, LocalConfig):
        from redline.targets.local_llm import LocalLLMTarget

        return LocalLLMTarget.create(config, seed=seed)
    if isinstance(config, DemoConfig):
        from redline.app.target import GuardedAppTarget

        inner = build_target(config.model, seed) if config.model is not None else None
        return GuardedAppTarget.create(inner, seed=seed)
    raise UsageError(f"unsupported target config {config!r}")
