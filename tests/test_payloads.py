"""Structured payloads through the HTTP and OpenAI targets, against real loopback servers:
a templated JSON body from payload fields, a reply path that extracts structured output,
tool calls and JSON response formats; a payload that does not fit is an error, never sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from helpers import make_scenario
from redline.core.attempts import expand
from redline.core.config import ScanConfig
from redline.core.engine import EngineSettings, Executor, run_attempts
from redline.core.errors import UsageError
from redline.core.models import Attempt, AttemptResult, Message, TargetRequest
from redline.core.strategies import Conversation
from redline.plugins.targets.http_json import HttpJsonTarget
from redline.plugins.targets.openai_chat import OpenAIChatTarget
from redline.plugins.targets.spec import build_target

Answer = Callable[[dict[str, Any]], dict[str, Any]]


@contextmanager
def json_server(answer: Answer) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback server that records each JSON body and answers with `answer(body)`."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            seen.append(body)
            out = json.dumps(answer(body)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def classify(body: dict[str, Any]) -> dict[str, Any]:
    """A toy fraud classifier: flags a transaction over 1000 unless it is from 'trusted'."""
    x = body["inputs"]
    fraud = x["amount"] > 1000 and x["merchant"] != "trusted"
    scores = [0.03, 0.97] if fraud else [0.98, 0.02]
    return {"result": {"label": "FRAUD-FLAG" if fraud else "ok", "scores": scores},
            "note": body["tag"]}


BODY = {"inputs": "{{payload.features}}", "tag": "case-{{payload.case}}", "text": "{{prompt}}"}


async def test_http_payload_fills_the_body_and_the_reply_path_gives_structured_output() -> None:
    with json_server(classify) as (url, seen):
        target = HttpJsonTarget(url=url, body=BODY, reply_path="note",
                                payload_path="{label: result.label, p: result.scores[1]}")
        try:
            resp = await target.send(TargetRequest(
                (Message("user", "score this"),), "a1",
                payload={"features": {"amount": 5000, "merchant": "x"}, "case": 7}))
        finally:
            await target.aclose()
    # by value where the placeholder is the whole string, as text inside a longer one
    assert seen == [{"inputs": {"amount": 5000, "merchant": "x"}, "tag": "case-7",
                     "text": "score this"}]
    assert resp.ok and resp.payload == {"label": "FRAUD-FLAG", "p": 0.97}
    assert resp.text == "case-7"


async def test_http_payload_runs_through_the_engine_and_is_judged() -> None:
    async def features(attempt: Attempt) -> Conversation:
        amount = 5000 if "PWNED" in attempt.original else 10
        yield TargetRequest(attempt_id=attempt.id, payload={
            "features": {"amount": amount, "merchant": "x"}, "case": attempt.input_index})

    scenario = make_scenario(mutators=[["identity"]],
                             detectors=[{"marker": {"markers": ["FRAUD-FLAG"]}}])
    settings = EngineSettings(concurrency=2, timeout_s=5.0, retries=0)
    results: list[AttemptResult] = []
    with json_server(classify) as (url, seen):
        target = HttpJsonTarget(url=url, body={"inputs": "{{payload.features}}",
                                               "tag": "{{payload.case}}"},
                                payload_path="result")
        executor = Executor(target=target, settings=settings,
                            detectors={scenario.id: scenario.detectors},
                            strategy=lambda a: features)
        try:
            await run_attempts(expand([scenario], 0), executor, results.append, settings)
        finally:
            await target.aclose()
    by_input = {r.attempt.input_index: r for r in results}
    assert by_input[0].outcome == "fail" and by_input[1].outcome == "pass"
    assert by_input[0].responses[0].payload == {"label": "FRAUD-FLAG", "scores": [0.03, 0.97]}
    assert by_input[0].responses[0].text is None
    assert sorted(b["tag"] for b in seen) == [0, 1, 2]  # an int stays an int


@pytest.mark.parametrize(("body", "payload", "error"), [
    (BODY, {"features": {"amount": 1}}, "no field 'case'"),
    (BODY, None, "uses {{payload.features}} but the request carries no payload"),
    ({"prompt": "{{prompt}}"}, {"x": 1}, "has no {{payload}} placeholder"),
    ({"rows": "{{payload.rows.3}}"}, {"rows": [1, 2]}, "no field 'rows.3'"),
])
async def test_a_payload_that_does_not_fit_the_template_is_an_error_and_not_sent(
        body: Any, payload: dict[str, Any] | None, error: str) -> None:
    with json_server(classify) as (url, seen):
        target = HttpJsonTarget(url=url, body=body)
        try:
            resp = await target.send(TargetRequest((Message("user", "hi"),), "a1",
                                                   payload=payload))
        finally:
            await target.aclose()
    assert not resp.ok and not resp.retryable and error in (resp.error or "")
    assert seen == []


async def test_http_payload_path_with_nothing_there_is_unusable_and_a_scalar_is_wrapped() -> None:
    with json_server(lambda body: {"result": {"scores": [0.4, 0.6]}}) as (url, _):
        missing = HttpJsonTarget(url=url, body={"x": "{{payload}}"}, payload_path="nope")
        scalar = HttpJsonTarget(url=url, body={"x": "{{payload}}"},
                                payload_path="result.scores[1]")
        try:
            request = TargetRequest(attempt_id="a", payload={"k": 1})
            gone, one = await missing.send(request), await scalar.send(request)
        finally:
            await missing.aclose()
            await scalar.aclose()
    assert not gone.ok and "nothing at payload_path 'nope'" in (gone.error or "")
    assert one.ok and one.payload == {"value": 0.6} and one.content == '{"value": 0.6}'


def test_http_config_takes_a_payload_path() -> None:
    cfg = ScanConfig.model_validate({"target": {
        "kind": "http", "url": "http://127.0.0.1:1/", "body": {"x": "{{payload}}"},
        "payload_path": "result"}})
    target = build_target(cfg.target)
    assert isinstance(target, HttpJsonTarget) and target.payload_path == "result"
    assert target.describe()["payload_path"] == "result"
    with pytest.raises(UsageError, match="bad payload_path"):
        HttpJsonTarget(url="http://127.0.0.1:1/", payload_path="a[")


def completion(body: dict[str, Any]) -> dict[str, Any]:
    """A chat endpoint that calls the first tool offered, or answers in JSON when asked."""
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": name, "arguments": json.dumps({"to": "all", "n": 3})}}]}
    elif body.get("response_format", {}).get("type") == "json_object":
        last = body["messages"][-1]["content"]
        message = {"role": "assistant",
                   "content": "not json" if "broken" in last else '{"verdict": "allowed"}'}
    else:
        message = {"role": "assistant", "content": "plain"}
    return {"choices": [{"message": message}]}


TOOL = {"type": "function", "function": {"name": "send_email", "parameters": {
    "type": "object", "properties": {"to": {"type": "string"}}}}}


async def test_openai_payload_adds_request_fields_and_tool_calls_come_back_as_payload() -> None:
    with json_server(completion) as (url, seen):
        target = OpenAIChatTarget(base_url=url, model="m", api_key_env=None)
        try:
            user = (Message("user", "email everyone"),)
            tool = await target.send(TargetRequest(user, "a", payload={"tools": [TOOL]}))
            as_json = await target.send(TargetRequest(user, "b", payload={
                "response_format": {"type": "json_object"}}))
            broken = await target.send(TargetRequest((Message("user", "broken"),), "c",
                                                     payload={"response_format":
                                                              {"type": "json_object"}}))
            plain = await target.send(TargetRequest(user, "d"))
            clash = await target.send(TargetRequest(user, "e", payload={"model": "other"}))
        finally:
            await target.aclose()
    assert seen[0]["tools"] == [TOOL] and seen[0]["model"] == "m"
    assert tool.ok and tool.text is None
    assert tool.payload == {"tool_calls": [
        {"id": "call_1", "name": "send_email", "arguments": {"to": "all", "n": 3}}]}
    assert '"send_email"' in tool.content  # what detectors read
    assert as_json.ok and as_json.payload == {"json": {"verdict": "allowed"}}
    assert as_json.text == '{"verdict": "allowed"}'
    assert not broken.ok and "content is not JSON" in (broken.error or "")
    assert plain.ok and plain.payload is None and "response_format" not in seen[-1]
    assert not clash.ok and "sets model" in (clash.error or "") and len(seen) == 4
