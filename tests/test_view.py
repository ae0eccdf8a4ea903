"""`redline view` over HTTP on loopback: pages from real scans, escaping, headers, paging,
filters, the loopback-only rule and the token for another interface."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redline.core.errors import UsageError
from redline.store import Store
from redline.view.guard import CSP
from redline.view.server import viewer_thread
from view_fixtures import scanned_store


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return scanned_store(tmp_path_factory.mktemp("view"))


@pytest.fixture(scope="module")
def url(scanned: dict[str, object]) -> Iterator[str]:
    with viewer_thread(lambda: Store(Path(str(scanned["db"])))) as base:
        yield base


def attempt_ids(html: str) -> list[str]:
    return re.findall(r'/attempts/([0-9a-f]+)"', html)


def test_runs_list_links_every_run_with_its_counts(url: str, scanned: dict) -> None:
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert f'href="/runs/{scanned["leaky"]}"' in page.text
    assert f'href="/runs/{scanned["patched"]}"' in page.text
    assert "2 run(s)" in page.text
    only = httpx.get(url + "/", params={"q": "refuse"})
    assert scanned["patched"] in only.text and scanned["leaky"] not in only.text


def test_every_page_carries_the_strict_headers(url: str, scanned: dict) -> None:
    for path in ("/", f"/runs/{scanned['leaky']}", "/static/view.css", "/no/such/page"):
        resp = httpx.get(url + path)
        assert resp.headers["content-security-policy"] == CSP
        assert "script-src" not in CSP and "'unsafe-inline'" not in CSP
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["referrer-policy"] == "no-referrer"
    assert httpx.get(url + "/no/such/page").status_code == 404


def test_target_output_is_escaped_on_the_attempt_page(url: str, scanned: dict) -> None:
    run = scanned["leaky"]
    listing = httpx.get(url + f"/runs/{run}", params={"outcome": "fail"}).text
    ids = attempt_ids(listing)
    assert ids
    pages = [httpx.get(url + f"/runs/{run}/attempts/{aid}").text for aid in ids]
    joined = "\n".join(pages)
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;" in joined
    assert "&lt;img src=x onerror=" in joined
    assert "<script" not in joined and "<img" not in joined and "id='injected'" not in joined
    assert "http://" not in joined.replace(url, "") and "https://" not in joined


def test_filters_search_and_counts_come_from_the_store(url: str, scanned: dict) -> None:
    run = scanned["leaky"]
    store = Store(Path(str(scanned["db"])))
    fails = [a for _, a in store.attempts_with_outcome(run, "fail")]
    page = httpx.get(url + f"/runs/{run}", params={"outcome": "fail"}).text
    assert f"{len(fails)} attempt(s) match" in page
    assert attempt_ids(page) == fails
    found = httpx.get(url + f"/runs/{run}", params={"q": "ONERROR"}).text
    hits = attempt_ids(found)
    assert hits and set(hits) <= set(fails)  # the identity-chain attempt with the img input
    benign = httpx.get(url + f"/runs/{run}", params={"category": "benign_control"}).text
    assert "6 attempt(s) match" in benign
    bad = httpx.get(url + f"/runs/{run}", params={"outcome": "maybe"})
    assert bad.status_code == 400 and "outcome" in bad.text
    assert httpx.get(url + "/runs/no-such-run").status_code == 404
    assert httpx.get(url + f"/runs/{run}/attempts/ffff").status_code == 404


def test_attempts_are_paged_in_the_store(scanned: dict, tmp_path: Path) -> None:
    from redline.view import pages
    from redline.view.cache import StoreCache

    run = scanned["leaky"]
    store = Store(Path(str(scanned["db"])))
    every = [a for _, a in store.attempts_with_outcome(run, "fail")] + \
        [a for _, a in store.attempts_with_outcome(run, "pass")]
    total = len(every)
    size = 3
    cache = StoreCache(lambda: Store(Path(str(scanned["db"]))))
    old, pages.PAGE_SIZE = pages.PAGE_SIZE, size
    try:
        seen, params = [], {}
        while True:
            data = pages.run_page(store, cache, run, params)
            seen += [r["attempt_id"] for r in data["rows"]]
            if data["next"] is None:
                break
            params = {"after": str(data["next"])}
        back = pages.run_page(store, cache, run, {"before": str(data["rows"][0]["seq"])})
    finally:
        pages.PAGE_SIZE = old
        cache.close()
    assert len(seen) == total == len(set(seen))
    assert [r["attempt_id"] for r in back["rows"]] == seen[-size - len(data["rows"]):
                                                          -len(data["rows"])]


def test_only_loopback_unless_exposed_and_then_only_with_the_token(scanned: dict) -> None:
    opener = lambda: Store(Path(str(scanned["db"])))  # noqa: E731
    with pytest.raises(UsageError, match="loopback only"), viewer_thread(opener, "0.0.0.0"):
        pass
    with viewer_thread(opener) as base:
        assert httpx.get(base + "/", headers={"host": "rebind.example:80"}).status_code == 421
        assert httpx.post(base + "/").status_code == 405
    with viewer_thread(opener, "0.0.0.0", token="s3cret-token", expose=True) as base:
        port = base.rsplit(":", 1)[1]
        local = f"http://127.0.0.1:{port}"
        assert httpx.get(local + "/").status_code == 401
        assert httpx.get(local + "/", params={"token": "wrong"}).status_code == 401
        ok = httpx.get(local + "/", headers={"authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        with httpx.Client() as client:
            first = client.get(local + "/", params={"token": "s3cret-token", "q": "x"})
            assert first.status_code == 303 and first.headers["location"] == "/?q=x"
            assert "HttpOnly" in first.headers["set-cookie"]
            assert client.get(local + "/").status_code == 200  # the cookie carries it


def test_view_command_refuses_another_interface_without_expose(scanned: dict) -> None:
    proc = subprocess.run([sys.executable, "-m", "redline", "view", "--db", str(scanned["db"]),
                           "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "loopback only" in proc.stderr and "--expose" in proc.stderr
    assert "Traceback" not in proc.stderr
    missing = subprocess.run([sys.executable, "-m", "redline", "view", "--db",
                              str(Path(str(scanned["db"])).parent / "none.db")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no store" in missing.stderr


def test_what_one_thread_computes_another_waits_for(scanned: dict) -> None:
    """Two loads of one cold page at once (two tabs, a reload) verify the run once."""
    import threading

    from redline.view.cache import StoreCache

    cache = StoreCache(lambda: Store(Path(str(scanned["db"]))))
    calls: list[int] = []
    other: dict[str, object] = {}

    def second_load() -> None:
        other["value"] = cache.get(("verify", "r"), compute)

    def compute() -> int:
        calls.append(1)
        if len(calls) == 1:  # while the first computes, a second load of the same page
            other["thread"] = thread = threading.Thread(target=second_load)
            thread.start()
            thread.join(0.5)
        return len(calls)

    assert cache.get(("verify", "r"), compute) == 1
    thread = other["thread"]
    assert isinstance(thread, threading.Thread)
    thread.join(10)
    assert other["value"] == 1 and calls == [1]
    cache.close()
