"""The `ray` executor: a scan's attempts on a Ray cluster (`redline scan --executor ray`).

For suites where judging or a local model is the heavy part. Each Ray worker (an actor, one
CPU) opens the scan's work itself: it builds the target, the judge and the strategies, and
runs whole attempts (every turn, then the detectors), returning each result. The driver
keeps at most `max_in_flight` attempts submitted, hands results to the run's sink in this
process (only the driver writes the store) and accounts errors as the local engine does.
An attempt whose worker died or raised is sent again, to another worker, up to `retries`
times; after that it is recorded as an error, never a pass.

With no address, redline starts a local cluster on 127.0.0.1 (`num_cpus` CPUs, no
dashboard, no usage reporting) and stops it afterwards; `ray:ADDRESS` joins a running one,
and a cluster this process already joined (ray.init) is used as it is. Ray itself is the
`ray` extra; it is imported only when this executor runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from redline.core.engine import EngineSettings, ErrorStreak, Work
from redline.core.errors import UsageError
from redline.core.registry import Int, Params, plugin


class RayParams(Params):
    address: str | None = Field(
        None, description="a running cluster (ray://HOST:PORT, HOST:PORT or auto); "
        "default: start a local one")
    num_cpus: Int | None = Field(None, ge=1, le=4096,
                                 description="CPUs of the local cluster (default: all)")
    workers: Int | None = Field(None, ge=1, le=4096,
                                description="workers, one CPU each (default: the cluster's CPUs)")
    max_in_flight: Int | None = Field(
        None, ge=1, le=100_000,
        description="attempts submitted and not yet returned (default: the larger of "
        "--concurrency and twice the workers)")
    retries: Int = Field(2, ge=0, le=20,
                         description="times an attempt is sent again after its worker failed")


def _ray(local: bool) -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    if local:  # a single-node cluster: every Ray server listens on 127.0.0.1 only
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise UsageError("--executor ray needs Ray: pip install 'redline[ray]'") from None
    return ray


class AttemptWorker:
    """One Ray actor: opens the work once (in its own event loop) and runs attempts."""

    def __init__(self, work: Work[Any, Any]) -> None:
        self.work = work
        self.stack = contextlib.AsyncExitStack()
        self.execute: Callable[[Any], Awaitable[Any]] | None = None
        self.lock: asyncio.Lock | None = None

    async def _opened(self) -> Callable[[Any], Awaitable[Any]]:
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if self.execute is None:
                self.execute = await self.stack.enter_async_context(self.work.open())
        return self.execute

    async def run(self, item: Any) -> Any:
        execute = await self._opened()
        return await execute(item)

    async def close(self) -> None:
        await self.stack.aclose()
        await self.work.release()


@dataclass
class _Slot:
    actor: Any
    busy: int = 0
    alive: bool = True
    alone: bool = False  # running one suspect attempt and nothing else


@dataclass
class _Pool:
    """The workers; a dead one is replaced by a fresh one."""

    make: Callable[[], Any]
    size: int
    slots: list[_Slot] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.slots = [_Slot(self.make()) for _ in range(self.size)]

    def live(self) -> list[_Slot]:
        return [s for s in self.slots if s.alive]

    def pick(self) -> _Slot | None:
        """The least busy live worker that takes shared work; None while every one runs a
        suspect alone."""
        shared = [s for s in self.live() if not s.alone]
        return min(shared, key=lambda s: s.busy) if shared else None

    def idle(self) -> _Slot | None:
        return next((s for s in self.live() if s.busy == 0), None)

    def replace(self, dead: _Slot) -> None:
        if dead.alive:
            dead.alive = False
            self.slots.append(_Slot(self.make()))


@dataclass
class _Task:
    item: Any
    failures: int = 0  # failures that were this attempt's own doing


@plugin("executor", "ray", params=RayParams)
class RayExecutor:
    """Attempts on a Ray cluster, a local one by default (the `ray` extra).

    Each worker calls the target and judges; the driver stores the results."""

    usage = "ray[:ADDRESS]"

    def __init__(self, params: RayParams | None = None) -> None:
        self.params = params or RayParams()

    def _connect(self, ray: Any) -> bool:
        """Join or start the cluster; True when this call started it (and must stop it)."""
        if ray.is_initialized():
            return False
        p = self.params
        try:
            if p.address is not None:
                ray.init(address=p.address, log_to_driver=False, configure_logging=False)
            else:
                # "local": a new cluster, even where `ray start` left one running here
                ray.init(address="local", num_cpus=p.num_cpus or os.cpu_count() or 1,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise UsageError(f"--executor ray: cannot reach the cluster: {exc}") from None
        return True

    def _workers(self, ray: Any) -> int:
        return self.params.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    async def run(self, attempts: Iterable[Any], work: Work[Any, Any],
                  on_result: Callable[[Any], None], settings: EngineSettings) -> None:
        ray = _ray(local=self.params.address is None)
        started = self._connect(ray)
        try:
            workers = self._workers(ray)
            limit = self.params.max_in_flight or max(settings.concurrency, 2 * workers)
            actor = ray.remote(num_cpus=1, max_concurrency=limit, max_restarts=0)(AttemptWorker)
            portable = work.portable(workers)
            pool = _Pool(lambda: actor.remote(portable), workers)
            try:
                await _Dispatch(ray, pool, work, on_result, self.params.retries,
                                ErrorStreak(settings.abort_after_errors)).run(attempts, limit)
            finally:
                _close(ray, pool)
        finally:
            if started:
                ray.shutdown()


def _close(ray: Any, pool: _Pool) -> None:
    """Let live workers close what they opened (bounded), then end them all."""
    live = [s.actor.close.remote() for s in pool.slots if s.alive]
    with contextlib.suppress(Exception):
        ray.wait(live, num_returns=len(live), timeout=10)
    for s in pool.slots:
        with contextlib.suppress(Exception):
            ray.kill(s.actor)


@dataclass
class _Dispatch:
    """The driver's loop: keep `limit` attempts in flight, store results as they return.

    A worker that dies takes every attempt it had with it, and which one killed it is not
    known: those attempts run again one at a time, each alone on a worker ("suspects"), and
    only a death while alone, or an attempt's own exception, counts as its failure."""

    ray: Any
    pool: _Pool
    work: Work[Any, Any]
    on_result: Callable[[Any], None]
    retries: int
    streak: ErrorStreak
    pending: dict[asyncio.Future[Any], tuple[_Task, _Slot, Any]] = field(default_factory=dict)
    suspects: deque[_Task] = field(default_factory=deque)

    def submit(self, task: _Task, slot: _Slot, alone: bool = False) -> None:
        ref = slot.actor.run.remote(task.item)
        slot.busy += 1
        slot.alone = alone
        self.pending[asyncio.wrap_future(ref.future())] = (task, slot, ref)

    def fill(self, source: Iterator[Any], limit: int) -> bool:
        """Submit suspects to idle workers, then new attempts; False once the source is
        used up."""
        while self.suspects and len(self.pending) < limit and (idle := self.pool.idle()):
            self.submit(self.suspects.popleft(), idle, alone=True)
        while not self.suspects and len(self.pending) < limit:
            slot = self.pool.pick()
            if slot is None:
                return True
            item = next(source, _END)
            if item is _END:
                return False
            self.submit(_Task(item), slot)
        return True

    async def run(self, attempts: Iterable[Any], limit: int) -> None:
        source: Iterator[Any] = iter(attempts)
        more = True
        try:
            while True:
                more = self.fill(source, limit) if more else self.fill(iter(()), limit)
                if not self.pending:
                    return
                done, _ = await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
                for fut in done:
                    self.settle(fut, *self.pending.pop(fut)[:2])
        finally:
            for _, _, ref in self.pending.values():  # a stop or an error: nothing comes back
                with contextlib.suppress(Exception):
                    self.ray.cancel(ref)
            self.pending.clear()

    def settle(self, fut: asyncio.Future[Any], task: _Task, slot: _Slot) -> None:
        slot.busy -= 1
        alone, slot.alone = slot.alone, False
        try:
            result = fut.result()
        except self.ray.exceptions.RayActorError as exc:  # the worker died
            self.pool.replace(slot)
            result = self.retry(task, exc, charged=alone)
        except self.ray.exceptions.RayError as exc:  # the attempt raised out of its worker
            result = self.retry(task, exc, charged=True)
        if result is not None:
            self.on_result(result)
            self.streak.account(result)

    def retry(self, task: _Task, exc: BaseException, charged: bool) -> Any | None:
        """Queue a failed worker's attempt again (None), or its error result once it has
        failed `retries` + 1 times itself."""
        failures = task.failures + int(charged)
        if failures > self.retries:
            text = str(exc).strip()
            reason = text.splitlines()[-1] if text else type(exc).__name__
            return self.work.failed(task.item, f"worker failed {failures} times: "
                                    f"{type(exc).__name__}: {reason[:500]}")
        self.suspects.append(_Task(task.item, failures))
        return None


_END = object()
