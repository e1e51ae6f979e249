"""Web app fixtures: one headless Chromium per test session, a server per test.

The browser is Debian's /usr/bin/chromium driven by Playwright (never a downloaded
browser), launched once per session with the flags of docs on this machine; each
test gets a fresh context (cookies) and page. Every request the page makes is
recorded, so a test can prove nothing left 127.0.0.1.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("no /usr/bin/chromium (scripts/install_test_servers.sh installs it)")
    with playwright_sync.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()


class Requests(list[str]):
    """Every URL a page requested, in order."""

    def outside(self, origin: str) -> list[str]:
        return [url for url in self if not url.startswith(origin)]


@pytest.fixture
def page(browser: playwright_sync.Browser) -> Iterator[playwright_sync.Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    seen = Requests()
    opened.on("request", lambda request: seen.append(request.url))
    opened.requests = seen  # type: ignore[attr-defined]
    yield opened
    context.close()
