"""What the engine and its rules judge by: a small frozen object, not the configuration.

The configuration also says where to read, how to render, where to record history
and whom to alert; the core needs none of that. :func:`from_config` copies out what
it does need, in this one place, so the core's inputs are visible in one class, a
rule cannot come to depend on an unrelated setting, another front-end (a library
caller, a warehouse job) can build a :class:`Policy` without a config file, and the
core does not import the configuration module at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from billdrift.core.model import Kind, Severity

if TYPE_CHECKING:
    from billdrift.config import Config, StatusPolicy

Decision = Literal["entitled", "grace", "not_entitled"]


@dataclass(frozen=True)
class StatusDecision:
    """What one provider's subscription status means for access."""

    provider: str
    status: str  # as configured; the policy relations trim and lower-case it
    decision: Decision


@dataclass(frozen=True)
class Exemption:
    """A known, reviewed mismatch (an ``[[exceptions]]`` entry): findings for this
    account and/or customer, of this kind or any, are suppressed until it expires."""

    account: str | None
    customer: str | None
    kind: Kind | None
    reason: str
    expires: datetime | None


@dataclass(frozen=True)
class Policy:
    """Everything the engine and the rules read from configuration."""

    #: Days a subscription whose payment failed still entitles, from its period start.
    grace_days: int
    statuses: tuple[StatusDecision, ...]
    #: App-side status values (a status column as access field) that grant access.
    app_granting_statuses: tuple[str, ...]
    free_plans: tuple[str, ...]
    internal_email_patterns: tuple[str, ...]  # glob patterns
    internal_roles: tuple[str, ...]
    #: Several accounts may share one customer on purpose (no duplicate-customer rule).
    team_billing: bool
    partial_min_links: int
    partial_max_missing_ratio: float
    max_skipped_ratio: float
    #: (price id, lookup key, product id or plan name; plan), in configuration order.
    plans: tuple[tuple[str, str], ...]
    exceptions: tuple[Exemption, ...]
    fail_on: Severity


def over_share(part: int, whole: int, share: float) -> bool:
    """Whether `part` of `whole` is more than `share` (a ``*_ratio`` setting), compared
    exactly, as the decimal the setting was written as: in binary floating point
    ``0.29 * 100`` is 28.999999999999996, so 29 rows of 100 counted as more than 0.29
    and a run at exactly the configured share was an ERROR. ``check`` and ``doctor``
    both judge by this one function, so they agree at the boundary."""
    return whole > 0 and Fraction(part, whole) > Fraction(repr(share))


def from_config(config: Config) -> Policy:
    """The policy a configuration states: the one place the core's view of it is built."""
    policy = config.policy
    return Policy(
        grace_days=policy.grace_days,
        statuses=tuple(
            StatusDecision(provider, status, decision)
            for provider, statuses in policy.statuses.items()
            for decision, names in _by_decision(statuses)
            for status in names
        ),
        app_granting_statuses=tuple(policy.app_granting_statuses),
        free_plans=tuple(policy.free_plans),
        internal_email_patterns=tuple(policy.internal_email_patterns),
        internal_roles=tuple(policy.internal_roles),
        team_billing=policy.team_billing,
        partial_min_links=policy.partial_min_links,
        partial_max_missing_ratio=policy.partial_max_missing_ratio,
        max_skipped_ratio=policy.max_skipped_ratio,
        plans=tuple(config.plans.items()),
        exceptions=tuple(
            Exemption(e.account, e.customer, e.kind, e.reason, e.expires) for e in config.exceptions
        ),
        fail_on=config.fail_on,
    )


def _by_decision(statuses: StatusPolicy) -> tuple[tuple[Decision, tuple[str, ...]], ...]:
    return (
        ("entitled", statuses.entitled),
        ("grace", statuses.grace),
        ("not_entitled", statuses.not_entitled),
    )
