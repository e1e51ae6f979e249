"""The safety layer over real HTTP: cross-site refusal, CSRF, the token, the Host
check, the headers, and the CLI's refusal of an unprotected non-loopback bind."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from billdrift.cli.app import main
from billdrift.usecases.demo import demo_paths
from billdrift.web.security import COOKIE, CSP
from billdrift.web.settings import WebSettings
from tests.web.server import served


def _csrf(client: httpx.Client, path: str = "/") -> str:
    page = client.get(path).text
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_every_response_carries_the_security_headers() -> None:
    with served(WebSettings()) as app, httpx.Client(base_url=app.url) as client:
        for path in ("/", "/static/app.css", "/login"):
            headers = client.get(path).headers
            assert headers["content-security-policy"] == CSP
            assert "frame-ancestors 'none'" in CSP and "unsafe-inline" not in CSP
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"


def test_a_same_origin_post_with_the_token_is_accepted() -> None:
    with served(WebSettings()) as app, httpx.Client(base_url=app.url) as client:
        token = _csrf(client)
        response = client.post(
            "/mask", data={"csrf": token, "mask": "all", "next": "/"}, headers={"Origin": app.url}
        )
        assert response.status_code == 303
        assert 'value="all" selected' in client.get("/").text


def test_a_cross_site_post_is_refused_even_with_a_valid_session() -> None:
    with served(WebSettings()) as app, httpx.Client(base_url=app.url) as client:
        token = _csrf(client)
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            response = client.post("/mask", data={"csrf": token, "mask": "all"}, headers=headers)
            assert response.status_code == 403, headers
        assert 'value="none" selected' in client.get("/").text


def test_a_post_without_the_sessions_csrf_token_is_refused() -> None:
    with served(WebSettings()) as app, httpx.Client(base_url=app.url) as client:
        _csrf(client)
        for data in ({"mask": "all"}, {"mask": "all", "csrf": "guessed"}):
            response = client.post("/mask", data=data, headers={"Origin": app.url})
            assert response.status_code == 403
        assert 'value="none" selected' in client.get("/").text


def test_a_foreign_host_header_is_refused_on_loopback() -> None:
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host."""
    with served(WebSettings()) as app, httpx.Client(base_url=app.url) as client:
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
        assert client.get("/", headers={"Host": f"localhost:{app.port}"}).status_code == 200


def test_with_a_token_nothing_but_the_login_form_is_reachable_until_logged_in() -> None:
    settings = WebSettings(token="s3cret-token", host="0.0.0.0")
    with served(settings) as app, httpx.Client(base_url=app.url) as client:
        first = client.get("/")
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        assert client.get("/login").status_code == 200
        token = _csrf(client, "/login")
        wrong = client.post("/login", data={"csrf": token, "token": "nope", "next": "/"})
        assert wrong.status_code == 401
        assert client.get("/").status_code == 303
        before = client.cookies[COOKIE]
        right = client.post("/login", data={"csrf": token, "token": "s3cret-token", "next": "/"})
        assert right.status_code == 303
        assert client.cookies[COOKIE] != before  # a fresh session id after logging in
        assert client.get("/").status_code == 200
        assert "s3cret-token" not in client.get("/").text
    with served(settings) as app, httpx.Client(base_url=app.url) as client:
        bearer = {"Authorization": "Bearer s3cret-token"}
        assert client.get("/", headers=bearer).status_code == 200
        assert client.get("/", headers={"Authorization": "Bearer nope"}).status_code == 303


def test_serve_refuses_a_non_loopback_bind_without_a_token() -> None:
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "add --token" in result.stderr and "0.0.0.0" in result.stderr


def test_loopback_spellings_are_recognised() -> None:
    from billdrift.web.settings import is_loopback

    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.com"):
        assert not is_loopback(host), host


def test_every_post_route_refuses_a_form_without_the_csrf_token() -> None:
    """Walks the app's routes: no state-changing handler skips checked_form."""
    from starlette.routing import Route

    from billdrift.web.app import create_app

    settings = WebSettings(history="unused.sqlite")
    posts = [
        route.path.replace("{fingerprint:str}", "abcd1234").replace("{action:str}", "acknowledge")
        for route in create_app(settings).routes
        if isinstance(route, Route) and "POST" in (route.methods or ())
    ]
    assert len(posts) >= 4
    with served(settings) as app, httpx.Client(base_url=app.url) as client:
        client.get("/")
        for path in posts:
            response = client.post(path, data={"note": "x"}, headers={"Origin": app.url})
            assert response.status_code == 403, path


def test_a_key_pasted_as_a_source_is_masked_in_a_failed_check(tmp_path: Path) -> None:
    """The check a page starts fails naming its billing source, a key pasted there:
    the job's error (polled as JSON, shown on the runs page) masks it (issue 13)."""
    shutil.copy(demo_paths().app, tmp_path / "app.sqlite")
    config = tmp_path / "billdrift.toml"
    config.write_text(
        '[app]\nsource = "app.sqlite"\ntable = "users"\n'
        '[billing]\nsources = ["sk_live_51WebPastedQ7xKey"]\n',
        encoding="utf-8",
    )
    settings = WebSettings(history=str(tmp_path / "history.sqlite"), config_path=config)
    with served(settings) as app, httpx.Client(base_url=app.url) as client:
        token = _csrf(client, "/runs")
        started = client.post("/runs/check", data={"csrf": token}, headers={"Origin": app.url})
        assert started.status_code == 303
        deadline = time.monotonic() + 60
        job = client.get("/runs/job").json()
        while job["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
            job = client.get("/runs/job").json()
        page = client.get("/runs").text
    assert job["state"] == "failed"
    assert "sk_live_***" in job["error"], job
    assert "Q7x" not in repr(job) + page


def test_serve_help_states_the_web_apps_own_upload_default() -> None:
    from billdrift.web.settings import DEFAULT_MAX_UPLOAD

    shown = " ".join(CliRunner().invoke(main, ["serve", "--help"]).output.split())
    assert f"[default: {DEFAULT_MAX_UPLOAD // 1024**2}]" in shown
