"""The system under test, assembled and running: stages, HTTP dependencies, fault proxies.

For the guarded assistant app (`start_guarded_app`), each stage named in `SystemSpec.remote`
calls a real HTTP service on 127.0.0.1 through a `FaultProxy`:

    input_filter -> moderation service        (redline.demo.services, via proxy "input_filter")
    retrieval    -> retrieval service         (redline.demo.services, via proxy "retrieval")
    model        -> OpenAI-compatible server  (the stand-in or the local LLM, via proxy "model")

A fault at a proxied stage is armed in its proxy; a fault at any other stage is wrapped
around the stage in-process, inside the model's resilience wrapper (time-out, breaker,
fallback) when there is one, so the app's own defences see it as they would see a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from redline.core.errors import UsageError
from redline.core.registry import register
from redline.demo import AppModel
from redline.demo.data import ADMIN_CODE, CANARY, system_prompt
from redline.demo.pipeline import STAGE_NAMES, GuardedApp, Stage, model_stage
from redline.demo.pipeline import build_prompt as prompt_stage
from redline.demo.pipeline import input_filter as local_input_filter
from redline.demo.pipeline import output_filter as output_filter_stage
from redline.demo.pipeline import retrieval as local_retrieval
from redline.demo.remote import moderation_stage, retrieval_stage
from redline.demo.resilience import CircuitBreaker, canned_reply, resilient
from redline.demo.services import moderation_app, retrieval_app
from redline.demo.settings import SystemSpec
from redline.demo.stand_in import SlottedTarget, stand_in_target
from redline.pipeline.loopback import LoopbackServer, stop_all
from redline.pipeline.proxy import FaultProxy, Shape
from redline.pipeline.stages import Pipeline, StageInfo
from redline.pipeline.trace import traced_client
from redline.plugins.faults import ArmedFault, inject
from redline.plugins.targets.base import Target
from redline.plugins.targets.http_client import HttpClient
from redline.plugins.targets.openai_chat import OpenAIChatTarget
from redline.plugins.targets.serve import build_app

MODELS: tuple[str, ...] = get_args(AppModel)
DEFAULT_TIMEOUT_MS = 30_000.0


class TracedChatTarget(OpenAIChatTarget):
    """The app's model client: an OpenAI-compatible client that tags requests for the proxy."""

    def client(self) -> HttpClient:
        if self._client is None:
            self._client = traced_client(self.timeout_s, self.max_connections, self._headers())
            self._client.max_body_bytes = self.max_response_bytes
        return self._client


@dataclass
class System:
    """Named stages plus what runs behind them; `app()` assembles them, with or without a fault."""

    name: str
    stages: list[tuple[str, Stage]]
    guards: dict[str, Callable[[Stage], Stage]] = field(default_factory=dict)
    proxies: dict[str, FaultProxy] = field(default_factory=dict)
    servers: list[LoopbackServer] = field(default_factory=list)
    clients: list[HttpClient] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    breaker: CircuitBreaker | None = None
    canaries: tuple[str, ...] = ()
    system_prompt: str | None = None
    description: dict[str, Any] = field(default_factory=dict)
    declared: Pipeline | None = None  # what the pipeline declares of its stages

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.stages)

    def check_stage(self, stage: str) -> None:
        if stage not in self.stage_names:
            raise UsageError(f"{self.name} has no stage {stage!r}; stages: "
                             f"{list(self.stage_names)}")

    def check_fault(self, fault: ArmedFault) -> None:
        """The fault can be injected at its stage, as the pipeline declares it."""
        self.check_stage(fault.stage)
        if self.declared is not None:
            try:
                self.declared.check_fault(fault.stage, fault.spec)
            except ValueError as exc:
                raise UsageError(str(exc)) from None

    def stage_info(self, stage: str) -> StageInfo:
        return self.declared.stage(stage) if self.declared is not None else StageInfo(stage)

    def app(self, *faults: ArmedFault) -> GuardedApp:
        """The app, each fault armed in its stage's proxy or wrapped around the stage."""
        for fault in faults:
            self.check_fault(fault)
            if fault.stage in self.proxies:
                self.proxies[fault.stage].arm(fault)
        stages = []
        for name, stage in self.stages:
            for fault in faults:
                if fault.stage == name and name not in self.proxies:
                    stage = inject(name, stage, fault, self.stage_info(name))
            if name in self.guards:
                stage = self.guards[name](stage)
            stages.append((name, stage))
        return GuardedApp(tuple(stages))

    def rollback(self) -> None:
        """Remove every fault: disarm the proxies (in-process faults go with the old app)."""
        for proxy in self.proxies.values():
            proxy.disarm()

    def proxy_log(self) -> dict[str, list[dict[str, Any]]]:
        return {name: list(p.log) for name, p in self.proxies.items()}

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        for target in self.targets:
            await target.aclose()
        stop_all(self.servers)


def _serve(system: System, app: Any, name: str, shape: Shape) -> FaultProxy:
    """Start `app` on loopback and a fault proxy in front of it; return the proxy."""
    upstream = LoopbackServer(app, name).start()
    system.servers.append(upstream)
    proxy = FaultProxy(name, upstream.url, shape).start()
    assert proxy.server is not None
    system.servers.append(proxy.server)
    return proxy


def build_model(model: str, seed: int | None, capacity: int | None, service_ms: float) -> Target:
    if model == "stand-in":
        target: Target = stand_in_target()
    elif model == "local":
        from redline.core.config import parse_target
        from redline.plugins.targets.spec import build_target

        target = build_target(parse_target("local"), seed=seed)
    else:
        raise UsageError(f"unknown --model {model!r}; use one of {list(MODELS)}")
    if capacity is not None or service_ms:
        target = SlottedTarget(target, capacity or 1_000_000, service_ms / 1000)
    return target


def _guard(spec: SystemSpec, remote: bool) -> tuple[Callable[[Stage], Stage] | None,
                                                     CircuitBreaker | None]:
    breaker = None
    if spec.breaker is not None:
        breaker = CircuitBreaker(failures_to_open=spec.breaker.failures,
                                 open_for_calls=spec.breaker.open_for_calls,
                                 open_for_s=spec.breaker.open_for_s)
    timeout_ms = None if remote else spec.timeout_ms.get("model")
    if breaker is None and not spec.fallback and timeout_ms is None:
        return None, None
    fallback = canned_reply() if spec.fallback else None

    def guard(stage: Stage) -> Stage:
        return resilient("model", stage, timeout_s=timeout_ms / 1000 if timeout_ms else None,
                         breaker=breaker, fallback=fallback)

    return guard, breaker


def start_guarded_app(spec: SystemSpec, model: str = "stand-in", seed: int | None = None,
                      model_capacity: int | None = None, model_service_ms: float = 0.0) -> System:
    """Assemble the guarded assistant app as `spec` says, its services running on loopback."""
    system = System(name="the guarded assistant app", stages=[],
                    canaries=(CANARY, ADMIN_CODE), system_prompt=system_prompt(), declared=DEMO)
    try:
        _assemble(system, spec, model, seed, model_capacity, model_service_ms)
    except BaseException:
        stop_all(system.servers)
        raise
    return system


def _timeout_s(spec: SystemSpec, stage: str) -> float:
    return spec.timeout_ms.get(stage, DEFAULT_TIMEOUT_MS) / 1000  # type: ignore[call-overload]


def _assemble(system: System, spec: SystemSpec, model: str, seed: int | None,
              capacity: int | None, service_ms: float) -> None:
    inner = build_model(model, seed, capacity, service_ms)
    stages: dict[str, Stage] = {"input_filter": local_input_filter, "retrieval": local_retrieval,
                                "prompt": prompt_stage, "output_filter": output_filter_stage}
    if "model" in spec.remote:
        proxy = _serve(system, build_app(inner, model), "model", "chat")
        system.proxies["model"] = proxy
        client = TracedChatTarget(base_url=proxy.url + "/v1", model=model, api_key_env=None,
                                  timeout_s=_timeout_s(spec, "model"))
        system.targets += [client, inner]
        stages["model"] = model_stage(client)
    else:
        system.targets.append(inner)
        stages["model"] = model_stage(inner)
    if "input_filter" in spec.remote:
        proxy = _serve(system, moderation_app(), "input_filter", "moderation")
        system.proxies["input_filter"] = proxy
        client = traced_client(_timeout_s(spec, "input_filter"))
        system.clients.append(client)
        stages["input_filter"] = moderation_stage(
            proxy.url, timeout_s=_timeout_s(spec, "input_filter"),
            on_error=spec.moderation_on_error, client=client)
    if "retrieval" in spec.remote:
        proxy = _serve(system, retrieval_app(), "retrieval", "retrieval")
        system.proxies["retrieval"] = proxy
        client = traced_client(_timeout_s(spec, "retrieval"))
        system.clients.append(client)
        stages["retrieval"] = retrieval_stage(proxy.url, timeout_s=_timeout_s(spec, "retrieval"),
                                              client=client)
    system.stages = [(name, stages[name]) for name in STAGE_NAMES]
    guard, system.breaker = _guard(spec, "model" in spec.remote)
    if guard is not None:
        system.guards["model"] = guard
    system.description = {
        "kind": "guarded-app", "stages": list(STAGE_NAMES), "model": model,
        "remote": {name: p.url for name, p in system.proxies.items()},
        "spec": spec.model_dump(mode="json"),
    }


# the guarded app's stages as it declares them: what each produces (what a stale fault
# replays) and what a wrong_output mode means there (in-process or at its HTTP dependency)
DEMO_STAGES = (
    StageInfo("input_filter", ("reply", "done"), ("flip", "allow"), cuts="input"),
    StageInfo("retrieval", ("documents",), ("poison", "empty")),
    StageInfo("prompt", ("prompt",), ()),
    StageInfo("model", ("reply", "tokens", "error", "done"), ("replace",)),
    StageInfo("output_filter", ("reply",), ("allow",), cuts="output"),
)


def _start_demo(scenario: Any, model: str, seed: int | None) -> System:
    spec = scenario.system if scenario is not None else SystemSpec()
    return start_guarded_app(spec, model, seed)


DEMO = register("pipeline", "demo",
                Pipeline("demo", DEMO_STAGES, _start_demo, takes_system=True),
                params=SystemSpec, description="the guarded assistant app (a cascade "
                "scenario's `system:` block says how it is assembled)")
