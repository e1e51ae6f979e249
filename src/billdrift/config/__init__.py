"""Configuration as data: policy, mappings, plans, exceptions and alerts.

Everything a flag can say, the config file can say too (flags win). The file is
TOML, validated by pydantic so an error names the key and the expected value.
The shared validation helpers are in :mod:`billdrift.config.validation`, the
``[alerts]`` table in :mod:`billdrift.config.alerts`; both are re-exported here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from billdrift.config.alerts import (
    ALERT_ON_VALUES,
    MASK_MODES,
    TIERS,
    AlertOn,
    AlertSettings,
    EmailSettings,
    MaskMode,
    SlackSettings,
    Tier,
    WebhookSettings,
    is_http_url,
)
from billdrift.config.validation import ERROR_TYPE, expect, problem, problem_line
from billdrift.core.instants import InstantError, acceptable
from billdrift.core.model import Kind, Severity
from billdrift.errors import ConfigError
from billdrift.infra.config_file import anchor_paths, read_toml
from billdrift.infra.encodings import known_encoding

__all__ = [
    "ALERT_ON_VALUES",
    "ERROR_TYPE",
    "MASK_MODES",
    "TIERS",
    "AlertOn",
    "AlertSettings",
    "Config",
    "EmailSettings",
    "MaskMode",
    "RetentionConfig",
    "SlackSettings",
    "Tier",
    "WebhookSettings",
    "expect",
    "is_http_url",
    "load_config",
    "parse_config",
    "problem",
    "problem_line",
]

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
    #: A database's Stripe layout: a mirror (sync-engine, dj-stripe) or a warehouse load
    #: (Fivetran, Airbyte, Data Pipeline, Stripe's hosted Postgres); "auto" reads the one
    #: present (introspected), asks for this when several are.
    mirror: Literal[
        "auto",
        "sync-engine",
        "dj-stripe",
        "fivetran",
        "airbyte",
        "data-pipeline",
        "stripe-postgres",
    ] = "auto"
    mirror_timeout_seconds: float = Field(default=600.0, gt=0, le=86400)  # connect to last row
    #: A warehouse or mirror whose newest sync is older than this is an ERROR (exit 2), not
    #: a verdict on stale data (issue 17). 24 h: Fivetran's and Airbyte's daily schedules.
    max_sync_age_hours: float = Field(default=24.0, gt=0, le=8760)
    stripe: StripeApiConfig = StripeApiConfig()
    paddle: PaddleApiConfig = PaddleApiConfig()


def _days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= 36500:
        raise problem(f"expected a whole number of days from 1 to 36500, got {days!r}")
    return days


#: Days a retention setting may say: a whole number from one to a hundred years.
RetentionDays = Annotated[
    int | None,
    Field(strict=True),
    expect("a whole number of days from 1 to 36500"),
    AfterValidator(_days),
]


class RetentionConfig(_Strict):
    """What ``billdrift history prune`` removes (``[history.retention]``); unset keeps all.

    Reviews (decisions and notes) are never removed, nor is the finding they are about;
    an open finding keeps its latest observation (see billdrift.history.retention)."""

    #: Runs (and what they observed) older than this many days are removed.
    keep_runs_days: RetentionDays = None
    #: Findings resolved longer ago than this, and never reviewed, are removed whole.
    keep_resolved_days: RetentionDays = None
    #: Prune after every recorded run (when a limit above is set).
    prune_after_run: bool = True
    #: Compact the store after pruning (SQLite: VACUUM; PostgreSQL: autovacuum does it).
    compact: bool = True

    @property
    def enabled(self) -> bool:
        return self.keep_runs_days is not None or self.keep_resolved_days is not None


class HistoryConfig(_Strict):
    """Where runs are recorded (``--history``: a SQLite path, a PostgreSQL URL, env:NAME)."""

    location: str | None = None  # unset: no history, so every finding counts as new
    timeout_seconds: float = Field(default=600.0, gt=0, le=86400)  # PostgreSQL: a transaction
    retention: RetentionConfig = RetentionConfig()


class SparkConfig(_Strict):
    """Where a ``spark`` run executes and what it reads (``[engine.spark]``).

    `master` is any Spark master URL (``local[N]`` runs in this process's JVM;
    ``spark://``, ``yarn``, ``sc://`` run on a cluster). `tables` names, per canonical
    relation (``billing_subscriptions``, ``billing_items``, ``app_accounts``,
    ``app_access_signals``), a Parquet or CSV path or a catalog table; a relation not
    named is looked for in the ``--billing`` / ``--app`` directory. `conf` is passed
    to the session as given."""

    master: str = "local[*]"
    tables: dict[str, str] = Field(default_factory=dict)
    conf: dict[str, str] = Field(default_factory=dict)


#: The ``--engine`` targets that are warehouses: both sides read from [engine.warehouse].
WAREHOUSE_TARGETS = ("snowflake", "bigquery", "redshift", "databricks")


class WarehouseConfig(_Strict):
    """Where a warehouse run executes (``[engine.warehouse]``; issue 17, untested here).

    `url` names the warehouse and what to read, never a secret: ``snowflake://USER@ACCOUNT
    /DATABASE/SCHEMA?warehouse=W&role=R``, ``bigquery://PROJECT/DATASET``,
    ``redshift://USER@HOST:PORT/DATABASE``, ``databricks://HOST/HTTP_PATH?catalog=C&schema=S``
    (or ``env:NAME``); passwords and tokens come from the environment only (each target's
    variable is named in its module under :mod:`billdrift.sources.pushdown`). `tables`
    names, per canonical relation, the table or view holding it in billdrift's canonical
    layout; a relation not named is read by its own name in the URL's schema."""

    url: str | None = None
    tables: dict[str, str] = Field(default_factory=dict)


class EngineConfig(_Strict):
    """Where the rules run: in-process (DuckDB, reading both sides over), inside the
    database that holds both sides (``postgres``: the app's tables beside a Stripe
    mirror), or on Spark over tables it can read (``spark``), bringing back only the
    findings (``--engine``)."""

    target: Literal[
        "in-process", "postgres", "spark", "snowflake", "bigquery", "redshift", "databricks"
    ] = "in-process"
    spark: SparkConfig = SparkConfig()
    warehouse: WarehouseConfig = WarehouseConfig()


class OutputConfig(_Strict):
    """How the report is presented; every ``--format`` is accepted here too."""

    format: Literal["text", "json", "markdown", "html", "csv"] = "text"
    output: str | None = None
    fail_on: Literal["high", "medium", "low", "new", "new:high", "new:medium", "new:low"] = "high"
    mask: bool = False


class Config(_Strict):
    """The whole configuration. `plans` maps a price id, lookup key or product id to a plan."""

    policy: Policy = Policy()
    plans: dict[str, str] = Field(default_factory=dict)
    exceptions: tuple[AccessException, ...] = ()
    app: AppConfig = AppConfig()
    billing: BillingConfig = BillingConfig()
    output: OutputConfig = OutputConfig()
    history: HistoryConfig = HistoryConfig()
    engine: EngineConfig = EngineConfig()
    #: Alert sinks and when to alert (keys documented in billdrift.outputs.alerts.settings).
    alerts: AlertSettings = AlertSettings()

    @property
    def fail_on(self) -> Severity:
        return Severity.parse(self.output.fail_on.removeprefix("new").lstrip(":") or "high")


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
