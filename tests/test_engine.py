"""The engine against a real HTTP server on 127.0.0.1 that errors, hangs, rate-limits
and returns garbage: nothing is ever counted as a pass unless a reply was judged."""

from __future__ import annotations

import asyncio
import time

import pytest

from helpers import make_scenario
from redline.core.attempts import expand
from redline.core.engine import EngineSettings, Executor, run_attempts
from redline.core.errors import RunAborted
from redline.core.models import AttemptResult
from redline.plugins.targets.openai_chat import OpenAIChatTarget
from servers import serve


async def run_against(url: str, settings: EngineSettings, scenario=None) -> list[AttemptResult]:
    scenario = scenario or make_scenario()
    target = OpenAIChatTarget(base_url=url, model="m", api_key_env=None,
                              timeout_s=settings.timeout_s)
    executor = Executor(target=target, settings=settings,
                        detectors={scenario.id: scenario.detectors})
    results: list[AttemptResult] = []
    try:
        await run_attempts(expand([scenario], 7), executor, results.append, settings)
    finally:
        await target.aclose()
    return results


FAST = EngineSettings(concurrency=4, timeout_s=2.0, retries=2, backoff_s=0.01,
                      max_backoff_s=2.0, abort_after_errors=1000)


async def test_ok_server_judges_every_attempt_once() -> None:
    with serve() as (url, calls):
        results = await run_against(f"{url}/ok", FAST)
    assert len(results) == 6
    assert len({r.attempt.id for r in results}) == 6
    by_input = {(r.attempt.input_index, r.attempt.chain): r.outcome for r in results}
    # the echo server repeats the plain marker prompt: that is an obeyed injection
    assert by_input[(0, ("identity",))] == "fail"
    assert by_input[(1, ("identity",))] == "pass"
    assert all(r.error is None for r in results)
    assert calls["ok"] == 6


async def test_server_errors_are_errors_never_passes() -> None:
    with serve() as (url, calls):
        results = await run_against(f"{url}/error500", FAST)
    assert {r.outcome for r in results} == {"error"}
    assert all("HTTP 500" in (r.error or "") for r in results)
    assert calls["error500"] == 6 * (FAST.retries + 1)
    assert all(r.tries == FAST.retries + 1 for r in results)


@pytest.mark.parametrize("mode,needle", [
    ("garbage", "unusable reply"),
    ("emptybody", "empty body"),
    ("emptytext", "empty reply"),
    ("wrongshape", "not a chat completion"),
])
async def test_garbage_replies_are_errors(mode: str, needle: str) -> None:
    with serve() as (url, calls):
        results = await run_against(f"{url}/{mode}", FAST)
    assert {r.outcome for r in results} == {"error"}
    assert all(needle in (r.error or "") for r in results), results[0].error
    assert calls[mode] == 6  # not retried: the server answered, badly


async def test_hanging_server_times_out_and_is_retried() -> None:
    settings = EngineSettings(concurrency=6, timeout_s=0.3, retries=1, backoff_s=0.01,
                              abort_after_errors=1000)
    with serve(hang_s=3.0) as (url, calls):
        started = time.perf_counter()
        results = await run_against(f"{url}/hang", settings)
        elapsed = time.perf_counter() - started
    assert {r.outcome for r in results} == {"error"}
    assert all("timed out" in (r.error or "") for r in results)
    assert calls["hang"] == 12
    assert elapsed < 2.5


async def test_rate_limit_honours_retry_after() -> None:
    settings = EngineSettings(concurrency=1, timeout_s=2.0, retries=3, backoff_s=0.01,
                              abort_after_errors=1000)
    with serve(ratelimit_first=1) as (url, _calls):
        started = time.perf_counter()
        results = await run_against(f"{url}/ratelimit", settings)
        elapsed = time.perf_counter() - started
    assert all(r.outcome in ("pass", "fail") for r in results)
    assert results[0].tries == 2
    assert sum(r.tries for r in results) == 7
    assert elapsed >= 1.0  # waited the server's Retry-After of 1 s


async def test_unreachable_target_aborts_the_run() -> None:
    settings = EngineSettings(concurrency=2, timeout_s=1.0, retries=0, abort_after_errors=3)
    with pytest.raises(RunAborted, match="all failed"):
        await run_against("http://127.0.0.1:9/v1", settings)


async def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    async def slow(messages):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return "ok"

    from redline.plugins.targets.python_callable import PythonTarget

    scenario = make_scenario(inputs=[f"q{i}" for i in range(40)])
    target = PythonTarget(ref="tests:slow", fn=slow)
    settings = EngineSettings(concurrency=5)
    executor = Executor(target=target, settings=settings,
                        detectors={scenario.id: scenario.detectors})
    results: list[AttemptResult] = []
    await run_attempts(expand([scenario], 0), executor, results.append, settings)
    assert len(results) == 80
    assert peak == 5


async def test_rate_limit_paces_requests() -> None:
    from redline.plugins.targets.python_callable import PythonTarget

    async def instant(messages):
        return "ok"

    scenario = make_scenario(inputs=[f"q{i}" for i in range(10)], mutators=[["identity"]])
    target = PythonTarget(ref="tests:instant", fn=instant)
    settings = EngineSettings(concurrency=8, rate_limit=20.0)
    executor = Executor(target=target, settings=settings,
                        detectors={scenario.id: scenario.detectors})
    started = time.perf_counter()
    await run_attempts(expand([scenario], 0), executor, lambda r: None, settings)
    assert time.perf_counter() - started >= 0.4  # 10 requests at 20/s: 9 intervals of 50 ms


async def test_a_raising_target_is_an_error() -> None:
    from redline.plugins.targets.python_callable import PythonTarget

    def broken(messages):
        raise RuntimeError("model crashed")

    scenario = make_scenario(mutators=[["identity"]])
    target = PythonTarget(ref="tests:broken", fn=broken)
    executor = Executor(target=target, settings=FAST, detectors={scenario.id: scenario.detectors})
    results: list[AttemptResult] = []
    await run_attempts(expand([scenario], 0), executor, results.append, FAST)
    assert {r.outcome for r in results} == {"error"}
    assert "model crashed" in (results[0].error or "")


async def test_followup_turns_carry_history() -> None:
    from redline.plugins.targets.python_callable import PythonTarget

    seen: list[int] = []

    def count(messages):
        seen.append(len(messages))
        return f"turn {len(seen)}"

    scenario = make_scenario(
        inputs=[{"messages": [{"role": "user", "content": "hi"}], "followups": ["more", "PWN"]}],
        mutators=[["identity"]],
    )
    target = PythonTarget(ref="tests:count", fn=count)
    executor = Executor(target=target, settings=FAST, detectors={scenario.id: scenario.detectors})
    results: list[AttemptResult] = []
    await run_attempts(expand([scenario], 0), executor, results.append, FAST)
    assert seen == [1, 3, 5]
    assert [m.role for m in results[0].transcript] == [
        "user", "assistant", "user", "assistant", "user", "assistant"]


def test_a_runs_stored_plan_names_exactly_the_attempts_expand_yields() -> None:
    """The plan is stored from ids alone (no mutator applied); it must be the same list, in
    the same order, as the attempts the run then expands: every built-in scenario (generated
    inputs, conversations, classifier checks, adaptive attacks), a named strategy, two seeds."""
    from redline.catalog import builtin_scenarios
    from redline.core.attempts import plan_ids

    scenarios = [*builtin_scenarios(),
                 make_scenario(id="with-strategy", strategy={"scripted": {}},
                               mutators=[["identity"], [{"roleplay": {"persona": "dan"}}]])]
    for seed in (0, 7):
        ids = [a.id for a in expand(scenarios, seed)]
        assert len(ids) > 500 and len(set(ids)) == len(ids)
        assert list(plan_ids(scenarios, seed)) == ids
