"""Regenerate docs/screenshots/audit-*.png: the "Audit files" page (issue 15).

Run: PYTHONPATH=src .venv/bin/python scripts/audit_screenshots.py
(Debian's /usr/bin/chromium, driven by Playwright.) The mapping shot uses the browser
test's app export whose access column needs choosing; the report shot the demo data.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from tests.web.conftest import CHROMIUM, FLAGS  # noqa: E402
from tests.web.server import served  # noqa: E402
from tests.web.test_audit_page import USERS  # noqa: E402

from billdrift.web.settings import WebSettings  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
DEMO = ROOT / "src" / "billdrift" / "demo_data"


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    users = folder / "users.csv"
    users.write_text(USERS, encoding="utf-8")
    billing = folder / "stripe_export.csv"
    shutil.copy(ROOT / "tests" / "fixtures" / "billing" / "stripe_dashboard.csv", billing)
    with served(WebSettings(), lifespan="on") as app, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app.url + "/audit")
        page.set_input_files("#billing-files", str(billing))
        page.set_input_files("#app-file", str(users))
        page.screenshot(path=str(OUT / "audit-upload.png"), full_page=True)
        page.click("#upload")
        page.select_option("select[data-column=paying_customer]", "flag")
        page.click("#apply")
        page.wait_for_selector("#mapping-form")
        page.screenshot(path=str(OUT / "audit-mapping.png"), full_page=True)
        page.goto(app.url + "/audit")
        page.set_input_files("#billing-files", str(DEMO / "stripe_subscriptions.json"))
        page.set_input_files("#app-file", str(DEMO / "app.sqlite"))
        page.fill("#as-of", "2026-11-22")
        page.click("#upload")
        page.click("#run")
        page.wait_for_selector("#verdict", timeout=60_000)
        page.locator("#findings tbody tr").nth(0).locator("summary").click()
        page.screenshot(path=str(OUT / "audit-report.png"), full_page=True)
        browser.close()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
