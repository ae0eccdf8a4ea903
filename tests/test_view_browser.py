"""`redline view` in a real headless browser: Debian's chromium driven by Playwright through
its executable path (nothing is downloaded). The target's replies carry scripts and event
handlers; none of them may run, nothing may load from another origin, and the pages must
work: the runs list, a run with its filters, an attempt's transcript and evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from redline.store import Store
from redline.view.server import viewer_thread
from view_fixtures import chromium, scanned_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    scanned = scanned_store(tmp_path_factory.mktemp("browser"))
    with viewer_thread(lambda: Store(Path(str(scanned["db"])))) as url:
        yield {**scanned, "url": url}


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    """After the scans: Playwright's sync API holds an event loop on this thread."""
    path = chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(path), headless=True,
                               args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=True)
    pg = context.new_page()
    pg.requests = []  # every request the page made: all of them must go to the viewer
    pg.dialogs = []
    pg.console_errors = []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    yield pg
    context.close()


def test_browse_runs_run_filters_and_transcript(page: Any, site: dict[str, Any]) -> None:
    url, leaky = site["url"], site["leaky"]
    page.goto(url + "/")
    assert page.locator("#runs a", has_text=leaky).count() == 1
    page.locator("#runs a", has_text=leaky).click()
    assert page.locator("#run-id").inner_text() == leaky
    assert page.locator("#categories").inner_text().count("prompt_injection") == 1
    page.select_option("select[name=outcome]", "fail")
    page.locator("#filters button[type=submit]").click()
    assert "outcome=fail" in page.url
    rows = page.locator("#attempts tr td.fail")
    assert rows.count() > 0 and rows.count() == int(
        re.match(r"\d+", page.locator("#matched").inner_text()).group())
    page.fill("input[name=q]", "onerror")
    page.locator("#filters button[type=submit]").click()
    page.locator("#attempts a").first.click()
    assert page.locator("#attempt-id").is_visible()
    transcript = page.locator("#transcript").inner_text()
    assert "<img src=x onerror=\"document.title='PWNED2'\">" in transcript
    assert page.locator("#verdicts").inner_text().count("detected") >= 1
    assert "MARK-42" in page.locator("#verdicts").inner_text()
    assert page.locator("#transcript img, #transcript script, #responses img").count() == 0
    assert page.title().startswith("attempt ")  # no injected script retitled the page
    assert not page.dialogs


def test_no_target_script_runs_and_nothing_loads_from_elsewhere(page: Any,
                                                                site: dict[str, Any]) -> None:
    url, leaky = site["url"], site["leaky"]
    page.goto(url + f"/runs/{leaky}?outcome=fail")
    links = page.locator("#attempts a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs
    for href in hrefs:
        page.goto(url + href)
        assert "PWNED" not in page.title()
        assert page.locator("#injected").count() == 0
        assert page.evaluate("document.scripts.length") == 0
    assert not page.dialogs
    assert all(r.startswith(url + "/") for r in page.requests), page.requests
    # the stylesheet loaded under the CSP (nothing it needs was refused)
    page.goto(url + "/")
    assert page.evaluate(
        "getComputedStyle(document.querySelector('header')).display") == "flex"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_gate_compare_risks_and_verify_pages(page: Any, site: dict[str, Any]) -> None:
    url, leaky, patched = site["url"], site["leaky"], site["patched"]
    page.goto(url + f"/runs/{leaky}")
    page.locator("a", has_text="gate decision").click()
    assert page.locator("#verdict").inner_text().startswith(("BLOCK", "ROLLBACK"))
    assert "Wilson" in page.locator("#reasons").inner_text()
    page.goto(url + f"/runs/{leaky}")
    page.locator("a", has_text="chain verification").click()
    assert page.locator("#verify-status").inner_text().startswith("VERIFIED")
    page.goto(url + "/")
    page.select_option("select[name=base]", leaky)
    page.select_option("select[name=cand]", patched)
    page.locator("form[action='/compare'] button").click()
    assert int(page.locator("#fixed-count").inner_text()) > 0
    assert int(page.locator("#newly-count").inner_text()) > 0
    page.locator("#newly-failing a").first.click()
    assert page.locator("#outcome").inner_text() == "fail"
    page.locator("header a", has_text="risk register").click()
    assert "benign-q" in page.locator("#risks").inner_text()
    assert not page.dialogs
    assert all(r.startswith(url + "/") for r in page.requests), page.requests
