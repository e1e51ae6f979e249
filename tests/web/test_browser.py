"""The browser set-up works, and the skeleton's security holds in a real browser."""

from __future__ import annotations

from typing import Any

from billdrift.web.security import CSP
from billdrift.web.settings import WebSettings
from tests.web.server import served


def test_a_page_loads_in_chromium_with_its_own_stylesheet_and_nothing_else(page: Any) -> None:
    with served(WebSettings()) as app:
        response = page.goto(app.url + "/")
        assert response.status == 200
        assert response.headers["content-security-policy"] == CSP
        assert page.locator("h1").inner_text() == "Dashboard"
        # the stylesheet applied (a CSP refusal would leave the header unstyled)
        colour = page.evaluate(
            "getComputedStyle(document.querySelector('header.top')).backgroundColor"
        )
        assert colour == "rgb(22, 32, 44)"
        assert page.requests.outside(app.url) == []
        assert any(url.endswith("/static/app.css") for url in page.requests)


def test_the_masking_toggle_submits_its_form_and_stays_on_the_page(page: Any) -> None:
    with served(WebSettings()) as app:
        page.goto(app.url + "/")
        page.select_option("#mask-mode", "emails")  # app.js submits on change
        page.wait_for_selector(".banner")
        assert "emails are masked" in page.locator(".banner").inner_text()
        assert page.url == app.url + "/"
