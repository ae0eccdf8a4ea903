"""Target kinds: a config model, a CLI spec (`openai:URL#MODEL`, `http:URL`, `python:MOD:FN`,
`local`, `demo[:INNER]`) and a builder each, registered as `target` plugins."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator

from redline.core import registry
from redline.core.errors import UsageError
from redline.plugins.targets.base import Target
from redline.plugins.targets.http_client import MAX_BODY_BYTES


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
    safe_headers: list[str] = Field(
        default_factory=list,
        description="headers whose values are not secrets: stored as written; every other "
        "header value is masked in the stored config and wherever it appears in evidence",
    )
    max_response_bytes: int = Field(
        MAX_BODY_BYTES, ge=1024, le=1 << 30,
        description="the largest response body the target may return; a longer one is an "
        "error attempt naming the cap, and the rest of it is never read",
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
    payload_path: str | None = Field(
        None, description="JMESPath to a structured reply: it becomes the response payload")


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


class ClassifierConfig(_Base):
    default_suite: ClassVar[str] = "classic"  # what `redline scan` runs when no suite is named
    kind: Literal["classifier"]
    model: str = Field(description="module:attribute (a fitted estimator with predict_proba, "
                       "or a function) or a .joblib/.pkl/.skops/.onnx file")
    classes: list[str] | None = Field(None, description="class names in predict_proba's "
                                      "column order (default: the estimator's classes_)")
    features: list[str] | None = Field(None, description="column order for a model fed "
                                       "plain arrays (default: feature_names_in_)")


class DemoClassifierConfig(_Base):
    default_suite: ClassVar[str] = "classic"
    kind: Literal["demo-classifier"]
    rows: int = Field(3000, ge=200, le=200_000, description="generated training rows")
    seed: int = Field(20240611, ge=0, description="seed of the generated training set")


class DemoConfig(_Base):
    kind: Literal["demo"]
    timeout_s: float = Field(600.0, gt=0, le=3600)
    concurrency: int = Field(32, ge=1, le=4096)
    model: TargetConfig | None = None  # defined below


# --- the generic part: a config block, a CLI spec and a target, dispatched by `kind` -----


@dataclass(frozen=True)
class TargetKind:
    """A target kind as registered: how a CLI spec reads, and how to build the target.

    `from_spec(rest, spec)` turns what follows `KIND:` in a CLI spec into a config block;
    `build(config, seed)` instantiates the target from its validated config model."""

    usage: str
    from_spec: Callable[[str, str], dict[str, Any]]
    build: Callable[[Any, int | None], Target]


def target_kind(name: str, config: type[BaseModel], usage: str,
                from_spec: Callable[[str, str], dict[str, Any]],
                description: str) -> Callable[[Callable[[Any, int | None], Target]],
                                              Callable[[Any, int | None], Target]]:
    """Decorator for a build function: register a target kind in the plugin registry."""

    def deco(build: Callable[[Any, int | None], Target]) -> Callable[[Any, int | None], Target]:
        registry.register("target", name, TargetKind(usage, from_spec, build), params=config,
                          description=description)
        return build

    return deco


def _validate_config(value: Any) -> BaseModel:
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise ValueError("expected a mapping with a `kind`")
    kind = value.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"`kind` must be one of: {', '.join(registry.names('target'))}")
    entry = registry.get("target", kind)
    assert entry.params is not None
    return entry.params.model_validate(value)


TargetConfig = Annotated[
    BaseModel,
    PlainValidator(_validate_config),
    PlainSerializer(lambda m: m.model_dump(mode="json"), return_type=dict),
]


def _url_ok(url: str, spec: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"target spec {spec!r}: expected an http(s) URL, got {url!r}")
    return url


def parse_spec(spec: str) -> dict[str, Any]:
    """Turn a CLI target string into a config block (validated later as TargetConfig)."""
    kind, _, rest = spec.partition(":")
    try:
        entry = registry.get("target", kind)
    except registry.UnknownPlugin:
        usages = ", ".join(p.obj.usage for p in registry.available("target"))
        raise UsageError(f"unknown target spec {spec!r}; use {usages}") from None
    return {"kind": kind, **entry.obj.from_spec(rest, spec)}


def build_target(config: Any, seed: int | None = None) -> Target:
    """Instantiate a target from a validated TargetConfig."""
    kind = getattr(config, "kind", None)
    try:
        entry = registry.get("target", str(kind))
    except registry.UnknownPlugin as exc:
        raise UsageError(f"unsupported target config: {exc}") from None
    return entry.obj.build(config, seed)


# --- the built-in kinds: adding one is one block here (or a plugin package) ---------------


def _openai_spec(rest: str, spec: str) -> dict[str, Any]:
    url, _, model = rest.partition("#")
    if not model:
        raise UsageError(f"target spec {spec!r}: expected openai:URL#MODEL")
    return {"base_url": _url_ok(url, spec), "model": model}


@target_kind("openai", OpenAIConfig, "openai:URL#MODEL", _openai_spec,
             "an OpenAI-compatible chat completions endpoint")
def _build_openai(config: OpenAIConfig, seed: int | None) -> Target:
    from redline.plugins.targets.openai_chat import OpenAIChatTarget

    return OpenAIChatTarget(
        base_url=config.base_url, model=config.model, api_key_env=config.api_key_env,
        headers=config.resolved_headers(), temperature=config.temperature,
        max_tokens=config.max_tokens, seed=seed, timeout_s=config.timeout_s,
        max_response_bytes=config.max_response_bytes,
    )


@target_kind("http", HttpConfig, "http:URL", lambda rest, spec: {"url": _url_ok(rest, spec)},
             "a generic JSON-over-HTTP endpoint (request body template, reply path)")
def _build_http(config: HttpConfig, seed: int | None) -> Target:
    from redline.plugins.targets.http_json import HttpJsonTarget

    return HttpJsonTarget(
        url=config.url, body=config.body, reply_path=config.reply_path,
        payload_path=config.payload_path, method=config.method,
        headers=config.resolved_headers(), timeout_s=config.timeout_s,
        max_response_bytes=config.max_response_bytes,
    )


@target_kind("python", PythonConfig, "python:MODULE:FUNCTION",
             lambda rest, spec: {"callable": rest}, "a Python callable, sync or async")
def _build_python(config: PythonConfig, seed: int | None) -> Target:
    from redline.plugins.targets.python_callable import PythonTarget

    return PythonTarget(ref=config.callable)


@target_kind("local", LocalConfig, "local[:GGUF-PATH]",
             lambda rest, spec: {"model_path": rest} if rest else {},
             "the bundled SmolLM2 model (or a GGUF file), in-process on the CPU")
def _build_local(config: LocalConfig, seed: int | None) -> Target:
    from redline.plugins.targets.local_llm import LocalLLMTarget

    return LocalLLMTarget.create(config, seed=seed)


@target_kind("demo", DemoConfig, "demo[:INNER-SPEC]",
             lambda rest, spec: {"model": parse_spec(rest)} if rest else {},
             "the bundled guarded assistant app around a model (default: local)")
def _build_demo(config: DemoConfig, seed: int | None) -> Target:
    from redline.demo.target import GuardedAppTarget

    if config.model is not None:
        return GuardedAppTarget.create(build_target(config.model, seed))
    try:
        inner = build_target(LocalConfig(kind="local"), seed)
    except UsageError as exc:
        raise UsageError(f"the demo app's default model is unavailable: {exc}") from exc
    return GuardedAppTarget.create(inner)


@target_kind("classifier", ClassifierConfig, "classifier:MODULE:OBJ|MODEL-FILE",
             lambda rest, spec: {"model": rest},
             "a classifier: scikit-learn-compatible estimator or function, from a module "
             "or a joblib/skops/ONNX file (payload features or text in, probabilities out)")
def _build_classifier(config: ClassifierConfig, seed: int | None) -> Target:
    from redline.classic.estimator import load_model
    from redline.classic.target import ClassifierTarget

    with _needs_classic("classifier"):
        model = load_model(config.model, config.classes, config.features)
    return ClassifierTarget(model, spec=f"classifier:{config.model}")


@contextlib.contextmanager
def _needs_classic(kind: str) -> Iterator[None]:
    """A missing scikit-learn/joblib is a usage error naming the extra, not a traceback."""
    try:
        yield
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in ("sklearn", "joblib", "scipy", "numpy", "pandas"):
            raise
        raise UsageError(f"the {kind} target needs {missing}: install the classic extra "
                         "(pip install 'redline[classic]', or requirements/local.txt)"
                         ) from None


@target_kind("demo-classifier", DemoClassifierConfig, "demo-classifier", lambda rest, spec: {},
             "the bundled credit-scoring classifier (planted bias), trained at first use")
def _build_demo_classifier(config: DemoClassifierConfig, seed: int | None) -> Target:
    from redline.classic.estimator import demo_classifier
    from redline.classic.target import ClassifierTarget

    with _needs_classic("demo-classifier"):
        model = demo_classifier(config.rows, config.seed)
    return ClassifierTarget(model, spec="demo-classifier", kind="demo-classifier")


DemoConfig.model_rebuild()
