"""Secrets are scrubbed in every spelling a message may show them in, wherever
billdrift scrubs: the provider API client, alert sinks, database URLs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import h11
import pytest

from billdrift.infra.api.client import ApiClient
from billdrift.infra.api.ratelimit import Pacer
from billdrift.infra.db.urls import resolve
from billdrift.outputs.alerts.email_smtp import EmailSink
from billdrift.outputs.alerts.slack import SlackSink
from billdrift.outputs.alerts.webhook import WebhookSink

#: A key as pasted with a line break (two keys in one variable), quotes and a backslash.
KEY = "sk_live_51Abc'\"\\q\nsk_live_51Def"
PIECES = ("51Abc", "51Def")


def illegal_header_message(value: str) -> str:
    """What the HTTP stack (h11, under httpx) says about a header it cannot send."""
    with pytest.raises(h11.LocalProtocolError) as raised:
        h11.Request(method="GET", target="/", headers=[("Host", "x"), ("Authorization", value)])
    return str(raised.value)


def messages(secret: str) -> list[str]:
    """The secret as messages show it: raw, repr'd, a bytes repr, JSON, URL-quoted."""
    return [
        f"failed: {secret}",
        f"failed: {secret!r}",
        f"failed: {secret.encode()!r}",
        f"failed: {('Bearer ' + secret).encode()!r}",
        f"failed: {json.dumps({'auth': secret})}",
        f"GET https://h.example/x?key={quote(secret, safe='')}",
        f"GET https://h.example/x?key={quote_plus(secret)}",
        f"GET https://h.example/{quote(secret)}",
    ]


def scrubbers() -> dict[str, Callable[[str], str]]:
    client = ApiClient("https://api.example", {}, Pacer(10), secret=KEY)
    return {
        "api client": client.scrub,
        "webhook secret": WebhookSink("https://h.example/hook", KEY).scrub,
        "smtp password": EmailSink("h", "a@b.c", ("d@e.f",), username="u", password=KEY).scrub,
        "database url": resolve(f"postgresql://u:{quote(KEY, safe='')}@h/db").scrub,
    }


@pytest.mark.parametrize("where", sorted(scrubbers()))
def test_every_spelling_of_a_secret_is_scrubbed(where: str) -> None:
    scrub = scrubbers()[where]
    texts = [*messages(KEY), illegal_header_message("Bearer " + KEY)]
    assert any("\\n" in text for text in texts)  # the escaped forms are really there
    for text in texts:
        cleaned = scrub(text)
        assert not any(piece in cleaned for piece in PIECES), (where, text, cleaned)
        assert "***" in cleaned


def test_a_slack_url_is_scrubbed_in_its_escaped_and_quoted_forms() -> None:
    url = "https://hooks.slack.com/services/T0/B0/tok'en\\Zz9"
    sink = SlackSink(url)
    for text in messages(url):
        assert "Zz9" not in sink.scrub(text), text


def test_an_smtp_password_is_scrubbed_in_the_base64_auth_sends() -> None:
    sink = EmailSink("h", "a@b.c", ("d@e.f",), username="bill", password="pw with space")
    plain = base64.b64encode(b"\0bill\0pw with space").decode()
    login = base64.b64encode(b"pw with space").decode()
    reply = f"535 5.7.8 credentials {plain} / {login} rejected"
    assert sink.scrub(reply) == "535 5.7.8 credentials *** / *** rejected"
