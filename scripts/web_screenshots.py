"""Regenerate docs/screenshots/web-*.png: the web app over two recorded demo runs.

Run: PYTHONPATH=src .venv/bin/python scripts/web_screenshots.py
(Debian's /usr/bin/chromium, driven by Playwright.)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.web.conftest import CHROMIUM, FLAGS, record_demo  # noqa: E402
from tests.web.server import served  # noqa: E402

from billdrift.history import open_store  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    directory = Path(tempfile.mkdtemp())
    recorded = record_demo(directory, "history.sqlite", ("2026-11-18", "2026-11-20", "2026-11-22"))
    with open_store(recorded.history) as store:
        target = next(s.fingerprint for s in store.open_findings() if s.kind == "paid_but_blocked")
    with served(recorded.settings()) as app, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        for name, path in (
            ("dashboard", "/"),
            ("findings", "/findings"),
            ("finding", f"/findings/{target}"),
            ("runs", "/runs"),
        ):
            page.goto(app.url + path)
            page.screenshot(path=str(OUT / f"web-{name}.png"), full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.goto(app.url + "/findings?kind=paid_but_blocked")
        phone.screenshot(path=str(OUT / "web-findings-phone.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
