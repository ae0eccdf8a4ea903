"""`redline view` page load time on a 100k-attempt run, against the same pages of a 1k run.

Both runs are real scans (instant echo target) into one store; the viewer serves it on
loopback in this process. Each page is fetched over HTTP (median of --repeat, after one
warm-up), and the run page is also loaded in Debian's chromium (navigation to load event)
when /usr/bin/chromium and playwright are there. Prints each page's time and the ratio of
the big run to the small one: paging in the store keeps it near 1.
    python bench/viewer_load.py [--attempts 100000] [--small 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from _common import WORK, make_suite, write_result

from redline.config import load_config
from redline.scan import scan
from redline.store import Store
from redline.view.server import viewer_thread

CHROMIUM = Path("/usr/bin/chromium")


def scanned(db: Path, size: int) -> tuple[str, float]:
    suite = WORK / f"viewer-suite-{size}"
    make_suite(suite, size)
    started = time.perf_counter()
    config = load_config(None, {"target": "python:redline.targets.toys:echo",
                                "suite": str(suite), "db": str(db),
                                "out": str(WORK / "viewer-out")})
    return scan(config).run.id, time.perf_counter() - started


def pages_of(client: httpx.Client, url: str, run_id: str) -> dict[str, str]:
    base = f"{url}/runs/{run_id}"
    first = client.get(base).text
    aid = re.findall(r'/attempts/([0-9a-f]+)"', first)[0]
    (planned,) = re.findall(r"of (\d+) planned", first)
    return {
        "runs list": f"{url}/",
        "run page (first 50 attempts)": base,
        "run page, failures only": f"{base}?outcome=fail",
        "run page, last page": f"{base}?before={int(planned)}",
        "run page, a middle page": f"{base}?after={int(planned) // 2}",
        "run page, text search": f"{base}?q=item+4471",
        "attempt page": f"{base}/attempts/{aid}",
    }


def timed(client: httpx.Client, url: str, repeat: int) -> float:
    client.get(url).raise_for_status()  # warm-up: thread store opened, templates compiled
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url).raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def browser_load(urls: list[str], repeat: int) -> list[float] | None:
    """Navigation start to load event in chromium, median ms per URL, or None."""
    if not CHROMIUM.exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        for url in urls:
            page.goto(url)
            samples = []
            for _ in range(repeat):
                page.goto(url, wait_until="load")
                samples.append(page.evaluate(
                    "(() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return n.loadEventEnd - n.startTime; })()"))
            out.append(statistics.median(samples))
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shutil.rmtree(WORK / "viewer", ignore_errors=True)
    (WORK / "viewer").mkdir(parents=True)
    db = WORK / "viewer" / "view.db"
    small, small_s = scanned(db, args.small)
    big, big_s = scanned(db, args.attempts)
    print(f"scans: {args.small} attempts in {small_s:.1f} s, {args.attempts} in {big_s:.1f} s")
    rows: list[dict[str, Any]] = []
    with viewer_thread(lambda: Store(db)) as url, httpx.Client(timeout=120) as client:
        small_pages, big_pages = pages_of(client, url, small), pages_of(client, url, big)
        for name in big_pages:
            s = timed(client, small_pages[name], args.repeat)
            b = timed(client, big_pages[name], args.repeat)
            rows.append({"page": name, "small_ms": round(s * 1000, 1),
                         "big_ms": round(b * 1000, 1), "ratio": round(b / s, 2)})
        for name, path in (("gate decision page", "gate"), ("chain verification page",
                                                            "verify")):
            s = timed(client, f"{url}/runs/{small}/{path}", 1)
            b = timed(client, f"{url}/runs/{big}/{path}", 1)
            rows.append({"page": name, "small_ms": round(s * 1000, 1),
                         "big_ms": round(b * 1000, 1), "ratio": round(b / s, 2)})
        loads = browser_load([f"{url}/runs/{small}", f"{url}/runs/{big}"], args.repeat)
    for r in rows:
        print(f"{r['page']:32} {args.small:>7}: {r['small_ms']:8.1f} ms   "
              f"{args.attempts:>7}: {r['big_ms']:8.1f} ms   x{r['ratio']:.2f}")
    browser = None
    if loads is not None:
        browser = {"small_ms": round(loads[0], 1), "big_ms": round(loads[1], 1),
                   "ratio": round(loads[1] / loads[0], 2)}
        print(f"{'chromium: run page load event':32} {args.small:>7}: {loads[0]:8.1f} ms   "
              f"{args.attempts:>7}: {loads[1]:8.1f} ms   x{loads[1] / loads[0]:.2f}")
    else:
        print("chromium: not measured (no /usr/bin/chromium or no playwright)")
    write_result("viewer_load", {"attempts": args.attempts, "small": args.small,
                                 "scan_s": {"small": round(small_s, 1), "big": round(big_s, 1)},
                                 "http_median_ms": rows, "browser_run_page": browser,
                                 "repeat": args.repeat})


if __name__ == "__main__":
    main()
