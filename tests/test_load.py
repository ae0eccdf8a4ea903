"""Load ramps: percentiles, the knee of a capacity-limited target, faults, the store, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from redline.analysis.latency import percentile, percentiles
from redline.cascade.load import (
    LevelStats,
    doubling,
    find_knee,
    parse_fault,
    ramp,
)
from redline.cascade.loadtest import FaultyTarget, LoadOptions, run_load, target_driver
from redline.cascade.record import store_load
from redline.core.errors import UsageError
from redline.demo.stand_in import SlottedTarget
from redline.plugins.targets.python_callable import PythonTarget
from redline.plugins.targets.toys import echo
from redline.store import Store
from servers import serve


def redline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "redline", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def test_percentiles() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentiles([1.0, 2.0, 3.0]) == {"p50": 2.0, "p95": 2.9, "p99": 2.98}


def level(c: int, goodput: float, p95: float, error_rate: float = 0.0) -> LevelStats:
    return LevelStats(c, 100, 100, 0, 0, 0, 1.0, p95 / 2, p95, p95 * 1.2, goodput, goodput,
                      error_rate, 0)


def test_find_knee_on_synthetic_levels() -> None:
    knee = find_knee([level(1, 100, 10), level(2, 200, 10), level(4, 390, 11),
                      level(8, 400, 20), level(16, 400, 40)])
    assert knee["knee"] == 4 and knee["sudden"]["p95_x"] == pytest.approx(20 / 11, rel=1e-3)
    assert find_knee([level(1, 100, 10), level(2, 199, 10)])["knee"] is None
    errors = find_knee([level(1, 100, 10), level(2, 200, 10, error_rate=0.3)])
    assert errors["knee"] == 1 and "error rate" in errors["reason"]
    assert doubling(16) == [1, 2, 4, 8, 16] and doubling(12) == [1, 2, 4, 8, 12]


def test_parse_fault() -> None:
    f = parse_fault("model:latency:latency_ms=40,fraction=0.5")
    assert f.stage == "model" and f.spec.latency_ms == 40 and f.schedule.fraction == 0.5
    assert parse_fault("input_filter:wrong_output:mode=flip").spec.mode == "flip"
    for bad in ("model", "model:gremlins", "model:latency", "model:error:fraction=2",
                "model:error:oops"):
        with pytest.raises(UsageError):
            parse_fault(bad)


async def test_ramp_finds_the_knee_of_a_capacity_limited_target() -> None:
    slotted = SlottedTarget(PythonTarget(ref="toys:echo", fn=echo, inline=True), capacity=4,
                            service_s=0.01)
    driver = target_driver(slotted, 5.0, None, None)
    r = await ramp(driver, "clean", [1, 2, 4, 8, 16], per_worker=8, seed=0)
    by_c = {lv.concurrency: lv for lv in r.levels}
    assert r.knee["knee"] == 4, r.knee
    assert by_c[16].p95_ms > 2.5 * by_c[4].p95_ms  # queueing past the capacity
    assert by_c[16].throughput_rps < 1.3 * by_c[4].throughput_rps  # plateau
    assert all(lv.error_rate == 0 and lv.requests == lv.concurrency * 8 for lv in r.levels)


async def test_in_process_target_faults() -> None:
    target = PythonTarget(ref="toys:echo", fn=echo, inline=True)
    driver = target_driver(target, 5.0, FaultyTarget(target), None)
    r = await ramp(driver, "faulted", [2], per_worker=20, seed=0,
                   faults=[parse_fault("target:error:fraction=0.5")])
    assert 0.2 <= r.levels[0].error_rate <= 0.8
    with pytest.raises(UsageError, match="stage 'target'"):
        await ramp(driver, "x", [1], 1, 0, faults=[parse_fault("model:error")])


async def test_load_on_an_http_target_through_the_fault_proxy() -> None:
    with serve() as (url, calls):
        opts = LoadOptions(target=f"openai:{url}/ok#m", levels=[1, 2], per_worker=5,
                           faults=[parse_fault("target:error:status=503,fraction=0.5")])
        result = await run_load(opts)
    clean, faulted = result.ramps
    assert all(lv.errors == 0 for lv in clean.levels)
    assert sum(lv.errors for lv in faulted.levels) > 0
    served = sum(lv.requests - lv.errors for r in result.ramps for lv in r.levels)
    assert calls["ok"] == served + 2  # + one warm-up request per ramp


async def test_demo_breaker_and_fallback_are_visible_under_faults(tmp_path: Path) -> None:
    opts = LoadOptions(levels=[1, 4], per_worker=6, model_ms=2.0, model_timeout_ms=500,
                       faults=[parse_fault("model:error:fraction=0.7")])
    result = await run_load(opts)
    clean, faulted = result.ramps
    assert sum(lv.degraded for lv in clean.levels) == 0
    assert sum(lv.degraded for lv in faulted.levels) > 0  # fallbacks served
    assert sum(lv.breaker_opens for lv in faulted.levels) >= 1
    assert all(lv.breaches == 0 and lv.errors == 0 for r in result.ramps for lv in r.levels)
    store = Store(tmp_path / "r.db")
    try:
        run, code, findings, files = store_load(store, result, None, None, tmp_path / "out")
        assert int(code) == 0 and not findings
        rows = list(store.results(run.id))
        assert len(rows) == sum(lv.requests for r in result.ramps for lv in r.levels)
        assert {r["category"] for r in rows} == {"load"}
        assert {r["scenario_id"] for r in rows} == {"load-clean", "load-faulted"}
        assert run.summary["load"]["ramps"][1]["faults"] == ["model:error:fraction=0.7"]
        _, code, findings, _ = store_load(store, result, 0.001, None, tmp_path / "out")
        assert int(code) == 1 and "SLO" in findings[0]
    finally:
        store.close()
    assert json.loads(files["load"].read_text())["ramps"][0]["name"] == "clean"


def test_load_cli(tmp_path: Path) -> None:
    proc = redline("load", "--levels", "1,2", "--requests-per-worker", "3", "--model-ms", "2",
                   "--db", "r.db", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "clean ramp" in proc.stdout and "knee" in proc.stdout
    slow = redline("load", "--levels", "1", "--requests-per-worker", "3", "--model-ms", "2",
                   "--slo-p95-ms", "0.01", "--db", "r.db", "--out", "o", cwd=tmp_path)
    assert slow.returncode == 1 and "SLO" in slow.stdout
    shown = redline("runs", "show", "latest", "--db", "r.db", cwd=tmp_path)
    assert shown.returncode == 0 and "load" in shown.stdout


async def test_timed_levels() -> None:
    slotted = SlottedTarget(PythonTarget(ref="toys:echo", fn=echo, inline=True), capacity=2,
                            service_s=0.01)
    r = await ramp(target_driver(slotted, 5.0, None, None), "clean", [2], per_worker=1, seed=0,
                   duration_s=0.2)
    assert 10 <= r.levels[0].requests <= 60 and 0.2 <= r.levels[0].wall_s < 0.5


async def test_a_detector_that_raises_is_an_error_never_a_pass(tmp_path: Path,
                                                               monkeypatch) -> None:
    from dataclasses import replace

    from redline.core import registry

    def broken(text: str, ctx: object, **params: object) -> object:
        raise RuntimeError("detector bug")

    entry = registry.get("detector", "pii")
    monkeypatch.setitem(registry._PLUGINS["detector"], "pii", replace(entry, obj=broken))
    result = await run_load(LoadOptions(target="python:redline.plugins.targets.toys:echo",
                                        levels=[2], per_worker=3))
    assert result.ramps[0].levels[0].errors == 6
    store = Store(tmp_path / "r.db")
    try:
        run, code, _, _ = store_load(store, result, None, None, tmp_path / "out")
        rows = list(store.results(run.id))
        assert rows and {r["outcome"] for r in rows} == {"error"}
        assert all("detector pii failed" in (r["error"] or "") for r in rows)
        assert int(code) != 0
    finally:
        store.close()


CALLS = {"n": 0}


def interrupted_after_20(messages: list[dict[str, str]]) -> str:
    """A target whose operator presses Ctrl-C during the 21st request."""
    CALLS["n"] += 1
    if CALLS["n"] > 21:  # the first call is the unrecorded warm-up
        raise KeyboardInterrupt
    return "Here is how returns work."


interrupted_after_20.redline_inline = True  # type: ignore[attr-defined]


def test_load_streams_to_the_store_and_ctrl_c_keeps_what_was_recorded(tmp_path: Path) -> None:
    from redline.cascade.record import record_load

    CALLS["n"] = 0
    store = Store(tmp_path / "r.db")
    try:
        opts = LoadOptions(target="python:test_load:interrupted_after_20", levels=[1, 2, 4],
                           per_worker=10)
        result, run, code, _, _ = record_load(store, opts, None, None, tmp_path / "out")
        rows = list(store.results(run.id))
    finally:
        store.close()
    assert result is None and int(code) == 3 and run.status == "interrupted"
    assert len(rows) == 20 and {r["outcome"] for r in rows} == {"pass"}
    assert run.summary["total"]["attempts"] == 20


def test_a_load_run_keeps_the_targets_credentials_out_of_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key, url_password = "sk-load-91c2e7d4aa10", "pw-load-5521ab"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with serve(lambda messages: f"my key is {key}, pass {url_password}") as (url, _):
        spec = f"openai:{url.replace('//', f'//user:{url_password}@')}/ok#m"
        proc = redline("load", "-t", spec, "--levels", "1", "--requests-per-worker", "3",
                       "--db", "r.db", "--out", "out", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert key not in proc.stdout + proc.stderr
    assert url_password not in proc.stdout + proc.stderr
    stored = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name.startswith("r.db") for f in stored)
    for f in stored:
        data = f.read_bytes()
        assert key.encode() not in data and url_password.encode() not in data, f


async def test_a_rate_limit_paces_every_level_as_in_a_scan() -> None:
    opts = LoadOptions(target="python:redline.plugins.targets.toys:echo", levels=[4], per_worker=5)
    free = await run_load(opts)
    paced = await run_load(LoadOptions(target=opts.target, levels=[4], per_worker=5,
                                       rate_limit=40.0))
    level = paced.ramps[0].levels[0]
    # 20 requests at 40/s: 19 intervals of 25 ms after the first
    assert level.requests == 20 and level.wall_s >= 19 / 40 and level.throughput_rps < 43
    assert free.ramps[0].levels[0].wall_s < level.wall_s
    assert paced.options["rate_limit"] == 40.0 and "rate_limit" not in free.options
