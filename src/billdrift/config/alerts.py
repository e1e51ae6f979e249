"""The ``[alerts]`` table: sinks, when to alert, and how much to mask.

Its own module so the config's other tables and this one each stay readable; the
keys are documented, with an example, in :mod:`billdrift.outputs.alerts.settings`.
Everything is re-exported by :mod:`billdrift.config`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from billdrift.config.validation import expect, problem, problem_line
from billdrift.errors import ConfigError

# --------------------------------------------------------------------------- [alerts]
# Documented, with an example, in billdrift.outputs.alerts.settings. Strict: "10" is
# not a number, true is not an integer. Secrets are named by the environment variable
# holding them (*_env keys), read only when the sinks are built; a present sink table
# turns that sink on.

AlertOn = Literal["urgent", "new", "all", "never"]
Tier = Literal["urgent", "review"]

#: What alerts mask: emails only (the default: on-call needs the ids to act), nothing,
#: or emails and every id (for channels read outside the team).
MaskMode = Literal["none", "emails", "all"]

ALERT_ON_VALUES: tuple[AlertOn, ...] = ("urgent", "new", "all", "never")
MASK_MODES: tuple[MaskMode, ...] = ("none", "emails", "all")
TIERS: tuple[Tier, ...] = ("urgent", "review")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _http_url(url: str) -> str:
    if not is_http_url(url):
        raise problem("expected an http:// or https:// URL")  # not echoed: it may hold a token
    return url


def _env_name(name: str) -> str:
    if not _ENV_NAME.match(name):  # not echoed: someone may have pasted the secret itself
        raise problem(
            "expected the NAME of an environment variable (letters, digits, underscores), "
            "not its value"
        )
    return name


#: Some text, trimmed; not echoed in errors (a key like this may hold anything).
NonEmpty = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    expect("a non-empty string", echo=False),
]
#: The NAME of an environment variable.
EnvName = Annotated[NonEmpty, AfterValidator(_env_name)]
Tiers = Annotated[
    tuple[Tier, ...],
    Field(strict=False, min_length=1),  # TOML gives a list
    AfterValidator(lambda tiers: tuple(t for t in TIERS if t in tiers)),
    expect(f"a non-empty list of {', '.join(TIERS)}"),
]
Address = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s<>]+@[^@\s<>]+$")]


class _Table(BaseModel):
    """One TOML table: unknown keys and a missing required key are reported by name."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _table(cls, data: object) -> object:
        if isinstance(data, BaseModel):
            return data
        if not isinstance(data, Mapping):
            raise problem(f"expected a table, got {type(data).__name__}")
        names = [field.alias or name for name, field in cls.model_fields.items()]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise problem(f"unknown key (expected one of {', '.join(names)})", unknown[0])
        # A required key left out is validated as None, so its error says what was expected.
        fields = cls.model_fields.items()
        required = {field.alias or name: None for name, field in fields if field.is_required()}
        return {**required, **cls._defaults(dict(data))}

    @classmethod
    def _defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Defaults that depend on other keys (none unless a table says so)."""
        return data


class SlackSettings(_Table):
    """A Slack incoming webhook. Its URL is a credential, so only its env var is named."""

    webhook_env: EnvName = "SLACK_WEBHOOK_URL"
    tiers: Tiers = TIERS


class WebhookSettings(_Table):
    """An HTTP receiver, the body HMAC-signed with the secret in ``secret_env``
    (``url_env``: for a URL that itself carries a token)."""

    url: Annotated[NonEmpty, AfterValidator(_http_url)] | None = None
    url_env: EnvName | None = None
    secret_env: EnvName = "BILLDRIFT_WEBHOOK_SECRET"
    tiers: Tiers = TIERS

    @model_validator(mode="after")
    def _one_url(self) -> WebhookSettings:
        if (self.url is None) == (self.url_env is None):
            raise problem("set exactly one of 'url' or 'url_env'")
        return self


class EmailSettings(_Table):
    """SMTP delivery. ``ssl`` is implicit TLS (port 465), ``starttls`` upgrades port 587."""

    host: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1),
        expect("a non-empty string", echo=False, missing="required (the SMTP server's name)"),
    ]
    port: Annotated[int, Field(ge=1, le=65535), expect("an integer from 1 to 65535")]
    starttls: Annotated[bool, expect("true or false")]
    ssl: Annotated[bool, expect("true or false")] = False
    username: NonEmpty | None = None
    password_env: EnvName | None = None
    from_address: Annotated[Address, expect("an email address")] = Field(alias="from")
    to: Annotated[
        tuple[Address, ...],
        Field(strict=False, min_length=1),  # TOML gives a list
        BeforeValidator(lambda value: [value] if isinstance(value, str) else value),
        expect("an email address or a list of them"),
    ]
    tiers: Tiers = TIERS

    @classmethod
    def _defaults(cls, data: dict[str, Any]) -> dict[str, Any]:
        """``starttls`` defaults to on, and the port to 587, unless ``ssl`` (then 465)."""
        ssl = data.get("ssl") is True
        data.setdefault("starttls", not ssl)
        data.setdefault("port", 465 if ssl else 587)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> EmailSettings:
        if self.ssl and self.starttls:
            raise problem(
                "'ssl' (implicit TLS, port 465) and 'starttls' (port 587) exclude each other; "
                "set one"
            )
        if self.username is not None and self.password_env is None:
            raise problem(
                "required with 'username' (the name of the environment variable holding the "
                "SMTP password; never the password itself)",
                "password_env",
            )
        return self


class AlertSettings(_Table):
    """Everything under ``[alerts]``. The defaults alert on nothing until a sink is set."""

    alert_on: Annotated[AlertOn, expect(f"one of {', '.join(ALERT_ON_VALUES)}")] = "new"
    retries: Annotated[int, Field(ge=0, le=10), expect("an integer from 0 to 10")] = 3
    backoff_seconds: Annotated[float, Field(ge=0.0, le=60.0), expect("a number from 0 to 60")] = 1.0
    timeout_seconds: Annotated[
        float, Field(ge=0.1, le=300.0), expect("a number from 0.1 to 300")
    ] = 10.0
    max_findings: Annotated[int, Field(ge=1, le=40), expect("an integer from 1 to 40")] = 10
    report_link: NonEmpty | None = None
    mask: Annotated[MaskMode, expect(f"one of {', '.join(MASK_MODES)}")] = "emails"
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
        """Validate an ``[alerts]`` table on its own; ConfigError names the offending key."""
        try:
            return cls.model_validate({} if data is None else data)
        except ValidationError as error:
            lines = [problem_line(details, prefix.split(".")) for details in error.errors()]
            raise ConfigError("\n".join(lines)) from None
