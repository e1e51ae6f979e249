"""[alerts] settings: defaults, the documented example, errors naming the key, sinks built."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from billdrift.errors import ConfigError
from billdrift.outputs.alerts import SINKS, AlertSettings, sinks_from_config
from billdrift.outputs.alerts import settings as settings_module
from billdrift.outputs.alerts.email_smtp import EmailSink
from billdrift.outputs.alerts.slack import SlackSink
from billdrift.outputs.alerts.webhook import WebhookSink

ENV = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX",
    "BILLDRIFT_WEBHOOK_SECRET": "whsec_abc123",
    "SMTP_PASSWORD": "hunter2-smtp",
}


def documented_example() -> dict[str, Any]:
    """The TOML example in settings.py's docstring, parsed: the docs must stay valid."""
    doc = settings_module.__doc__ or ""
    block = doc.split("Example::", 1)[1]
    text = "\n".join(line[4:] for line in block.splitlines())
    return tomllib.loads(text)["alerts"]  # type: ignore[no-any-return]


def test_defaults_send_nothing() -> None:
    settings = AlertSettings.from_mapping(None)
    assert settings == AlertSettings.from_mapping({})
    assert settings.alert_on == "new" and settings.retries == 3 and settings.max_findings == 10
    assert not settings.enabled
    assert sinks_from_config(settings, environ={}) == []


def test_the_documented_example_parses_and_builds_every_sink() -> None:
    settings = AlertSettings.from_mapping(documented_example())
    assert settings.enabled
    assert settings.email is not None and settings.email.from_address == "billdrift@example.com"
    assert settings.email.to == ("ops@example.com",) and settings.email.starttls
    assert (
        settings.webhook is not None and settings.webhook.secret_env == "BILLDRIFT_WEBHOOK_SECRET"
    )
    sinks = sinks_from_config(settings, environ=ENV)
    assert [type(s) for s in sinks] == [SlackSink, WebhookSink, EmailSink]
    assert list(SINKS) == ["slack", "webhook", "email"]
    for sink in sinks:
        assert not any(secret in sink.target for secret in ENV.values())
    assert sinks[0].target == "slack (hooks.slack.com)"


def test_an_empty_sink_table_turns_the_sink_on_with_defaults() -> None:
    settings = AlertSettings.from_mapping({"slack": {}})
    assert settings.slack is not None and settings.slack.webhook_env == "SLACK_WEBHOOK_URL"
    assert settings.slack.tiers == ("urgent", "review")


def test_never_needs_no_secret() -> None:
    settings = AlertSettings.from_mapping({"alert_on": "never", "slack": {}})
    assert not settings.enabled
    assert sinks_from_config(settings, environ={}) == []


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"alert_on": "sometimes"}, "alerts.alert_on"),
        ({"alertz": 1}, "alerts.alertz"),
        ({"retries": -1}, "alerts.retries"),
        ({"retries": True}, "alerts.retries"),
        ({"max_findings": 0}, "alerts.max_findings"),
        ({"timeout_seconds": "10"}, "alerts.timeout_seconds"),
        ({"slack": {"webhook": "x"}}, "alerts.slack.webhook"),
        ({"slack": {"tiers": ["urgent", "panic"]}}, "alerts.slack.tiers"),
        ({"slack": "yes"}, "alerts.slack"),
        ({"webhook": {"secret_env": "S"}}, "alerts.webhook"),
        ({"webhook": {"url": "ftp://x", "secret_env": "S"}}, "alerts.webhook.url"),
        ({"webhook": {"url": "https://a.example", "url_env": "U"}}, "alerts.webhook"),
        ({"email": {"from": "a@b.c", "to": "d@e.f"}}, "alerts.email.host"),
        ({"email": {"host": "h", "to": "d@e.f"}}, "alerts.email.from"),
        ({"email": {"host": "h", "from": "a@b.c"}}, "alerts.email.to"),
        ({"email": {"host": "h", "from": "a@b.c", "to": ["nope"]}}, "alerts.email.to"),
        ({"email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "port": 0}}, "alerts.email.port"),
        (
            {"email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "ssl": True, "starttls": True}},
            "alerts.email",
        ),
        (
            {"email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "username": "u"}},
            "alerts.email.password_env",
        ),
    ],
)
def test_errors_name_the_key(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        AlertSettings.from_mapping(table)
    assert str(raised.value).startswith(f"{key}:"), str(raised.value)


def test_a_secret_pasted_instead_of_an_env_name_is_not_echoed() -> None:
    pasted = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
    with pytest.raises(ConfigError) as raised:
        AlertSettings.from_mapping({"slack": {"webhook_env": pasted}})
    assert "alerts.slack.webhook_env" in str(raised.value)
    assert pasted not in str(raised.value) and "XXXXsecret" not in str(raised.value)


def test_ssl_defaults_to_port_465_and_no_starttls() -> None:
    settings = AlertSettings.from_mapping(
        {"email": {"host": "smtp.example.com", "from": "a@b.co", "to": "c@d.co", "ssl": True}}
    )
    assert settings.email is not None
    assert (settings.email.port, settings.email.ssl, settings.email.starttls) == (465, True, False)


@pytest.mark.parametrize(
    ("table", "variable"),
    [
        ({"slack": {}}, "SLACK_WEBHOOK_URL"),
        ({"webhook": {"url": "https://a.example/h", "secret_env": "HOOK_KEY"}}, "HOOK_KEY"),
        ({"webhook": {"url_env": "HOOK_URL"}}, "HOOK_URL"),
        (
            {"email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "username": "u",
                       "password_env": "MAIL_PW"}},
            "MAIL_PW",
        ),
    ],
)  # fmt: skip
def test_a_missing_secret_is_a_config_error_naming_the_variable(
    table: dict[str, Any], variable: str
) -> None:
    settings = AlertSettings.from_mapping(table)
    with pytest.raises(ConfigError) as raised:
        sinks_from_config(settings, environ={"UNRELATED": "x"})
    assert variable in str(raised.value) and str(raised.value).startswith("alerts.")


@pytest.mark.parametrize(
    ("table", "variable", "value"),
    [
        ({"slack": {}}, "SLACK_WEBHOOK_URL", "https://hooks.slack.com/T0/B0/Zq1\nZq2"),
        ({"webhook": {"url": "https://a.example/h"}}, "BILLDRIFT_WEBHOOK_SECRET", "Zq1 Zq2"),
        ({"webhook": {"url": "https://a.example/h"}}, "BILLDRIFT_WEBHOOK_SECRET", "Zq1\x1bZq2"),
        ({"webhook": {"url_env": "HOOK_URL"}}, "HOOK_URL", "https://a.example/Zq1\tZq2"),
        (
            {"email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "username": "u",
                       "password_env": "SMTP_PASSWORD"}},
            "SMTP_PASSWORD",
            "Zq1\nZq2",
        ),
    ],
)  # fmt: skip
def test_a_secret_with_a_line_break_or_control_character_is_refused_by_its_variable(
    table: dict[str, Any], variable: str, value: str
) -> None:
    settings = AlertSettings.from_mapping(table)
    with pytest.raises(ConfigError) as raised:
        sinks_from_config(settings, environ={**ENV, variable: value})
    message = str(raised.value)
    assert f"environment variable {variable} holds" in message, message
    assert "Zq1" not in message and "Zq2" not in message


def test_an_smtp_password_may_hold_spaces() -> None:
    table = {"email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "username": "u",
                       "password_env": "SMTP_PASSWORD"}}  # fmt: skip
    settings = AlertSettings.from_mapping(table)
    (sink,) = sinks_from_config(settings, environ={"SMTP_PASSWORD": "correct horse battery"})
    assert isinstance(sink, EmailSink) and "correct horse battery" in sink.secrets()


def test_a_slack_url_that_is_not_a_url_is_rejected_without_echoing_it() -> None:
    settings = AlertSettings.from_mapping({"slack": {}})
    with pytest.raises(ConfigError) as raised:
        sinks_from_config(settings, environ={"SLACK_WEBHOOK_URL": "T000/B000/tokentoken"})
    assert "tokentoken" not in str(raised.value)


def test_retry_settings_reach_the_sinks() -> None:
    settings = AlertSettings.from_mapping(
        {
            "retries": 5,
            "backoff_seconds": 0.25,
            "timeout_seconds": 3,
            "slack": {"tiers": ["urgent"]},
        }
    )
    (sink,) = sinks_from_config(settings, environ=ENV)
    assert isinstance(sink, SlackSink)
    assert sink.retry.retries == 5 and sink.retry.backoff == 0.25 and sink.timeout == 3.0
    assert sink.tiers == ("urgent",)
