"""Canonical relations, findings and the vocabulary every other module speaks.

Sources turn files, databases and APIs into the four canonical relations below
(as Arrow tables); rules only ever see these relations. Keeping the schemas in
one place is what lets a new source plug in without touching the rules, and lets
the rules be pushed down as SQL wherever both relations live.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pyarrow as pa

from billdrift.core.words import Words

TS = pa.timestamp("us", tz="UTC")

#: One row per provider subscription, in any status (canceled ones included). A
#: subscription read twice (overlapping exports) is counted once by the engine.
BILLING_SUBSCRIPTIONS = pa.schema(
    [
        pa.field("provider", pa.string(), nullable=False),  # stripe | paddle | ...
        pa.field("subscription_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string()),
        pa.field("customer_email", pa.string()),
        pa.field("status", pa.string()),  # provider status, lower-cased, as given
        pa.field("cancel_at_period_end", pa.bool_()),
        pa.field("cancel_at", TS),  # scheduled end of access: Stripe cancel_at, Paddle
        # scheduled_change effective_at for a cancel or a pause
        pa.field("current_period_start", TS),
        pa.field("current_period_end", TS),
        pa.field("trial_end", TS),
        pa.field("canceled_at", TS),
        pa.field("ended_at", TS),
        pa.field("created", TS),
        pa.field("discount_percent_off", pa.float64()),
        pa.field("discount_amount_off_minor", pa.int64()),  # per billing period, sub currency
        # Where the row was read: the text ("file.json:item 12"), or a label and a
        # number ("export.csv:line " and 7, the label dictionary-encoded): billdrift.core.refs
        pa.field("source_ref", pa.string()),
        pa.field("source_number", pa.int64()),  # null when source_ref is the whole text
    ]
)

#: One row per subscription item (price x quantity). Amounts are always minor units.
BILLING_ITEMS = pa.schema(
    [
        pa.field("subscription_id", pa.string(), nullable=False),
        pa.field("price_id", pa.string()),
        pa.field("lookup_key", pa.string()),
        pa.field("product_id", pa.string()),
        pa.field("plan_name", pa.string()),  # a plan nickname from an export, if any
        pa.field("unit_amount_minor", pa.int64()),  # null when tiered/metered/unknown
        pa.field("currency", pa.string()),  # lower-case ISO 4217
        pa.field("quantity", pa.int64()),
        pa.field("interval", pa.string()),  # day | week | month | year
        pa.field("interval_count", pa.int64()),
    ]
)

#: One row per app account (a user, a workspace, an organization...).
APP_ACCOUNTS = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("customer_id", pa.string()),  # billing link (cus_..., ctm_...)
        pa.field("subscription_id", pa.string()),
        pa.field("email", pa.string()),
        pa.field("plan", pa.string()),
        pa.field("role", pa.string()),
        pa.field("source_ref", pa.string()),  # as in BILLING_SUBSCRIPTIONS: text, or a label
        pa.field("source_number", pa.int64()),  # and its number (billdrift.core.refs)
    ]
)

#: One row per (account, access field). Several fields may gate access; all are read.
APP_ACCESS_SIGNALS = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("field", pa.string(), nullable=False),  # the app's column name
        pa.field("kind", pa.string(), nullable=False),  # "flag" (boolean) | "status" (text)
        pa.field("raw", pa.string()),  # the value as read (status fields lower-cased)
        pa.field("flag", pa.bool_()),  # parsed boolean for kind=flag; null for status/empty
        pa.field("is_primary", pa.bool_(), nullable=False),  # the field that decides access
    ]
)


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= fail_on`` is the fail test."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"expected one of high, medium, low; got {text!r}") from None


#: Each severity's label at the index of its value (index 0 is no severity): how
#: columns of severity values become labels in bulk, and labels values.
SEVERITY_LABELS: tuple[str, ...] = ("", *(severity.label for severity in sorted(Severity)))


class Kind(enum.StrEnum):
    """Finding kinds. These names are a public contract (JSON, alerts, scripts)."""

    PAID_BUT_BLOCKED = "paid_but_blocked"
    UNPAID_BUT_ACTIVE = "unpaid_but_active"
    PLAN_DRIFT = "plan_drift"
    ORPHANED_SUBSCRIPTION = "orphaned_subscription"
    MISSING_BILLING_LINK = "missing_billing_link"
    STALE_BILLING_LINK = "stale_billing_link"
    DUPLICATE_CUSTOMER = "duplicate_customer"
    APP_FIELDS_DISAGREE = "app_fields_disagree"
    AMBIGUOUS = "ambiguous"


#: Urgency order used by every renderer: what needs a human first comes first.
KIND_ORDER: tuple[Kind, ...] = tuple(Kind)


class Verdict(enum.StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"


@dataclass(frozen=True)
class Exposure:
    """Monthly money at stake, as a decimal string in major units of one currency."""

    monthly_amount: str
    currency: str


#: Lifecycle statuses a reported finding can have, in the order a reader wants them.
STATUS_ORDER: tuple[str, ...] = ("new", "reopened", "ongoing")


@dataclass(frozen=True)
class Tracking:
    """Where a finding stands in the run history. Set by the use case that records
    runs (only when a history store is configured), so every renderer and alert
    sink reads it from the finding instead of opening the store.
    """

    #: "new", "reopened" or "ongoing" (see billdrift.history.lifecycle).
    status: str
    #: The full sha256 fingerprint (billdrift.history.fingerprint).
    fingerprint: str
    first_seen: datetime
    #: The review decision in force: "acknowledged", "snoozed" or "expected".
    review: str | None = None
    #: Until when a snooze (or an expected finding's exception) holds.
    review_until: datetime | None = None

    @property
    def short(self) -> str:
        """The fingerprint as people type it (``billdrift review ack 1a2b3c4d5e6f``)."""
        return self.fingerprint[:12]

    @property
    def changed(self) -> bool:
        """New or back since the previous run."""
        return self.status != "ongoing"


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    confidence: float
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    exposure: Exposure | None
    message: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)
    #: `message` and `fix` as parts, the ids and emails they name kept apart, so masking
    #: replaces exactly those (empty for a finding read back from history: its text
    #: then has only its emails masked).
    message_words: Words = field(default=(), compare=False, repr=False)
    fix_words: Words = field(default=(), compare=False, repr=False)
    #: Its history, when runs are recorded; None otherwise (never a guess).
    tracking: Tracking | None = None


#: Any frozen dataclass :func:`filled` builds.
_Frozen = TypeVar("_Frozen")


def filled(cls: type[_Frozen], /, **fields: Any) -> _Frozen:
    """``cls(**fields)`` for a frozen dataclass without its generated ``__init__``.

    The one place billdrift tunes object construction: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__``, which was a third of
    wording a finding and of giving it its tracking, and a run at 1M makes 35,000 of
    each (issue 17, issue 18). The object is the same; `fields` must name every field
    (``tests/core/test_built_finding.py`` compares the results with the constructor's).
    """
    made = object.__new__(cls)
    made.__dict__.update(fields)
    return made


def built_finding(
    kind: Kind,
    severity: Severity,
    confidence: float,
    account_id: str | None,
    customer_id: str | None,
    subscription_id: str | None,
    exposure: Exposure | None,
    message: str,
    fix: str,
    evidence: dict[str, Any],
    message_words: Words,
    fix_words: Words,
) -> Finding:
    """``Finding(...)`` with these fields (and no tracking), for the rules' builders
    (filled in one step: see :func:`filled`)."""
    return filled(
        Finding,
        kind=kind,
        severity=severity,
        confidence=confidence,
        account_id=account_id,
        customer_id=customer_id,
        subscription_id=subscription_id,
        exposure=exposure,
        message=message,
        fix=fix,
        evidence=evidence,
        message_words=message_words,
        fix_words=fix_words,
        tracking=None,
    )


@dataclass(frozen=True)
class Skip:
    """A row or record that could not be read. Reported, never silently dropped."""

    side: str  # "billing" | "app"
    source: str  # file name or redacted URL
    location: str  # "line 14", "data[3]", "row id=42"
    reason: str
    field: str | None = None
    #: The billing customer id the unreadable row refers to, when that much could be
    #: read. Lets the rules hold back judgement on that customer instead of
    #: reporting a false stale link or orphan.
    customer_id: str | None = None
    #: Read, and left out on purpose (deleted at the source, issue 17): listed like any
    #: skip, but not counted against policy.max_skipped_ratio, as nothing was unreadable.
    left_out: bool = False


@dataclass(frozen=True)
class SyncTime:
    """When a warehouse or mirror table was last synced from the provider (issue 17): a
    mirror that stopped syncing shows yesterday's state as today's."""

    table: str  # the subscriptions table, qualified
    column: str  # the sync-time column found among its columns
    layout: str  # who writes that column (Fivetran, Airbyte, ...)
    newest: datetime | None  # its newest value, UTC; None when no row has one


@dataclass(frozen=True)
class BillingData:
    """What a billing source read: the two billing relations plus what it skipped."""

    subscriptions: pa.Table
    items: pa.Table
    skips: tuple[Skip, ...] = ()
    description: str = ""
    #: Things the user should know about how the input was read (amount units
    #: detected, columns guessed...). Shown in every report; never silent.
    notes: tuple[str, ...] = ()
    #: A warehouse's or mirror's newest sync, checked against billing.max_sync_age_hours
    #: at the run's as-of instant; None for sources that are not synced copies.
    synced: SyncTime | None = None


@dataclass(frozen=True)
class AppData:
    """What an app source read, and how its columns were mapped (shown in reports)."""

    accounts: pa.Table
    signals: pa.Table
    skips: tuple[Skip, ...] = ()
    description: str = ""
    mapping: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
