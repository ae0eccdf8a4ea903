"""`redline scan --executor ray`: a scan's attempts on a real local Ray cluster (one per test
session, 2 CPUs, loopback only, no dashboard) give the local engine's attempts and verdicts;
the store is written by the driver; in-flight work is bounded; a failed worker's attempts are
retried, and an attempt no worker could finish is an error, never a pass; an interrupted run
keeps every result it returned and resumes to the same verdicts; a replay runs on Ray too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import write_hedge_suite
from redline.core.config import load_config
from redline.core.engine import LocalExecutor, executor_for
from redline.core.errors import UsageError
from redline.core.scan import scan
from redline.evidence.verify import verify_run
from redline.plugins.ray_executor import RayExecutor, RayParams
from redline.store import Store

INPUTS = ["HARM one", "a plain question", "perhaps so", "hello", "HARM two", "fine",
          "HARM three", "more text", "perhaps not", "last one"]


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One local Ray cluster for the test session (this module is the only one that uses
    Ray: it stops when the module's tests are done); the directory its test targets mark."""
    marks = tmp_path_factory.mktemp("ray-marks")
    # the workers inherit the environment the cluster starts with: the marks directory, and
    # the tests' modules (the test targets, the helpers' detector) on their import path
    tests = str(Path(__file__).parent)
    saved = dict(os.environ)
    os.environ.update(REDLINE_RAY_TEST_DIR=str(marks), RAY_USAGE_STATS_ENABLED="0",
                      RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",  # every server on 127.0.0.1
                      PYTHONPATH=os.pathsep.join(filter(None, [tests, saved.get("PYTHONPATH")])))
    import ray

    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        yield marks
    finally:
        ray.shutdown()


def _scan(root: Path, db: Path, fn: str, executor: Any = None, **kw: Any) -> Any:
    suite = root / "suite-a"
    if not suite.exists():
        write_hedge_suite(root, INPUTS)
    config = load_config(None, {"target": f"python:{fn}", "suite": str(suite), "seed": 5,
                                "db": str(db), "out": str(root / "out")})
    return scan(config, executor=executor, **kw)


def _results(db: Path, run_id: str) -> dict[str, tuple[str, str, str | None]]:
    store = Store(str(db))
    try:
        return {r["attempt_id"]: (r["outcome"], json.dumps(r["verdicts"], sort_keys=True),
                                  r["error"]) for r in store.results(run_id)}
    finally:
        store.close()


def _ray(**params: Any) -> RayExecutor:
    return RayExecutor(RayParams(**params))


@pytest.mark.slow
def test_ray_gives_the_local_engines_attempts_and_verdicts(ray_cluster: Path, tmp_path: Path
                                                           ) -> None:
    local = _scan(tmp_path, tmp_path / "local.db", "redline.plugins.targets.toys:echo",
                  LocalExecutor())
    remote = _scan(tmp_path, tmp_path / "ray.db", "redline.plugins.targets.toys:echo",
                   _ray(max_in_flight=3))
    assert remote.run.status == "completed" and remote.code == local.code
    expected = _results(tmp_path / "local.db", local.run.id)
    assert len(expected) == len(INPUTS)
    assert _results(tmp_path / "ray.db", remote.run.id) == expected
    assert {o for o, _, _ in expected.values()} == {"pass", "fail", "unclear"}
    store = Store(str(tmp_path / "ray.db"))
    try:
        assert verify_run(store, remote.run.id).ok
    finally:
        store.close()
    # a replay on Ray: the workers get the cassette and the recorded judge calls as data
    replayed = scan(load_config(None, {"db": str(tmp_path / "ray.db"),
                                       "out": str(tmp_path / "out")}),
                    replay_of=remote.run.id, executor=_ray())
    assert _results(tmp_path / "ray.db", replayed.run.id) == expected


@pytest.mark.slow
def test_a_killed_or_raising_worker_s_attempts_are_retried(ray_cluster: Path, tmp_path: Path
                                                           ) -> None:
    local = _scan(tmp_path, tmp_path / "local.db", "redline.plugins.targets.toys:echo")
    remote = _scan(tmp_path, tmp_path / "ray.db", "ray_targets:crash_once", _ray())
    assert (ray_cluster / "killed").exists() and (ray_cluster / "raised").exists()
    assert remote.run.status == "completed"
    # the same verdicts as the local engine: the retried attempts ran again, in full
    assert _results(tmp_path / "ray.db", remote.run.id) == \
        _results(tmp_path / "local.db", local.run.id)


@pytest.mark.slow
def test_an_attempt_no_worker_finishes_is_an_error_and_in_flight_work_is_bounded(
        ray_cluster: Path, tmp_path: Path) -> None:
    failed = _scan(tmp_path, tmp_path / "a.db", "ray_targets:crash_always", _ray(retries=1))
    rows = _results(tmp_path / "a.db", failed.run.id)
    errors = {k: e for k, (o, _, e) in rows.items() if o == "error"}
    assert len(rows) == len(INPUTS) and len(errors) == 1  # `HARM two`
    assert next(iter(errors.values())).startswith("worker failed 2 times: ")
    assert failed.summary.total.errors == 1

    timed = _scan(tmp_path, tmp_path / "b.db", "ray_targets:timed", _ray(max_in_flight=3))
    assert timed.run.status == "completed"
    spans = [tuple(map(float, p.read_text().split())) for p in ray_cluster.glob("call-*")]
    assert len(spans) == len(INPUTS)
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running, most = 0, 0
    for _, step in edges:
        running += step
        most = max(most, running)
    assert 2 <= most <= 3  # two workers busy at once, never more than 3 attempts


@pytest.mark.slow
def test_an_interrupted_ray_run_keeps_what_returned_and_resumes(ray_cluster: Path,
                                                                tmp_path: Path) -> None:
    seen: list[str] = []

    def stop_after_four(result: Any) -> None:
        seen.append(result.attempt.id)
        if len(seen) == 4:
            raise KeyboardInterrupt

    run = _scan(tmp_path, tmp_path / "r.db", "redline.plugins.targets.toys:slow_echo", _ray(),
                on_result=stop_after_four).run  # Ctrl-C as the scan's sink sees it
    assert run.status == "interrupted" and len(seen) == 4
    store = Store(str(tmp_path / "r.db"))
    try:
        assert sorted(store.done_attempt_ids(run.id)) == sorted(seen)  # nothing lost
    finally:
        store.close()
    config = load_config(None, {"db": str(tmp_path / "r.db"), "out": str(tmp_path / "out")})
    resumed = scan(config, resume=run.id, executor=_ray())
    local = _scan(tmp_path, tmp_path / "local.db", "redline.plugins.targets.toys:echo")
    assert resumed.run.status == "completed"
    assert _results(tmp_path / "r.db", run.id) == _results(tmp_path / "local.db", local.run.id)


def test_a_bad_executor_choice_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown executor 'dask'"):
        executor_for("dask")
    with pytest.raises(UsageError, match="'local' takes no num_cpus"):
        executor_for("local", {"num_cpus": 2})
    with pytest.raises(UsageError, match="'local' takes no --ray-cpus"):
        executor_for("local", {"num_cpus": 2}, {"num_cpus": "--ray-cpus"})
    with pytest.raises(UsageError, match="max_in_flight"):
        executor_for("ray", {"max_in_flight": 0})
    chosen = executor_for("ray:127.0.0.1:6379", {"num_cpus": None, "max_in_flight": 8})
    assert isinstance(chosen, RayExecutor)
    assert chosen.params.address == "127.0.0.1:6379" and chosen.params.max_in_flight == 8


def test_scan_refuses_a_bad_executor_with_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "redline", "scan", "--executor", "ray",
                           "--ray-cpus", "0", "--db", "r.db", "--no-progress"],
                          cwd=tmp_path, text=True, capture_output=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--executor 'ray': --ray-cpus: Input should be greater than or equal to 1" in \
        proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.db").exists()


def test_a_remote_worker_s_copy_of_the_work_rebuilds_live_parts_and_shares_the_rate(
        tmp_path: Path) -> None:
    from redline.core.scan import ScanWork
    from redline.plugins.targets.spec import build_target

    config = load_config(None, {"target": "python:redline.plugins.targets.toys:echo",
                                "rate_limit": 30.0, "db": str(tmp_path / "r.db")})
    work = ScanWork(config, [], build_target(config.target, seed=0))
    copy = work.portable(3)
    assert copy.target is None and copy.build_live and copy.config.rate_limit == 10.0
    assert work.target is not None and work.config.rate_limit == 30.0  # the driver's own
    assert [p.name for p in copy.plugins if p.kind == "detector"] == ["hedge_probe"]
