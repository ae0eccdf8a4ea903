"""Declared pipelines: a target made of named stages, each a Python callable or an HTTP service.

    name: my-assistant
    canaries: [SECRET-123]            # secrets its leaks are judged against
    system_prompt: "..."              # optional, for the system-prompt leak detector
    stages:
      - {name: input_filter, python: "redline.demo.pipeline:input_filter"}
      - {name: retrieval, http: "http://127.0.0.1:9001/retrieve", timeout_s: 2, on_error: skip}
      - {name: prompt, python: "redline.demo.pipeline:build_prompt"}
      - {name: model, python: "redline.demo.stand_in:model_stage", params: {}}
      - {name: output_filter, python: "redline.demo.pipeline:output_filter",
         outputs: [reply], wrong_modes: [allow]}

A Python stage is `async def stage(turn: Turn) -> Turn` (or sync); with `params` the
callable is a factory, called once with them, that returns the stage. An HTTP stage receives
the turn as JSON and answers with the fields it changes:

    POST {"stage", "user_text", "history", "documents", "prompt", "reply"}
      -> {"reply"?, "documents"?, "done"?, "error"?, "action"?, "detail"?}

On a transport error, a time-out or a bad reply, `on_error: fail` (default) ends the request
with an error and `skip` logs the error and goes on. Cascade experiments put a fault proxy in
front of every HTTP stage, and wrap Python stages in-process. The stages are the pipeline's
own: a cascade scenario run against it (`redline chaos --pipeline FILE`) must name one of
them, and a stage's optional `outputs` and `wrong_modes` say what a `stale` or `wrong_output`
fault can do there.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from redline.catalog.schema import Strict
from redline.core import registry
from redline.core.errors import UsageError
from redline.core.models import Message
from redline.core.yamlfile import load_model
from redline.demo.data import Document
from redline.demo.pipeline import Stage, Turn
from redline.pipeline.loopback import stop_all
from redline.pipeline.proxy import FaultProxy
from redline.pipeline.stages import Cuts, Pipeline, StageInfo
from redline.pipeline.system import System
from redline.pipeline.trace import traced_client
from redline.plugins.fault_spec import WrongMode
from redline.plugins.targets.http_client import HttpClient, HTTPError, Timeout
from redline.plugins.targets.python_callable import import_callable

TurnField = Literal["reply", "documents", "prompt", "tokens", "error", "done"]


class StageDecl(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    python: str | None = None
    params: dict[str, Any] | None = None
    http: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=600)
    on_error: Literal["fail", "skip"] = "fail"
    outputs: list[TurnField] = Field(
        default_factory=list, description="turn fields it produces (what a stale fault replays)")
    wrong_modes: list[WrongMode] | None = Field(
        None, description="wrong_output modes that apply here (default: every one)")
    cuts: Cuts = Field("outputs", description="what a partial fault cuts: the message the "
                       "stage reads (input), the reply through it (output), or its outputs")

    @model_validator(mode="after")
    def _one_kind(self) -> StageDecl:
        if (self.python is None) == (self.http is None):
            raise ValueError("give exactly one of 'python' or 'http'")
        if self.http is not None and not self.http.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {self.http!r}")
        return self


class PipelineSpec(Strict):
    name: str = Field(min_length=1)
    canaries: list[str] = Field(default_factory=list)
    system_prompt: str | None = None
    stages: list[StageDecl] = Field(min_length=1)

    @field_validator("stages")
    @classmethod
    def _unique(cls, v: list[StageDecl]) -> list[StageDecl]:
        names = [s.name for s in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate stage names {dupes}")
        return v


def load_pipeline(path: Path) -> PipelineSpec:
    return load_model(PipelineSpec, path)


def declared(spec: PipelineSpec, label: str) -> Pipeline:
    """A declared pipeline as cascade scenarios are checked against and runs start it."""
    stages = tuple(StageInfo(d.name, tuple(d.outputs),
                             tuple(d.wrong_modes) if d.wrong_modes is not None else None, d.cuts)
                   for d in spec.stages)
    return Pipeline(spec.name, stages, lambda scenario, model, seed: start_pipeline(spec),
                    label)


def python_stage(decl: StageDecl) -> Stage:
    assert decl.python is not None
    fn = import_callable(decl.python)
    if decl.params is not None:
        fn = fn(**decl.params)
    if inspect.iscoroutinefunction(fn):
        return fn

    async def call(turn: Turn) -> Turn:
        out = fn(turn)
        return await out if inspect.isawaitable(out) else out

    return call


def turn_json(name: str, turn: Turn) -> dict[str, Any]:
    return {"stage": name, "user_text": turn.user_text,
            "history": [m.to_dict() for m in turn.history],
            "documents": [d.__dict__ for d in turn.documents],
            "prompt": [m.to_dict() for m in turn.prompt], "reply": turn.reply}


def apply_reply(name: str, turn: Turn, data: Any) -> str | None:
    """Merge an HTTP stage's reply into the turn; the reason it is unusable, or None."""
    if not isinstance(data, dict):
        return "reply is not a JSON object"
    if "reply" in data and data["reply"] is not None and not isinstance(data["reply"], str):
        return "'reply' must be text"
    docs = data.get("documents")
    if docs is not None:
        if not (isinstance(docs, list) and all(
                isinstance(d, dict) and all(isinstance(d.get(k), str)
                                            for k in ("id", "title", "text")) for d in docs)):
            return "'documents' must be a list of {id, title, text}"
        turn.documents = [Document(d["id"], d["title"], d["text"]) for d in docs]
    if "reply" in data:
        turn.reply = data["reply"]
    if data.get("error"):
        turn.error, turn.done = f"{name}: {data['error']}", True
    turn.done = turn.done or bool(data.get("done"))
    turn.log(name, str(data.get("action") or ("error" if data.get("error") else "pass")),
             str(data.get("detail") or ""))
    return None


def http_stage(decl: StageDecl, url: str, client: HttpClient) -> Stage:
    async def call(turn: Turn) -> Turn:
        why = None
        try:
            resp = await client.request("POST", url, json=turn_json(decl.name, turn),
                                        timeout_s=decl.timeout_s)
            if resp.status_code != 200:
                why = f"HTTP {resp.status_code}"
            else:
                why = apply_reply(decl.name, turn, resp.json())
        except Timeout:
            why = f"timed out after {decl.timeout_s:g} s"
        except (HTTPError, OSError, ValueError) as exc:
            why = f"{type(exc).__name__}: {exc}"[:200]
        if why is not None:
            turn.log(decl.name, "error", why)
            if decl.on_error == "fail":
                turn.error, turn.done = f"{decl.name}: {why}", True
        return turn

    return call


def _proxied(decl: StageDecl, system: System) -> Stage:
    assert decl.http is not None
    parts = urlsplit(decl.http)
    proxy = FaultProxy(decl.name, f"{parts.scheme}://{parts.netloc}").start()
    assert proxy.server is not None
    system.servers.append(proxy.server)
    system.proxies[decl.name] = proxy
    client = traced_client(decl.timeout_s)
    system.clients.append(client)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return http_stage(decl, proxy.url + path, client)


def start_pipeline(spec: PipelineSpec) -> System:
    """The declared pipeline as a running system, a fault proxy before each HTTP stage."""
    system = System(name=f"pipeline {spec.name!r}", stages=[], canaries=tuple(spec.canaries),
                    system_prompt=spec.system_prompt, declared=declared(spec, spec.name))
    try:
        system.stages = [(d.name, python_stage(d) if d.python else _proxied(d, system))
                         for d in spec.stages]
    except BaseException:
        stop_all(system.servers)
        raise
    system.description = {"kind": "pipeline", "name": spec.name,
                           "stages": [d.model_dump(exclude_none=True) for d in spec.stages]}
    return system


async def run_pipeline(spec: PipelineSpec, text: str) -> Turn:
    """Serve one message through a declared pipeline (handy for checking a pipeline file)."""
    system = await asyncio.to_thread(start_pipeline, spec)
    try:
        return await system.app().handle([Message("user", text)])
    finally:
        await system.aclose()


def choose_pipeline(ref: str | Path | None) -> Pipeline:
    """The pipeline a run names: None, the guarded demo app; a YAML file, a declared pipeline
    (`redline.pipeline.declared`); otherwise a registered `pipeline` plugin by name."""
    if ref is None:
        ref = "demo"
    if Path(ref).is_file():
        return declared(load_pipeline(Path(ref)), f"pipeline:{ref}")
    try:
        chosen = registry.get("pipeline", str(ref)).obj
    except registry.UnknownPlugin as exc:
        raise UsageError(f"--pipeline {str(ref)!r} is neither a pipeline file nor a registered "
                         f"pipeline: {exc}") from None
    assert isinstance(chosen, Pipeline)
    return chosen
