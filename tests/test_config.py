"""[alerts] as part of the one config: typed, validated on load, errors naming every key."""

from __future__ import annotations

import pytest

from billdrift.config import AlertSettings, Config, parse_config
from billdrift.errors import ConfigError

PASTED = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


def test_alerts_is_a_typed_field_with_defaults() -> None:
    assert Config().alerts == AlertSettings() and not Config().alerts.enabled
    config = parse_config({"alerts": {"alert_on": "urgent", "slack": {"tiers": ["urgent"]}}})
    assert config.alerts.slack is not None and config.alerts.slack.tiers == ("urgent",)
    assert config.alerts.alert_on == "urgent" and config.alerts.enabled


def test_every_bad_alert_key_is_named_without_echoing_a_secret() -> None:
    table = {
        "retries": 11,
        "slack": {"webhook_env": PASTED},
        "email": {"host": "h", "from": "a@b.c", "to": "d@e.f", "username": "u"},
    }
    with pytest.raises(ConfigError) as raised:
        parse_config({"alerts": table}, "billdrift.toml")
    lines = str(raised.value).splitlines()
    assert lines[0] == "invalid configuration in billdrift.toml:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "alerts.retries",
        "alerts.slack.webhook_env",
        "alerts.email.password_env",
    ]
    assert "XXXXsecret" not in str(raised.value)


def test_an_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"alerts": {"slack": {"webhook": "x"}}})
    assert str(raised.value).splitlines()[1] == (
        "  alerts.slack.webhook: unknown key (expected one of webhook_env, tiers)"
    )


def test_type_errors_say_what_was_expected_and_what_was_given() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"alerts": {"timeout_seconds": "10", "email": {"to": "x"}}})
    text = str(raised.value)
    assert "alerts.timeout_seconds: expected a number from 0.1 to 300, got '10'" in text
    assert "alerts.email.host: required (the SMTP server's name)" in text
    assert "alerts.email.to: expected an email address or a list of them, got 'x'" in text
    assert "(got" not in text  # pydantic's own suffix is not added to these


def test_the_config_file_takes_every_output_format() -> None:
    """`--format` takes five formats; `[output] format` took only three (issue 19)."""
    from billdrift.config import parse_config

    for fmt in ("text", "json", "markdown", "html", "csv"):
        assert parse_config({"output": {"format": fmt}}).output.format == fmt


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("app", "timeout_seconds"),
        ("billing", "mirror_timeout_seconds"),
        ("history", "timeout_seconds"),
    ],
)
def test_database_deadlines_are_positive_and_at_most_a_day(table: str, key: str) -> None:
    assert getattr(getattr(Config(), table), key) == 600
    for fine in (0.5, 86400):
        assert getattr(getattr(parse_config({table: {key: fine}}), table), key) == fine
    for wrong in (0, -1, 86401):
        with pytest.raises(ConfigError, match=f"{table}.{key}"):
            parse_config({table: {key: wrong}})


def test_history_retention_days_are_whole_days_from_one_to_a_century() -> None:
    """`[history.retention]` (issue 18): unset keeps everything; each limit is 1..36500."""
    assert not Config().history.retention.enabled
    for key in ("keep_runs_days", "keep_resolved_days"):
        for fine in (1, 90, 36500):
            retention = parse_config({"history": {"retention": {key: fine}}}).history.retention
            assert getattr(retention, key) == fine and retention.enabled
        for wrong in (0, -1, 36501, "90", 1.5, True):
            with pytest.raises(ConfigError, match=f"history.retention.{key}: expected a whole"):
                parse_config({"history": {"retention": {key: wrong}}})
    with pytest.raises(ConfigError, match="keep_run_days"):
        parse_config({"history": {"retention": {"keep_run_days": 9}}})
