"""Every page in real Chromium over a recorded demo store: it loads, it filters, and
the review controls change the store (and the config) as `billdrift review` does."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from billdrift.history import open_store
from billdrift.history.review import decision_in_force
from tests.web.conftest import Recorded
from tests.web.server import served


def _open_states(recorded: Recorded) -> dict[str, Any]:
    with open_store(recorded.history) as store:
        states = store.open_findings()
        reviews = store.reviews_for(s.fingerprint for s in states)
    now = datetime.now(UTC)
    return {
        s.fingerprint: (s, decision_in_force(s, reviews.get(s.fingerprint, []), now))
        for s in states
    }


def test_every_page_loads_and_nothing_leaves_127_0_0_1(page: Any, demo_store: Recorded) -> None:
    with served(demo_store.settings()) as app:
        dashboard = page.goto(app.url + "/")
        assert dashboard.status == 200
        assert page.locator(".badge.big").inner_text() == "FAIL"
        assert page.locator("svg[role=img]").count() >= 2  # findings and USD charts at least
        assert "2026-11-22" in page.locator(".trend").inner_text()  # real timestamps
        page.click("text=Findings")
        assert page.locator("#total").inner_text() == "15"
        page.locator("table.findings a.id").first.click()
        assert page.locator("h2#timeline-h").is_visible()
        assert page.locator("ol.timeline > li").count() == 2  # seen by both runs
        page.click("nav >> text=Runs")
        assert page.locator("tbody tr").count() == 2
        # no page uses a style attribute or inline script (the CSP would block them)
        for path in ("/", "/findings", "/runs"):
            html = page.goto(app.url + path).text()
            assert not re.search(r"\sstyle=", html), path
            assert not re.search(r"<script(?![^>]*\ssrc=)", html), path
        assert page.requests.outside(app.url) == []


def test_filtering_findings(page: Any, demo_store: Recorded) -> None:
    with served(demo_store.settings()) as app:
        page.goto(app.url + "/findings")
        page.select_option("#f-kind", "paid_but_blocked")
        page.click("form.filters button[type=submit]")
        assert page.locator("#total").inner_text() == "4"
        kinds = page.locator("table.findings tbody td:nth-child(2)").all_inner_texts()
        assert set(kinds) == {"paid_but_blocked"}
        page.fill("#f-q", "no-such-customer")
        page.click("form.filters button[type=submit]")
        assert page.locator("#total-none").is_visible()


def test_acknowledge_changes_the_store(page: Any, demo_store: Recorded) -> None:
    target = next(iter(_open_states(demo_store)))
    with served(demo_store.settings()) as app:
        page.goto(f"{app.url}/findings/{target}")
        page.fill("#ack-note", "on it")
        page.click("text=Acknowledge >> nth=-1")
        assert "acknowledged" in page.locator("#done").inner_text()
    state, decision = _open_states(demo_store)[target]
    assert decision is not None and decision.action == "acknowledged"
    assert decision.note == "on it" and decision.opened_run == state.opened_run


def test_snooze_with_note_and_expiry(page: Any, demo_store: Recorded) -> None:
    target = list(_open_states(demo_store))[1]
    until = (datetime.now(UTC) + timedelta(days=10)).date()
    with served(demo_store.settings()) as app:
        page.goto(f"{app.url}/findings/{target}")
        page.fill("#snooze-note", "waiting for the customer")
        page.fill("#snooze-until", until.isoformat())
        page.click("form[action$='/snooze'] button")
        assert "snoozed" in page.locator("#done").inner_text()
        page.goto(app.url + "/findings?review=snoozed")
        assert page.locator("#total").inner_text() == "1"
    _state, decision = _open_states(demo_store)[target]
    assert decision is not None and decision.action == "snoozed"
    assert decision.note == "waiting for the customer"
    assert decision.until == datetime(until.year, until.month, until.day, tzinfo=UTC)


def test_expect_appends_the_exception_as_review_expect_does(
    page: Any, demo_store: Recorded
) -> None:
    from click.testing import CliRunner

    from billdrift.cli.app import main

    states = _open_states(demo_store)
    target = next(fp for fp, (s, _) in states.items() if s.account_id)
    before = demo_store.config.read_bytes()
    with served(demo_store.settings()) as app:
        page.goto(f"{app.url}/findings/{target}")
        page.fill("#expect-reason", "comped by sales")
        page.click("form[action$='/expect'] button")
        assert "expected" in page.locator("#done").inner_text()
    after = demo_store.config.read_bytes()
    assert after.startswith(before)  # byte for byte before the appended entry
    web_entry = after[len(before) :]
    # the CLI, on a copy of the same store and config, appends the same entry
    twin = demo_store.config.parent / "twin"
    twin.mkdir()
    (twin / "billdrift.toml").write_bytes(before)
    import shutil

    shutil.copy(demo_store.history, twin / "history.sqlite")
    result = CliRunner().invoke(
        main,
        [
            "review",
            "expect",
            target,
            "--reason",
            "comped by sales",
            "--config",
            str(twin / "billdrift.toml"),
            "--history",
            str(twin / "history.sqlite"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (twin / "billdrift.toml").read_bytes()[len(before) :] == web_entry
    _state, decision = _open_states(demo_store)[target]
    assert decision is not None and decision.action == "expected"


def test_a_cross_site_form_post_from_another_page_is_refused(
    page: Any, demo_store: Recorded
) -> None:
    """A page served from another origin posts the acknowledge form at the app: the
    browser sends the session cookie only if SameSite allowed it, and the app refuses
    the request on its Origin either way."""
    import http.server
    import threading

    target = next(iter(_open_states(demo_store)))
    with served(demo_store.settings()) as app:
        page.goto(app.url + "/findings")  # the browser now holds a session cookie

        evil = (
            f'<form id=f method=post action="{app.url}/findings/{target}/acknowledge">'
            "<input name=note value=pwned><input name=csrf value=guess></form>"
            "<script>document.getElementById('f').submit()</script>"
        ).encode()

        class Evil(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(evil)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.2", 0), Evil)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            statuses: list[int] = []
            page.on(
                "response",
                lambda r: statuses.append(r.status) if r.url.endswith("/acknowledge") else None,
            )
            page.goto(f"http://127.0.0.2:{server.server_port}/")
            page.wait_for_load_state("networkidle")
            assert statuses == [403]
        finally:
            server.shutdown()
    _state, decision = _open_states(demo_store)[target]
    assert decision is None


def test_run_a_check_now_shows_progress_and_records_a_run(page: Any, demo_store: Recorded) -> None:
    with served(demo_store.settings()) as app:
        page.goto(app.url + "/runs")
        assert page.locator("tbody tr").count() == 2
        page.click("#run-now")
        # the page polls the job and reloads when it ends: a third run appears
        page.locator("tbody tr").nth(2).wait_for(timeout=60000)
        assert "done: FAIL" in page.locator("#job-state").inner_text()
    with open_store(demo_store.history) as store:
        assert len(store.recent_runs()) == 3
