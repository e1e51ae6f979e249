"""The alert extension point: an :class:`Alert` in, a :class:`Delivery` out.

An Alert is already masked and already cut to what a person should read first,
so a sink only chooses a wire format: it cannot leak an email or reorder the
urgent findings, because it never sees the raw report.

A sink never raises for a failed delivery: it retries what is worth retrying
and reports the outcome as a Delivery, whose error text holds no secret.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal, Self

from billdrift.config import is_http_url
from billdrift.core.model import Exposure, Kind, Severity, Verdict
from billdrift.errors import ConfigError
from billdrift.infra.secrets import check_secret_text, scrub
from billdrift.outputs.alerts.settings import TIERS, AlertSettings, Tier

#: How a finding came to be alerted: first seen, seen again after it had been
#: resolved, already open before (alert_on = "all" with a history store), or simply
#: present in the current report (alert_on = "all" without one).
FindingStatus = Literal["new", "reopened", "ongoing", "current"]
STATUSES: tuple[FindingStatus, ...] = ("new", "reopened", "ongoing", "current")


@dataclass(frozen=True)
class AlertFinding:
    """One finding as an alert shows it: masked as ``alerts.mask`` says, no raw evidence."""

    kind: Kind
    severity: Severity
    status: FindingStatus
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    #: Emails named by the finding (app account and/or billing customer), masked unless
    #: ``alerts.mask = "none"``.
    emails: tuple[str, ...]
    message: str
    fix: str
    exposure: Exposure | None
    #: The finding's fingerprint (64 hex digits): what ``billdrift review`` takes, and
    #: what a receiver can deduplicate or track a ticket on. Always of the real ids.
    fingerprint: str = ""
    #: The customer in the provider's dashboard (None: no customer, a provider without
    #: a known URL form, or ``alerts.mask = "all"``, where the URL would show the id).
    dashboard_url: str | None = None

    @property
    def short_fingerprint(self) -> str:
        """The abbreviated fingerprint people read (any unique prefix is accepted back)."""
        return self.fingerprint[:12]

    @property
    def ids(self) -> str:
        """The masked ids joined the way the text report joins them."""
        parts = (self.account_id, self.customer_id, self.subscription_id)
        return " · ".join(p for p in parts if p)

    @property
    def exposure_text(self) -> str:
        """'USD 29.00/mo', or '' when no money is attached to the finding."""
        if self.exposure is None:
            return ""
        return f"{self.exposure.currency} {self.exposure.monthly_amount}/mo"


@dataclass(frozen=True)
class Alert:
    """What every sink renders: one tier of one run's new and reopened findings."""

    tier: Tier
    verdict: Verdict
    as_of: datetime
    #: kind -> {"new": n, "reopened": n, "ongoing": n, "current": n} (only non-zero
    #: entries), urgent kinds first.
    counts: dict[str, dict[str, int]]
    #: Monthly amount at stake per currency of every alerted finding (not only the
    #: listed ones). Never summed across currencies.
    exposure: dict[str, str]
    #: Up to ``max_findings``, urgent first.
    findings: tuple[AlertFinding, ...]
    #: How many findings this alert covers (may exceed ``len(findings)``).
    total: int
    #: Where the full report is: a URL or a file path. None when there is none.
    report_link: str | None = None

    @property
    def headline(self) -> str:
        """'3 paying customers locked out' / '12 findings to review (10 new, 2 reopened)'."""
        if self.tier == "urgent":
            noun = "paying customer" if self.total == 1 else "paying customers"
            return f"{self.total} {noun} locked out"
        noun = "finding" if self.total == 1 else "findings"
        by_status = self.by_status
        detail = ", ".join(f"{n} {status}" for status, n in by_status.items())
        more = f" ({detail})" if len(by_status) > 1 else ""
        return f"{self.total} {noun} to review{more}"

    @property
    def subject(self) -> str:
        """The one line for an email subject or a chat fallback text."""
        return f"[billdrift] {self.tier.upper()}: {self.headline}"

    @property
    def by_status(self) -> dict[str, int]:
        """Totals over kinds: {"new": n, "reopened": n, ...} in a fixed order."""
        sums: dict[str, int] = {}
        for status in STATUSES:
            total = sum(c.get(status, 0) for c in self.counts.values())
            if total:
                sums[status] = total
        return sums

    @property
    def as_of_text(self) -> str:
        return self.as_of.isoformat().replace("+00:00", "Z")

    @property
    def more(self) -> int:
        """Findings covered but not listed (see the full report)."""
        return self.total - len(self.findings)


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one alert to one sink. ``error`` never holds a secret."""

    sink: str
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None
    tier: Tier | None = None


class AlertSink(ABC):
    """Delivers an Alert somewhere (Slack, a webhook, email...)."""

    name: ClassVar[str]
    #: Tiers this sink is sent; a sink may take only the urgent ones (paging).
    tiers: tuple[Tier, ...] = TIERS

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: AlertSettings, environ: Mapping[str, str]) -> Self:
        """Build the sink from ``[alerts]``, reading its secrets from `environ`.

        Raises ConfigError naming the key and the variable (never its value) when a
        secret is missing, so a misconfigured sink fails the run before any work.
        """

    @abstractmethod
    def send(self, alert: Alert) -> Delivery:
        """Deliver, retrying transient failures; never raise for a failed delivery."""

    @property
    def target(self) -> str:
        """Where this sink sends, fit to print (no token, no password)."""
        return self.name

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in an error or a log line."""
        return ()

    def scrub(self, text: str) -> str:
        """`text` with every secret of this sink replaced by '***', in every spelling
        (raw, escaped, URL-quoted: see :func:`billdrift.infra.secrets.spellings`)."""
        return scrub(text, self.secrets())


def secret_from_env(
    environ: Mapping[str, str], variable: str, key: str, *, spaces: bool = False
) -> str:
    """The value of `variable` (trimmed), or a ConfigError naming `key` and the variable
    only: when it is unset, or holds a control character or (unless `spaces`, for a
    password) whitespace, which no URL or shared secret holds but a bad paste does."""
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(
            f"{key}: the environment variable {variable} is not set (it holds a secret, so "
            "it is read from the environment, never from the config file)"
        )
    try:
        check_secret_text(value, variable, "the secret", spaces=spaces)
    except ConfigError as error:
        raise ConfigError(f"{key}: {error}") from None
    return value


def check_http_url(url: str, key: str) -> None:
    """Raise ConfigError unless `url` is an absolute http(s) URL (the URL is not echoed:
    it may hold a token)."""
    if not is_http_url(url):
        raise ConfigError(f"{key}: expected an http:// or https:// URL")
