"""Configuration as data: policy, mappings, plans, exceptions and alerts.

Everything a flag can say, the config file can say too (flags win). The file is
TOML, validated by pydantic so an error names the key and the expected value.
Where pydantic's wording would be its own ("Input should be a valid integer"),
:func:`expect` says it in the file's terms ("expected an integer from 0 to 10,
got -1"), leaving the value out where a secret may have been pasted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
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
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from billdrift.core.instants import InstantError, acceptable
from billdrift.core.model import Kind, Severity
from billdrift.errors import ConfigError
from billdrift.infra.config_file import anchor_paths, read_toml
from billdrift.infra.encodings import known_encoding

#: The type of every error billdrift's validators raise (pydantic's own keep theirs).
ERROR_TYPE = "billdrift_config"


def problem(message: str, key: str | None = None) -> PydanticCustomError:
    """An error saying `message`; `key` names a key inside the table being validated
    (an unknown key, or one another key makes required), added to the error's location."""
    # Without a context pydantic leaves the message as it is (no "{...}" formatting).
    return PydanticCustomError(ERROR_TYPE, message, {"key": key} if key else None)


def expect(what: str, *, echo: bool = True, missing: str | None = None) -> WrapValidator:
    """Replace any error of the wrapped type with "expected `what`, got <value>".

    `echo=False` leaves the value out (a secret may have been pasted there);
    `missing` is the message for a required key left out (validated as None).
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None and missing is not None:
            raise problem(missing)
        try:
            return handler(value)
        except ValidationError:
            shown = f", got {value!r}" if echo else ""
            raise problem(f"expected {what}{shown}") from None

    return WrapValidator(check)


def problem_line(details: ErrorDetails, prefix: Sequence[str] = ()) -> str:
    """``key: message`` for one pydantic error; pydantic's own messages also show the
    value given (the messages of :func:`problem` say it themselves, or must not)."""
    parts = [*prefix, *(str(part) for part in details["loc"])]
    if details["type"] == ERROR_TYPE:
        named = (details.get("ctx") or {}).get("key")
        key = ".".join([*parts, named] if named else parts)
        return f"{key}: {details['msg']}"
    key = ".".join(parts) or "(top level)"
    given = details.get("input")
    shown = "" if isinstance(given, dict) else f" (got {given!r})"
    return f"{key}: {details['msg']}{shown}"


Encoding = Annotated[str, AfterValidator(known_encoding)]
Rate = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # requests per second


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusPolicy(_Strict):
    """How one provider's statuses map to entitlement. Unknown statuses are ambiguous."""

    entitled: tuple[str, ...]
    grace: tuple[str, ...] = ()
    not_entitled: tuple[str, ...]


DEFAULT_STATUSES: dict[str, StatusPolicy] = {
    "stripe": StatusPolicy(
        entitled=("active", "trialing"),
        grace=("past_due",),
        not_entitled=("canceled", "unpaid", "incomplete", "incomplete_expired", "paused"),
    ),
    "paddle": StatusPolicy(
        entitled=("active", "trialing"),
        grace=("past_due",),
        not_entitled=("canceled", "paused"),
    ),
    "lemonsqueezy": StatusPolicy(
        entitled=("active", "on_trial"),
        grace=("past_due",),
        not_entitled=("paused", "unpaid", "cancelled", "expired"),
    ),
    "chargebee": StatusPolicy(
        entitled=("active", "in_trial", "non_renewing"),
        not_entitled=("future", "paused", "cancelled", "transferred"),
    ),
}


class AccessException(_Strict):
    """A known, reviewed mismatch: suppresses matching findings until it expires."""

    account: str | None = None
    customer: str | None = None
    kind: Kind | None = None
    reason: str = Field(min_length=1)
    expires: datetime | None = None

    @field_validator("expires", mode="before")
    @classmethod
    def _date_to_datetime(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value

    @field_validator("expires")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        try:
            return None if value is None else acceptable(value)
        except InstantError as error:
            raise problem(str(error)) from None

    def model_post_init(self, __context: object) -> None:
        if self.account is None and self.customer is None:
            raise ValueError("an exception needs 'account' or 'customer'")


class Policy(_Strict):
    """What entitles, how long dunning grace lasts, who is internal, what is free."""

    grace_days: int = Field(default=7, ge=0, le=3650)  # ten years; no date overflows
    statuses: dict[str, StatusPolicy] = Field(default_factory=lambda: dict(DEFAULT_STATUSES))
    #: App-side status values (a `subscription_status` column) that mean "app grants".
    app_granting_statuses: tuple[str, ...] = ("active", "trialing", "past_due", "paid", "pro")
    free_plans: tuple[str, ...] = ("free", "starter_free", "hobby")
    internal_email_patterns: tuple[str, ...] = ()  # glob patterns, e.g. "*@example.com"
    internal_roles: tuple[str, ...] = ("admin", "staff", "internal", "employee", "test")
    #: Team/workspace billing: several accounts may share one customer on purpose.
    team_billing: bool = False
    #: Partial-data guard: ERROR when at least `partial_min_links` accounts carry a
    #: billing link and more than `partial_max_missing_ratio` of them are unknown.
    partial_min_links: int = Field(default=20, ge=1)
    partial_max_missing_ratio: float = Field(default=0.5, gt=0, le=1)
    #: More unreadable rows than this fraction of a side turns the verdict to ERROR.
    max_skipped_ratio: float = Field(default=0.01, ge=0, le=1)

    @field_validator("statuses", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        return {**DEFAULT_STATUSES, **value} if isinstance(value, dict) else value


class AppColumns(_Strict):
    """Explicit column names; anything left out is auto-detected from the header."""

    account_id: str | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    email: str | None = None
    plan: str | None = None
    role: str | None = None


class AppConfig(_Strict):
    """How to read the app side: a file or database, and which columns mean what."""

    source: str | None = None  # file path or URL; --app overrides
    table: str | None = None
    query: str | None = None  # custom read-only SELECT
    #: Run a custom query even if the role can write past a rolled-back transaction (dblink).
    allow_writable_role: bool = False
    columns: AppColumns = AppColumns()
    access_fields: tuple[str, ...] | None = None  # boolean access columns
    status_fields: tuple[str, ...] | None = None  # text status columns
    primary_access_field: str | None = None
    encoding: Encoding = "utf-8"
    timeout_seconds: float = Field(default=600.0, gt=0, le=86400)  # a database: connect to last row


class StripeApiConfig(_Strict):
    """Reading Stripe's API directly (``--billing stripe``)."""

    #: Environment variables tried in order for the key; the key itself never goes in a file.
    api_key_env: tuple[str, ...] = ("STRIPE_API_KEY", "STRIPE_SECRET_KEY")
    api_base: str = "https://api.stripe.com"
    #: Pinned so payloads do not change shape under billdrift when the account upgrades.
    api_version: str = "2025-03-31.basil"
    #: All endpoints together, and each one. None: defaults under Stripe's (rate_limits.py).
    max_requests_per_second: Rate | None = None
    max_requests_per_second_per_endpoint: Rate | None = None
    #: Requests in flight at once (threads, a created-date range each). None: enough to
    #: keep the rate busy at the latency measured on the first page (rate x latency x 2,
    #: 4 to 64): one thread waiting 0.3 s per page can only ever send 3 requests/s.
    concurrency: int | None = Field(default=None, ge=1, le=64)
    #: Retries of a request that failed with 429, 5xx or a network error (with backoff).
    retries: int = Field(default=6, ge=0, le=20)
    #: The longest one request may take, connect to last byte (a slow peer cannot hold a run).
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    #: Keep a snapshot and ask the Events API only for what changed since (see README).
    incremental: bool = True
    #: Where snapshots live (kept private: 0700); default: $XDG_CACHE_HOME/billdrift.
    snapshot_dir: str | None = None
    #: Also read each customer's active entitlements (features and lookup keys).
    entitlements: bool = False
    entitlements_concurrency: int = Field(default=4, ge=1, le=32)


class PaddleApiConfig(_Strict):
    """Reading Paddle Billing's API directly (``--billing paddle``)."""

    api_key_env: tuple[str, ...] = ("PADDLE_API_KEY",)
    #: None: chosen from the key (sandbox keys hold "_sdbx_").
    api_base: str | None = None
    max_requests_per_second: Rate | None = None
    retries: int = Field(default=6, ge=0, le=20)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


class BillingConfig(_Strict):
    """How to read the billing side."""

    sources: tuple[str, ...] = ()  # files (or, later, provider names / URLs)
    amount_units: Literal["auto", "major", "minor"] = "auto"
    encoding: Encoding = "utf-8"
    #: A database's Stripe mirror layout: sync-engine (stripe.subscriptions) or dj-stripe
    #: (djstripe_subscription); "auto" reads the one present, asks for this when both are.
    mirror: Literal["auto", "sync-engine", "dj-stripe"] = "auto"
    mirror_timeout_seconds: float = Field(default=600.0, gt=0, le=86400)  # connect to last row
    stripe: StripeApiConfig = StripeApiConfig()
    paddle: PaddleApiConfig = PaddleApiConfig()


class HistoryConfig(_Strict):
    """Where runs are recorded (``--history``: a SQLite path, a PostgreSQL URL, env:NAME)."""

    location: str | None = None  # unset: no history, so every finding counts as new
    timeout_seconds: float = Field(default=600.0, gt=0, le=86400)  # PostgreSQL: a transaction


class OutputConfig(_Strict):
    """How the report is presented; every ``--format`` is accepted here too."""

    format: Literal["text", "json", "markdown", "html", "csv"] = "text"
    output: str | None = None
    fail_on: Literal["high", "medium", "low"] = "high"
    mask: bool = False


# --------------------------------------------------------------------------- [alerts]
# Documented, with an example, in billdrift.outputs.alerts.settings. Strict: "10" is
# not a number, true is not an integer. Secrets are named by the environment variable
# holding them (*_env keys), read only when the sinks are built; a present sink table
# turns that sink on.

AlertOn = Literal["urgent", "new", "all", "never"]
Tier = Literal["urgent", "review"]

ALERT_ON_VALUES: tuple[AlertOn, ...] = ("urgent", "new", "all", "never")
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


class Config(_Strict):
    """The whole configuration. `plans` maps a price id, lookup key or product id to a plan."""

    policy: Policy = Policy()
    plans: dict[str, str] = Field(default_factory=dict)
    exceptions: tuple[AccessException, ...] = ()
    app: AppConfig = AppConfig()
    billing: BillingConfig = BillingConfig()
    output: OutputConfig = OutputConfig()
    history: HistoryConfig = HistoryConfig()
    #: Alert sinks and when to alert (keys documented in billdrift.outputs.alerts.settings).
    alerts: AlertSettings = AlertSettings()

    @property
    def fail_on(self) -> Severity:
        return Severity.parse(self.output.fail_on)


def _describe(error: ValidationError, path: str) -> str:
    lines = [f"invalid configuration in {path}:"]
    lines += [f"  {problem_line(details)}" for details in error.errors()]
    return "\n".join(lines)


def parse_config(data: dict[str, object], path: str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, path)) from None


def load_config(path: str | Path | None) -> Config:
    """Read a TOML config file; no path means all defaults. Relative paths inside it
    mean relative to the file (see :mod:`billdrift.infra.config_file`)."""
    if path is None:
        return Config()
    file = Path(path)
    return parse_config(anchor_paths(read_toml(file), file), str(file))
