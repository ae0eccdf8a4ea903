"""`redline view` page load time on a 100k-attempt run, against the same pages of a 1k run.

Four real scans (instant toy targets) into one store: a small and a big run, each with a
baseline of its suite (the gate against a baseline and the comparison page). The viewer
serves the store on loopback in this process. Each page is timed two ways:
- cold: the first load from a freshly started viewer (empty cache, as after any write to
  the store, which moves its change token): what a page costs to compute;
- warm: the median of --repeat loads after that one (served from the viewer's cache).
Over HTTP (httpx) and in Debian's chromium (navigation start to load event) when
/usr/bin/chromium and playwright are there. Prints each page's time and the ratio of the big
run to the small one. --reuse keeps the scanned store in bench/.work/viewer between runs.
    python bench/viewer_load.py [--attempts 100000] [--small 1000] [--repeat 5] [--reuse]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from _common import WORK, make_suite, write_result

from redline.core.config import load_config
from redline.core.scan import scan
from redline.store import Store
from redline.view.server import viewer_thread

CHROMIUM = Path("/usr/bin/chromium")


def scanned(db: Path, size: int, target: str = "echo") -> tuple[str, float]:
    suite = WORK / f"viewer-suite-{size}"
    make_suite(suite, size)
    started = time.perf_counter()
    config = load_config(None, {"target": f"python:redline.plugins.targets.toys:{target}",
                                "suite": str(suite), "db": str(db),
                                "out": str(WORK / "viewer-out")})
    return scan(config).run.id, time.perf_counter() - started


def stored_runs(db: Path, small: int, big: int) -> dict[str, str] | None:
    """The runs a previous --reuse left: small, big and their baselines, or None."""
    if not db.exists():
        return None
    store = Store(db)
    runs = {(r.planned, r.target.rsplit(":", 1)[-1]): r.id for r in store.runs(10)}
    store.close()
    want = {"small": (small, "echo"), "small_base": (small, "refuse"), "big": (big, "echo"),
            "base": (big, "refuse")}
    if not all(key in runs for key in want.values()):
        return None
    return {name: runs[key] for name, key in want.items()}


def make_runs(db: Path, small: int, big: int) -> tuple[dict[str, str], dict[str, float]]:
    runs, took = {}, {}
    for name, size, target in (("small_base", small, "refuse"), ("small", small, "echo"),
                               ("base", big, "refuse"), ("big", big, "echo")):
        runs[name], took[name] = scanned(db, size, target)
    return runs, took


def pages_of(url: str, run_id: str, other: str) -> dict[str, str]:
    """Page name -> its path (from the server at `url`)."""
    base = f"/runs/{run_id}"
    first = httpx.get(url + base, timeout=300).text
    aid = re.findall(r'/attempts/([0-9a-f]+)"', first)[0]
    (planned,) = re.findall(r"of (\d+) planned", first)
    return {
        "runs list": "/",
        "run page (first 50 attempts)": base,
        "run page, failures only": f"{base}?outcome=fail",
        "run page, last page": f"{base}?before={int(planned)}",
        "run page, a middle page": f"{base}?after={int(planned) // 2}",
        "run page, text search": f"{base}?q=item+4471",
        "attempt page": f"{base}/attempts/{aid}",
        "gate decision page": f"{base}/gate",
        "gate page against a baseline": f"{base}/gate?baseline={other}",
        "compare page": f"/compare?base={other}&cand={run_id}",
        "risk register page": "/risks",
        "chain verification page": f"{base}/verify",
    }


Fetch = Callable[[str], float]  # load one URL, seconds


def http_fetch() -> Iterator[Fetch]:
    with httpx.Client(timeout=300) as client:
        def fetch(url: str) -> float:
            started = time.perf_counter()
            client.get(url).raise_for_status()
            return time.perf_counter() - started
        yield fetch


def browser_fetch() -> Iterator[Fetch]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()

        def fetch(url: str) -> float:
            response = page.goto(url, wait_until="load", timeout=300_000)
            if response is None or not response.ok:
                raise RuntimeError(f"{url}: {response and response.status}")
            return page.evaluate("(() => { const n = performance.getEntriesByType("
                                 "'navigation')[0]; return n.loadEventEnd - n.startTime;"
                                 " })()") / 1000
        yield fetch
        browser.close()


def has_browser() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


def cold_and_warm(db: Path, fetch: Fetch, paths: list[str], repeat: int
                  ) -> list[tuple[float, float]]:
    """Per path: the first load from a fresh viewer, and the median of `repeat` after it."""
    out = []
    for path in paths:
        with viewer_thread(lambda: Store(db)) as url:
            cold = fetch(url + path)
            out.append((cold, statistics.median(fetch(url + path) for _ in range(repeat))))
    return out


@contextmanager
def fetcher(kind: str) -> Iterator[Fetch]:
    gen = http_fetch() if kind == "http" else browser_fetch()
    fetch = next(gen)
    try:
        yield fetch
    finally:
        gen.close()


def measure(db: Path, runs: dict[str, str], kind: str, repeat: int) -> list[dict[str, Any]]:
    with viewer_thread(lambda: Store(db)) as url:
        small = pages_of(url, runs["small"], runs["small_base"])
        big = pages_of(url, runs["big"], runs["base"])
    names = list(big)
    with fetcher(kind) as fetch:
        s = cold_and_warm(db, fetch, list(small.values()), repeat)
        b = cold_and_warm(db, fetch, list(big.values()), repeat)
    return [{"page": n, "small_cold_ms": ms(sc), "big_cold_ms": ms(bc),
             "small_warm_ms": ms(sw), "big_warm_ms": ms(bw),
             "cold_ratio": round(bc / sc, 2), "warm_ratio": round(bw / sw, 2)}
            for n, (sc, sw), (bc, bw) in zip(names, s, b, strict=True)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def show(kind: str, rows: list[dict[str, Any]], small: int, big: int) -> None:
    print(f"\n{kind}: ms, cold (fresh viewer) / warm (median)   {small} attempts  |  {big}")
    for r in rows:
        print(f"  {r['page']:30} {r['small_cold_ms']:8.1f} / {r['small_warm_ms']:7.1f}   |"
              f" {r['big_cold_ms']:8.1f} / {r['big_warm_ms']:7.1f}   cold x{r['cold_ratio']:.2f}"
              f"  warm x{r['warm_ratio']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the store a previous --reuse run scanned")
    args = parser.parse_args()
    db = WORK / "viewer" / "view.db"
    runs = stored_runs(db, args.small, args.attempts) if args.reuse else None
    took: dict[str, float] = {}
    if runs is None:
        shutil.rmtree(WORK / "viewer", ignore_errors=True)
        (WORK / "viewer").mkdir(parents=True)
        runs, took = make_runs(db, args.small, args.attempts)
        print("scans: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    result: dict[str, Any] = {"attempts": args.attempts, "small": args.small,
                              "repeat": args.repeat, "scan_s": took, "reused": not took}
    result["http_ms"] = measure(db, runs, "http", args.repeat)
    show("HTTP", result["http_ms"], args.small, args.attempts)
    if has_browser():
        result["chromium_ms"] = measure(db, runs, "chromium", args.repeat)
        show("chromium (navigation to load event)", result["chromium_ms"], args.small,
             args.attempts)
    else:
        print("chromium: not measured (no /usr/bin/chromium or no playwright)")
    write_result("viewer_load", result)


if __name__ == "__main__":
    main()
