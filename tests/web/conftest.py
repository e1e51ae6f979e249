"""Web app fixtures: one headless Chromium per test session, a server per test.

The browser is Debian's /usr/bin/chromium driven by Playwright (never a downloaded
browser), launched once per session with the flags of docs on this machine; each
test gets a fresh context (cookies) and page. Every request the page makes is
recorded, so a test can prove nothing left 127.0.0.1.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from billdrift.config import load_config
from billdrift.usecases.check import as_of_instant
from billdrift.usecases.demo import demo_paths
from billdrift.usecases.monitoring import monitored_check
from billdrift.web.settings import WebSettings

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


@dataclass(frozen=True)
class Recorded:
    """A config file next to the demo's data, and a history store with runs of it."""

    config: Path
    history: str

    def settings(self, **changes: object) -> WebSettings:
        return WebSettings(history=self.history, config_path=self.config, **changes)  # type: ignore[arg-type]


def record_demo(directory: Path, history: str, as_ofs: tuple[str, ...]) -> Recorded:
    """Copy the demo's data and config into `directory` (the config naming its sources
    and `history`), and record one run per as-of instant."""
    paths = demo_paths()
    shutil.copy(paths.billing, directory / "stripe_subscriptions.json")
    shutil.copy(paths.app, directory / "app.sqlite")
    text = paths.config.read_text(encoding="utf-8").replace(
        '[app]\ntable = "users"', '[app]\nsource = "app.sqlite"\ntable = "users"'
    )
    text += '\n[billing]\nsources = ["stripe_subscriptions.json"]\n'
    text += f'\n[history]\nlocation = "{history}"\n'
    config = directory / "billdrift.toml"
    config.write_text(text, encoding="utf-8")
    for as_of in as_ofs:
        loaded = load_config(config)
        monitored_check(loaded, as_of_instant(as_of), lambda report, points: None)
    return Recorded(config, load_config(config).history.location or history)


@pytest.fixture
def demo_store(tmp_path: Path) -> Recorded:
    """Two recorded demo runs two days apart, in a SQLite store."""
    return record_demo(tmp_path, "history.sqlite", ("2026-11-20", "2026-11-22"))
