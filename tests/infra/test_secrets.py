"""Secrets are scrubbed in every spelling a message may show them in, wherever
billdrift scrubs: the provider API client, alert sinks, database URLs."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import h11
import pytest

from billdrift.errors import ConfigError
from billdrift.infra.api.client import ApiClient
from billdrift.infra.api.ratelimit import Pacer
from billdrift.infra.db.urls import resolve
from billdrift.infra.secrets import check_secret_text, scrub
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


# Found by `make mutate` (issue 19): each spelling must cover the whole secret, in the
# exact container it sits in; a form that drops a character leaves that character shown.
_CONTAINERS: dict[str, Callable[[str], tuple[str, str]]] = {
    # name -> (the text a message would hold, what it must become once scrubbed)
    "repr": lambda s: (repr(s), repr(s)[0] + "***" + repr(s)[-1]),
    "repr in a dict": lambda s: (repr({"k": s}), "{'k': " + repr(s)[0] + "***" + repr(s)[-1] + "}"),
    "bytes repr": lambda s: (
        repr(s.encode("utf-8", "surrogateescape")),
        repr(s.encode("utf-8", "surrogateescape"))[:2] + "***" + "'",
    ),
    "json": lambda s: (json.dumps(s), '"***"'),
    "json, utf-8": lambda s: (json.dumps({"k": s}, ensure_ascii=False), '{"k": "***"}'),
    "unicode escape": lambda s: (s.encode("unicode_escape").decode("ascii"), "***"),
    "url-quoted": lambda s: (quote(s.encode("utf-8", "surrogateescape"), safe=""), "***"),
    "form-quoted": lambda s: (quote_plus(s.encode("utf-8", "surrogateescape")), "***"),
}


@pytest.mark.parametrize("container", sorted(_CONTAINERS))
@pytest.mark.parametrize(
    "secret",
    [
        "sk_live_plain0123",
        "sk_live_it's\"q",
        "rk_live_back\\slash",
        "pw_é☃_ünï",
        "pw_lone_\udcff_surrogate",
        "pw_é\x00mixed",  # repr and json (utf-8) are then the only spellings of it
        "pw/with?slash&and= space",
        "pw_tab\tand\nnewline",
        "pw_x",
    ],
)
def test_a_scrubbed_secret_leaves_nothing_of_itself_in_its_container(
    container: str, secret: str
) -> None:
    text, expected = _CONTAINERS[container](secret)
    assert scrub(text, [secret]) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("sk_live_a\nb", "a line break"),
        ("sk_live_a\rb", "a line break"),
        ("sk_live_a\tb", "whitespace or a control character"),
        ("sk_live_a\x00b", "whitespace or a control character"),
        ("sk_live_a\u2028b", "whitespace or a control character"),
    ],
)
def test_a_secret_with_a_control_character_is_refused_naming_what_it_holds(
    value: str, kind: str
) -> None:
    for spaces in (False, True):
        with pytest.raises(ConfigError) as raised:
            check_secret_text(value, "STRIPE_API_KEY", "the API key", spaces=spaces)
        assert f"STRIPE_API_KEY holds {kind} inside the API key" in str(raised.value)
        assert value not in str(raised.value)


def test_a_space_is_allowed_only_where_spaces_are_and_does_not_end_the_check() -> None:
    check_secret_text("a pass phrase", "SMTP_PASSWORD", "the password", spaces=True)
    with pytest.raises(ConfigError):
        check_secret_text("a pass phrase", "STRIPE_API_KEY", "the API key")
    with pytest.raises(ConfigError, match="a line break"):  # a space first, then a newline
        check_secret_text("a pass\nphrase", "SMTP_PASSWORD", "the password", spaces=True)
