"""The viewer's routes: each one reads through the store and renders one template."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from redline import __version__
from redline.core.errors import RedlineError, UsageError
from redline.gate.policy import Policy, load_policy
from redline.store import Store
from redline.view import decisions, pages
from redline.view.cache import StoreCache
from redline.view.guard import Guard

HERE = Path(__file__).parent
_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


_ENV.filters["pct"] = _pct
_ENV.globals["version"] = __version__


def _query(params: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (None drops one)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


_ENV.globals["query"] = _query


Page = tuple[str, dict[str, Any] | None]  # a template and its data (None: not found)
Build = Callable[[Store, StoreCache, Request], Page]


class Stores:
    """One store connection per server thread (SQLite connections are not shared across
    threads), opened on first use and closed when the server stops, and the cache of what
    the pages computed, which they share."""

    def __init__(self, opener: Callable[[], Store]) -> None:
        self.opener = opener
        self.local = threading.local()
        self.opened: list[Store] = []
        self.lock = threading.Lock()
        self.cache = StoreCache(opener)

    def get(self) -> tuple[Store, StoreCache]:
        store = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = self.opener()
            with self.lock:
                self.opened.append(store)
        return store, self.cache

    def close(self) -> None:
        with self.lock:
            for store in self.opened:
                store.close()
            self.opened.clear()
        self.cache.close()


def render(name: str, code: int = 200, /, **context: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(name).render(**context), status_code=code)


def _page(build: Build, stores: Stores) -> Callable[[Request], Response]:
    """A route: build the page's data, render it; a missing run or record is a 404, a bad
    query parameter a 400, each as a page that says which."""
    def endpoint(request: Request) -> Response:
        try:
            template, data = build(*stores.get(), request)
        except UsageError as exc:
            return render("error.html.j2", 400, message=str(exc))
        except RedlineError as exc:
            return render("error.html.j2", 404, message=str(exc))
        if data is None:
            return render("error.html.j2", 404, message="no such record in the store")
        params = dict(request.query_params)
        return render(template, params=params, **data)
    return endpoint


def _runs(store: Store, cache: StoreCache, request: Request) -> Page:
    return "runs.html.j2", pages.runs_page(store, request.query_params)


def _run(store: Store, cache: StoreCache, request: Request) -> Page:
    return "run.html.j2", pages.run_page(store, cache, request.path_params["run"],
                                         request.query_params)


def _attempt(store: Store, cache: StoreCache, request: Request) -> Page:
    return "attempt.html.j2", pages.attempt_page(store, cache, request.path_params["run"],
                                                 request.path_params["attempt"])


def _judging(policy: Policy) -> list[tuple[str, Build]]:
    """The pages that judge with the policy: gate, compare, risks; and verify."""
    def gate(store: Store, cache: StoreCache, request: Request) -> Page:
        return "gate.html.j2", decisions.gate_page(store, cache, policy,
                                                   request.path_params["run"],
                                                   request.query_params)

    def compare(store: Store, cache: StoreCache, request: Request) -> Page:
        return "compare.html.j2", decisions.compare_page(store, cache, policy,
                                                         request.query_params)

    def risks(store: Store, cache: StoreCache, request: Request) -> Page:
        return "risks.html.j2", decisions.risks_page(store, cache, policy, request.query_params)

    def verify(store: Store, cache: StoreCache, request: Request) -> Page:
        return "verify.html.j2", decisions.verify_page(store, cache,
                                                       request.path_params["run"])

    return [("/runs/{run}/gate", gate), ("/compare", compare), ("/risks", risks),
            ("/runs/{run}/verify", verify)]


def _warm_up() -> None:
    """Import what the gate's intervals and tests use (scipy.stats, imported on first use:
    a second or two) while the server waits for its first gate page."""
    import scipy.stats  # noqa: F401


def build_app(opener: Callable[[], Store], token: str | None = None,
              policy: Policy | None = None) -> Guard:
    """The viewer as an ASGI app; `opener` opens the store (once per server thread); the
    gate, comparison and risk pages judge with `policy` (default: the bundled one)."""
    stores = Stores(opener)
    judging = _judging(policy or load_policy([]))
    routes = [
        Route("/", _page(_runs, stores)),
        Route("/runs/{run}", _page(_run, stores)),
        Route("/runs/{run}/attempts/{attempt}", _page(_attempt, stores)),
        *(Route(path, _page(build, stores)) for path, build in judging),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=_warm_up, name="redline-view-warm-up", daemon=True).start()
        yield
        stores.close()

    async def not_found(request: Request, exc: Exception) -> Response:
        return render("error.html.j2", 404, message="no such page")

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
    return Guard(app, token)
