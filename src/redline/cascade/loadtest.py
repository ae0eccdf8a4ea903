"""`redline load`: build the system under test, ramp it clean and (with --faults) faulted.

Targets:

* `demo` (default): the guarded assistant app, its model a capacity-limited stand-in served
  over HTTP behind a fault proxy (`--model-capacity` slots of `--model-ms` each, like a model
  server with a fixed batch size), with a circuit breaker and fallback around the model
  unless `--no-breaker`. Faults name the app's stages.
* `pipeline:FILE` or `pipeline:NAME`: a declared pipeline, or a registered one; faults name
  its stages.
* any other target spec (`openai:URL#MODEL`, `http:URL`, `python:MOD:FN`, `local`, ...):
  faults name the stage `target`; for HTTP targets they go through a fault proxy in front of
  the URL, for the others they wrap the call in-process (latency, error, timeout, down).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from redline.cascade.experiment import serve_request
from redline.cascade.load import (
    LOAD_SETTINGS,
    Driver,
    FaultArg,
    LevelStats,
    Ramp,
    Sample,
    ramp,
)
from redline.cascade.schema import Probe
from redline.core.config import JudgeConfig
from redline.core.errors import UsageError
from redline.core.models import Message, TargetRequest
from redline.demo.settings import BreakerSpec, SystemSpec
from redline.evidence.credentials import Masker, spec_masker
from redline.pipeline.declared import choose_pipeline
from redline.pipeline.loopback import LoopbackServer, stop_all
from redline.pipeline.proxy import FaultProxy
from redline.pipeline.system import System, start_guarded_app
from redline.pipeline.trace import REQUEST
from redline.plugins.faults import TARGET_KINDS, ArmedFault, FaultyTarget
from redline.plugins.targets.base import Target

IN_PROCESS_KINDS = TARGET_KINDS


@dataclass
class LoadOptions:
    target: str = "demo"
    levels: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16])
    per_worker: int = 10
    duration_s: float | None = None
    timeout_s: float = 5.0
    seed: int = 0
    faults: list[FaultArg] = field(default_factory=list)
    faulted_only: bool = False
    model: str = "stand-in"
    model_capacity: int | None = 4
    model_ms: float = 50.0
    model_timeout_ms: float = 250.0
    breaker: bool = True
    probes: list[Probe] | None = None
    judge: JudgeConfig | None = None  # an LLM judge over the replies, as in a scan
    rate_limit: float | None = None  # requests per second across all workers, as in a scan


@dataclass
class LoadResult:
    target: str
    description: dict[str, Any]
    options: dict[str, Any]
    ramps: list[Ramp]
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "system": self.description, "options": self.options,
                "ramps": [r.to_dict() for r in self.ramps], "wall_s": round(self.wall_s, 3)}


def system_driver(system: System, timeout_s: float) -> Driver:
    state = {"app": system.app()}

    async def send(index: int, probe: Probe) -> Any:
        return await serve_request(state["app"], probe.text, index, timeout_s)

    def arm(faults: list[ArmedFault]) -> None:
        state["app"] = system.app(*faults)

    def disarm() -> None:
        system.rollback()
        state["app"] = system.app()

    return Driver(send, system.canaries, system.system_prompt, system.breaker,
                  system.description, arm, disarm)


def target_driver(target: Target, timeout_s: float, faulty: FaultyTarget | None,
                  proxy: FaultProxy | None, mask: Masker | None = None) -> Driver:
    sender = faulty or target

    async def send(index: int, probe: Probe) -> Any:
        token = REQUEST.set(index)
        started = time.perf_counter()
        deadline = asyncio.timeout(timeout_s)
        try:
            async with deadline:
                resp = await sender.send(TargetRequest((Message("user", probe.text),), str(index)))
            if mask is not None:  # the run's own credentials never reach the evidence
                resp = mask.response(resp)
            reply, error = (resp.text, None) if resp.ok else (None, f"target error: {resp.error}")
            trace = list(resp.meta.get("trace", []))
        except TimeoutError:
            if not deadline.expired():
                raise
            reply, error, trace = None, f"504 Gateway Timeout: no reply within {timeout_s:g} s", []
        except Exception as exc:
            reply, error, trace = None, f"500 Internal Server Error: {type(exc).__name__}", []
        finally:
            REQUEST.reset(token)
        return reply, error, trace, (time.perf_counter() - started) * 1000

    def arm(faults: list[ArmedFault]) -> None:
        if any(f.stage != "target" for f in faults):
            raise UsageError("faults on this target name the stage 'target' "
                             "(e.g. target:latency:latency_ms=50)")
        if proxy is not None:
            for f in faults:
                proxy.arm(f)
        elif faulty is not None:
            bad = [f.spec.kind for f in faults if f.spec.kind not in IN_PROCESS_KINDS]
            if bad:
                raise UsageError(f"in-process target faults can be {list(IN_PROCESS_KINDS)}, "
                                 f"not {bad}; use an http or openai target for the others")
            faulty.faults = list(faults)

    def disarm() -> None:
        if proxy is not None:
            proxy.disarm()
        if faulty is not None:
            faulty.faults = []

    return Driver(send, tuple(target.canaries), target.system_prompt, None, target.describe(),
                  arm, disarm)


def demo_spec(opts: LoadOptions) -> SystemSpec:
    breaker = BreakerSpec(failures=5, open_for_calls=None, open_for_s=0.25)
    return SystemSpec(remote=["model"], timeout_ms={"model": opts.model_timeout_ms},
                      breaker=breaker if opts.breaker else None, fallback=opts.breaker)


def _proxy_target(config: Any, shape: str) -> tuple[Any, FaultProxy]:
    url = config.base_url if hasattr(config, "base_url") else config.url
    parts = urlsplit(url)
    proxy = FaultProxy("target", f"{parts.scheme}://{parts.netloc}", shape).start()  # type: ignore[arg-type]
    proxied = proxy.url + parts.path + (f"?{parts.query}" if parts.query else "")
    key = "base_url" if hasattr(config, "base_url") else "url"
    return config.model_copy(update={key: proxied}), proxy


@asynccontextmanager
async def open_driver(opts: LoadOptions):
    """The Driver for `opts.target`; everything it started is stopped on exit."""
    if opts.target == "demo" or opts.target.startswith("pipeline:"):
        if opts.target == "demo":
            system = await asyncio.to_thread(start_guarded_app, demo_spec(opts), opts.model,
                                             opts.seed, opts.model_capacity, opts.model_ms)
        else:  # a declared pipeline (a file) or a registered one (a name)
            chosen = choose_pipeline(opts.target.split(":", 1)[1])
            system = await asyncio.to_thread(chosen.start, None, opts.model, opts.seed)
        try:
            yield system_driver(system, opts.timeout_s)
        finally:
            await system.aclose()
        return
    from redline.core.config import parse_target
    from redline.plugins.targets.spec import HttpConfig, OpenAIConfig, build_target

    config = parse_target(opts.target)
    mask = spec_masker(opts.target)
    proxy = faulty = None
    servers: list[LoopbackServer] = []
    if opts.faults and isinstance(config, OpenAIConfig | HttpConfig):
        config, proxy = _proxy_target(config, "chat" if isinstance(config, OpenAIConfig)
                                      else "generic")
        assert proxy.server is not None
        servers.append(proxy.server)
    target = build_target(config, seed=opts.seed)
    if opts.faults and proxy is None:
        faulty = FaultyTarget(target)
    try:
        yield target_driver(target, opts.timeout_s, faulty, proxy, mask)
    finally:
        await target.aclose()
        stop_all(servers)


def ramp_names(opts: LoadOptions) -> list[str]:
    """The ramps a load run makes: clean (unless --faulted-only), then faulted (with faults)."""
    return (["clean"] if not opts.faulted_only or not opts.faults else []) + \
        (["faulted"] if opts.faults else [])


def options_record(opts: LoadOptions) -> dict[str, Any]:
    options: dict[str, Any] = {
        "levels": opts.levels, "per_worker": opts.per_worker, "duration_s": opts.duration_s,
        "timeout_s": opts.timeout_s, "seed": opts.seed, "faults": [f.text for f in opts.faults]}
    if opts.target == "demo":
        options.update(model=opts.model, model_capacity=opts.model_capacity,
                       model_ms=opts.model_ms, model_timeout_ms=opts.model_timeout_ms,
                       breaker=opts.breaker)
    if opts.rate_limit is not None:
        options["rate_limit"] = opts.rate_limit
    if opts.judge is not None:
        options["judge"] = {"model": opts.judge.model, "style": opts.judge.style,
                            "mode": opts.judge.mode}
    return options


async def run_load(opts: LoadOptions,
                   on_level: Callable[[str, LevelStats], None] | None = None,
                   on_start: Callable[[dict[str, Any]], None] | None = None,
                   on_sample: Callable[[Sample], None] | None = None) -> LoadResult:
    """Every ramp of `opts`; `on_start` gets the system's description before the first
    request, `on_sample` every judged request as it completes (the store's writer)."""
    from redline.core.scan import judge_from

    started = time.perf_counter()
    llm = judge_from(opts.judge)
    settings = replace(LOAD_SETTINGS, rate_limit=opts.rate_limit)
    try:
        async with open_driver(opts) as driver:
            if on_start is not None:
                on_start(driver.description)
            ramps: list[Ramp] = []
            for name in ramp_names(opts):
                faults = opts.faults if name == "faulted" else None
                start = sum(len(r.samples) for r in ramps)
                ramps.append(await ramp(driver, name, opts.levels, opts.per_worker, opts.seed,
                                        opts.probes, faults, start, on_level=on_level,
                                        duration_s=opts.duration_s, on_sample=on_sample,
                                        judge=llm, settings=settings))
            description = driver.description
    finally:
        if llm is not None:
            await llm.aclose()
    return LoadResult(opts.target, description, options_record(opts), ramps,
                      time.perf_counter() - started)


def print_ramp(console: Any, r: Ramp) -> None:
    from rich.table import Table

    title = f"{r.name} ramp" + (f" (faults: {', '.join(r.faults)})" if r.faults else "")
    table = Table(title=title, title_justify="left")
    for col in ("conc", "reqs", "p50 ms", "p95 ms", "p99 ms", "req/s", "good/s", "err",
                "fallback", "breach", "opens"):
        table.add_column(col, justify="right")
    knee = r.knee.get("knee")
    for lv in r.levels:
        mark = "*" if lv.concurrency == knee else ""
        table.add_row(f"{lv.concurrency}{mark}", str(lv.requests), f"{lv.p50_ms:.1f}",
                      f"{lv.p95_ms:.1f}", f"{lv.p99_ms:.1f}", f"{lv.throughput_rps:.1f}",
                      f"{lv.goodput_rps:.1f}", f"{lv.error_rate:.0%}", str(lv.degraded),
                      f"[red]{lv.breaches}[/]" if lv.breaches else "0", str(lv.breaker_opens))
    console.print(table)
    if knee is None:
        console.print(f"  knee: none ({r.knee.get('reason')})")
    else:
        s = r.knee["sudden"]
        console.print(f"  knee (*) at concurrency {knee}: from {s['from']} to {s['to']} p95 x"
                      f"{s['p95_x']}, goodput x{s['goodput_x']} ({r.knee['reason']})")
