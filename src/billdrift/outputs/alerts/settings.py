"""The ``[alerts]`` settings, as plain frozen dataclasses validated from a mapping.

Kept free of pydantic so the alert package can be used (and tested) on its own;
``config.py`` hands the raw ``[alerts]`` table to :meth:`AlertSettings.from_mapping`.
Every error is a :class:`~billdrift.errors.ConfigError` that names the full key
(``alerts.email.port``) and what was expected, like the rest of the config.

Secrets never live in the file: the Slack webhook URL (it holds a token), the
HMAC secret and the SMTP password are named by the environment variable that
holds them (``*_env`` keys). A sink table being present turns that sink on.

Example::

    [alerts]
    alert_on = "new"          # urgent | new | all | never
    retries = 3               # retries of a failed delivery (so 4 attempts at most)
    backoff_seconds = 1.0     # first retry wait; doubles each time (jittered)
    timeout_seconds = 10.0    # per attempt
    max_findings = 10         # findings listed in one alert
    report_link = "https://ci.example.com/billdrift/latest.html"  # optional

    [alerts.slack]
    webhook_env = "SLACK_WEBHOOK_URL"
    tiers = ["urgent", "review"]   # optional, on every sink

    [alerts.webhook]
    url = "https://ops.example.com/hooks/billdrift"   # or url_env = "..."
    secret_env = "BILLDRIFT_WEBHOOK_SECRET"

    [alerts.email]
    host = "smtp.example.com"
    port = 587
    starttls = true           # or ssl = true (port 465); not both
    username = "billdrift@example.com"
    password_env = "SMTP_PASSWORD"
    from = "billdrift@example.com"
    to = ["ops@example.com"]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from billdrift.errors import ConfigError

AlertOn = Literal["urgent", "new", "all", "never"]
Tier = Literal["urgent", "review"]

ALERT_ON_VALUES: tuple[AlertOn, ...] = ("urgent", "new", "all", "never")
TIERS: tuple[Tier, ...] = ("urgent", "review")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


@dataclass(frozen=True)
class SlackSettings:
    """A Slack incoming webhook. Its URL is a credential, so only its env var is named."""

    webhook_env: str = "SLACK_WEBHOOK_URL"
    tiers: tuple[Tier, ...] = TIERS


@dataclass(frozen=True)
class WebhookSettings:
    """A generic HTTP receiver; the body is HMAC-signed with the secret in ``secret_env``.

    ``url_env`` is for receivers whose URL itself carries a token.
    """

    url: str | None = None
    url_env: str | None = None
    secret_env: str = "BILLDRIFT_WEBHOOK_SECRET"
    tiers: tuple[Tier, ...] = TIERS


@dataclass(frozen=True)
class EmailSettings:
    """SMTP delivery. ``ssl`` is implicit TLS (port 465), ``starttls`` upgrades port 587."""

    host: str
    from_address: str
    to: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None
    tiers: tuple[Tier, ...] = TIERS


@dataclass(frozen=True)
class AlertSettings:
    """Everything under ``[alerts]``. The defaults alert on nothing until a sink is set."""

    alert_on: AlertOn = "new"
    retries: int = 3
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    max_findings: int = 10
    report_link: str | None = None
    slack: SlackSettings | None = None
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None

    @property
    def enabled(self) -> bool:
        """True when alerts could be sent at all (a sink is set and alert_on allows it)."""
        has_sink = any(s is not None for s in (self.slack, self.webhook, self.email))
        return has_sink and self.alert_on != "never"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, prefix: str = "alerts") -> AlertSettings:
        """Validate the ``[alerts]`` table; raises ConfigError naming the offending key."""
        if data is None:
            return cls()
        table = _Table(data, prefix)
        table.only(
            "alert_on",
            "retries",
            "backoff_seconds",
            "timeout_seconds",
            "max_findings",
            "report_link",
            "slack",
            "webhook",
            "email",
        )
        alert_on = table.choice("alert_on", ALERT_ON_VALUES, "new")
        settings = cls(
            alert_on=cast(AlertOn, alert_on),
            retries=table.integer("retries", 3, low=0, high=10),
            backoff_seconds=table.number("backoff_seconds", 1.0, low=0.0, high=60.0),
            timeout_seconds=table.number("timeout_seconds", 10.0, low=0.1, high=300.0),
            max_findings=table.integer("max_findings", 10, low=1, high=40),
            report_link=table.optional_text("report_link"),
            slack=_slack(table.sub("slack")),
            webhook=_webhook(table.sub("webhook")),
            email=_email(table.sub("email")),
        )
        return settings


def _slack(table: _Table | None) -> SlackSettings | None:
    if table is None:
        return None
    table.only("webhook_env", "tiers")
    return SlackSettings(
        webhook_env=table.env_name("webhook_env", "SLACK_WEBHOOK_URL"),
        tiers=table.tiers(),
    )


def _webhook(table: _Table | None) -> WebhookSettings | None:
    if table is None:
        return None
    table.only("url", "url_env", "secret_env", "tiers")
    url = table.optional_text("url")
    url_env = table.optional_env_name("url_env")
    if (url is None) == (url_env is None):
        raise ConfigError(f"{table.prefix}: set exactly one of 'url' or 'url_env'")
    if url is not None:
        check_http_url(url, f"{table.prefix}.url")
    return WebhookSettings(
        url=url,
        url_env=url_env,
        secret_env=table.env_name("secret_env", "BILLDRIFT_WEBHOOK_SECRET"),
        tiers=table.tiers(),
    )


def _email(table: _Table | None) -> EmailSettings | None:
    if table is None:
        return None
    table.only("host", "port", "starttls", "ssl", "username", "password_env", "from", "to", "tiers")
    host = table.optional_text("host")
    if host is None:
        raise ConfigError(f"{table.prefix}.host: required (the SMTP server's name)")
    ssl = table.boolean("ssl", False)
    starttls = table.boolean("starttls", not ssl)
    if ssl and starttls:
        raise ConfigError(
            f"{table.prefix}: 'ssl' (implicit TLS, port 465) and 'starttls' (port 587) "
            "exclude each other; set one"
        )
    username = table.optional_text("username")
    password_env = table.optional_env_name("password_env")
    if username is not None and password_env is None:
        raise ConfigError(
            f"{table.prefix}.password_env: required with 'username' (the name of the "
            "environment variable holding the SMTP password; never the password itself)"
        )
    from_address = table.optional_text("from")
    if from_address is None or not _ADDRESS.match(from_address):
        raise ConfigError(f"{table.prefix}.from: expected an email address, got {from_address!r}")
    to = table.addresses("to")
    return EmailSettings(
        host=host,
        port=table.integer("port", 465 if ssl else 587, low=1, high=65535),
        starttls=starttls,
        ssl=ssl,
        username=username,
        password_env=password_env,
        from_address=from_address,
        to=to,
        tiers=table.tiers(),
    )


def check_http_url(url: str, key: str) -> None:
    """Raise ConfigError unless `url` is an absolute http(s) URL (the URL is not echoed:
    it may hold a token)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}: expected an http:// or https:// URL")


class _Table:
    """Typed reads from one TOML table, each error naming ``prefix.key``."""

    def __init__(self, data: Mapping[str, Any], prefix: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{prefix}: expected a table, got {type(data).__name__}")
        self.data = data
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def only(self, *names: str) -> None:
        unknown = sorted(set(self.data) - set(names))
        if unknown:
            raise ConfigError(
                f"{self.key(unknown[0])}: unknown key (expected one of {', '.join(names)})"
            )

    def sub(self, name: str) -> _Table | None:
        value = self.data.get(name)
        return None if value is None else _Table(value, self.key(name))

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.data.get(name, default)
        if value not in allowed:
            raise ConfigError(
                f"{self.key(name)}: expected one of {', '.join(allowed)}, got {value!r}"
            )
        return str(value)

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{self.key(name)}: expected an integer from {low} to {high}, got {value!r}"
            )
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.data.get(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ConfigError(
                f"{self.key(name)}: expected a number from {low:g} to {high:g}, got {value!r}"
            )
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)}: expected true or false, got {value!r}")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.key(name)}: expected a non-empty string")
        return value.strip()

    def optional_env_name(self, name: str) -> str | None:
        value = self.optional_text(name)
        if value is not None and not _ENV_NAME.match(value):
            # Not echoed: someone may have pasted the secret itself here.
            raise ConfigError(
                f"{self.key(name)}: expected the NAME of an environment variable "
                "(letters, digits, underscores), not its value"
            )
        return value

    def env_name(self, name: str, default: str) -> str:
        return self.optional_env_name(name) or default

    def tiers(self) -> tuple[Tier, ...]:
        value = self.data.get("tiers", list(TIERS))
        if (
            not isinstance(value, list | tuple)
            or not value
            or any(item not in TIERS for item in value)
        ):
            raise ConfigError(
                f"{self.key('tiers')}: expected a non-empty list of {', '.join(TIERS)}, "
                f"got {value!r}"
            )
        return tuple(t for t in TIERS if t in value)

    def addresses(self, name: str) -> tuple[str, ...]:
        value = self.data.get(name)
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list | tuple)
            or not value
            or any(not isinstance(a, str) or not _ADDRESS.match(a.strip()) for a in value)
        ):
            raise ConfigError(
                f"{self.key(name)}: expected an email address or a list of them, got {value!r}"
            )
        return tuple(a.strip() for a in value)
