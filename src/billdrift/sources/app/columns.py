"""Which app column means what: auto-detection shared by every app source.

Apps name the same idea many ways (``user_id``, ``Account ID``, ``isPro``), so
sources hand this module the column names they found and get back one
:class:`ColumnMapping`. Explicit configuration always wins over a guess, and
every guess is reported (``describe()``, :func:`detection_note`) so a user can
see, and correct, how their data was read. Failing loudly here is deliberate:
reconciling against the wrong column would produce confident nonsense.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from billdrift.config import AppConfig
from billdrift.errors import ConfigError, SourceError

#: Candidate names per role, best first, in normalized form (see :func:`normalize`).
ACCOUNT_ID: Final = (
    "id",
    "user_id",
    "account_id",
    "workspace_id",
    "organization_id",
    "organisation_id",
    "org_id",
    "team_id",
    "tenant_id",
    "company_id",
    "uuid",
    "user_uuid",
    "account_uuid",
)
CUSTOMER_ID: Final = (
    "stripe_customer_id",
    "customer_id",
    "paddle_customer_id",
    "billing_customer_id",
    "chargebee_customer_id",
    "lemonsqueezy_customer_id",
    "stripe_customer",
    "customer",
)
SUBSCRIPTION_ID: Final = (
    "stripe_subscription_id",
    "subscription_id",
    "paddle_subscription_id",
    "billing_subscription_id",
    "chargebee_subscription_id",
    "lemonsqueezy_subscription_id",
    "stripe_subscription",
)
EMAIL: Final = (
    "email",
    "email_address",
    "user_email",
    "billing_email",
    "owner_email",
    "contact_email",
)
PLAN: Final = (
    "plan",
    "plan_tier",
    "tier",
    "plan_name",
    "plan_id",
    "plan_key",
    "subscription_plan",
    "price_id",
    "price_lookup_key",
)
ROLE: Final = ("role", "user_role", "account_type", "user_type", "account_role")
#: Boolean columns that grant access, highest priority first.
ACCESS_FIELDS: Final = (
    "has_paid_access",
    "access_enabled",
    "is_pro",
    "is_paid",
    "is_premium",
    "paid",
    "pro",
    "premium",
    "is_active_subscriber",
    "subscription_active",
    "has_access",
    "is_subscribed",
    "subscribed",
    "is_subscriber",
    "has_subscription",
    "is_paying",
    "paid_access",
    "pro_access",
    "premium_access",
)
#: Text columns holding a subscription status ("active", "canceled"...).
STATUS_FIELDS: Final = (
    "subscription_status",
    "billing_status",
    "stripe_status",
    "paddle_status",
    "plan_status",
    "status",
)

#: The single-column roles, in the order they are resolved (and reported).
ROLES: Final = ("account_id", "customer_id", "subscription_id", "email", "plan", "role")
_CANDIDATES: Final[dict[str, tuple[str, ...]]] = {
    "account_id": ACCOUNT_ID,
    "customer_id": CUSTOMER_ID,
    "subscription_id": SUBSCRIPTION_ID,
    "email": EMAIL,
    "plan": PLAN,
    "role": ROLE,
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s\-.]+")


def normalize(name: str) -> str:
    """Compare column names loosely: ``'Stripe Customer-ID'`` -> ``'stripe_customer_id'``.

    Case, surrounding space, spaces/dashes/dots and camelCase boundaries are
    all ignored, because exports rename columns freely and a near-miss should
    still be found.
    """
    spaced = _CAMEL.sub("_", name.strip())
    return _SEPARATORS.sub("_", spaced.lower()).strip("_")


@dataclass(frozen=True)
class ColumnMapping:
    """How a source's columns map onto the canonical app relations."""

    account_id: str
    customer_id: str | None
    subscription_id: str | None
    email: str | None
    plan: str | None
    role: str | None
    #: Boolean access columns, highest priority first.
    access_fields: tuple[str, ...]
    #: Text status columns (``active``, ``canceled``...).
    status_fields: tuple[str, ...]
    #: The field whose value decides access; one of the two tuples above.
    primary_access_field: str
    #: Which roles were guessed rather than configured (``"access_fields"``...).
    auto_detected: tuple[str, ...] = ()

    def role_column(self, role: str) -> str | None:
        """The source column for one of :data:`ROLES`."""
        value: str | None = getattr(self, role)
        return value

    def fields(self) -> tuple[tuple[str, str], ...]:
        """Every access signal as ``(column, kind)``; kind is ``"flag"`` or ``"status"``."""
        return tuple((name, "flag") for name in self.access_fields) + tuple(
            (name, "status") for name in self.status_fields
        )

    def columns(self) -> tuple[str, ...]:
        """Every source column this mapping reads, without repeats, in a stable order."""
        named = [self.role_column(role) for role in ROLES]
        wanted = [name for name in named if name is not None]
        wanted += [name for name, _ in self.fields()]
        return tuple(dict.fromkeys(wanted))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for reports."""
        return {
            **{role: self.role_column(role) for role in ROLES},
            "access_fields": list(self.access_fields),
            "status_fields": list(self.status_fields),
            "primary_access_field": self.primary_access_field,
            "auto_detected": list(self.auto_detected),
        }

    def describe(self) -> str:
        """One line for humans, e.g. ``account_id=id, access=has_paid_access (primary)``."""
        parts = [f"{role}={column}" for role in ROLES if (column := self.role_column(role))]
        for name, kind in self.fields():
            primary = ", primary" if name == self.primary_access_field else ""
            parts.append(f"access={name} ({kind}{primary})")
        return ", ".join(parts)


def detection_note(mapping: ColumnMapping, source: str) -> str | None:
    """A report note naming every guessed column, or None when nothing was guessed."""
    guessed: list[str] = []
    for role in mapping.auto_detected:
        if role == "access_fields":
            guessed.append(f"access flags <- {', '.join(mapping.access_fields)}")
        elif role == "status_fields":
            guessed.append(f"status fields <- {', '.join(mapping.status_fields)}")
        elif role == "primary_access_field":
            if len(mapping.fields()) > 1:
                guessed.append(f"primary access field <- {mapping.primary_access_field}")
        else:
            guessed.append(f"{role} <- {mapping.role_column(role)}")
    if not guessed:
        return None
    return (
        f"{source}: auto-detected columns: {'; '.join(guessed)}. "
        "Set app.columns.*, app.access_fields, app.status_fields or "
        "app.primary_access_field to override."
    )


def _listing(columns: Iterable[str]) -> str:
    shown = ", ".join(repr(name) for name in columns)
    return shown or "(none)"


class _Resolver:
    """Looks names up in one header: exactly first, then loosely if unambiguous."""

    def __init__(self, columns: Sequence[str], source: str) -> None:
        self.columns = list(columns)
        self.source = source
        self._by_key: dict[str, list[str]] = {}
        for name in self.columns:
            self._by_key.setdefault(normalize(name), []).append(name)

    def configured(self, name: str, key: str) -> str:
        """The column a config entry names; ConfigError if it does not exist."""
        if name in self.columns:
            return name
        loose = list(dict.fromkeys(self._by_key.get(normalize(name), [])))
        if len(loose) == 1:
            return loose[0]
        raise ConfigError(
            f"{key} names column {name!r}, which is not in {self.source}; "
            f"available columns: {_listing(self.columns)}"
        )

    def candidates(self, names: Sequence[str], taken: set[str]) -> list[str]:
        """Columns matching any candidate name, in candidate priority order."""
        found: list[str] = []
        for candidate in names:
            for column in self._by_key.get(candidate, []):
                if column not in taken and column not in found:
                    found.append(column)
                    break
        return found


def detect_columns(
    columns: Sequence[str], options: AppConfig, source: str, partial: bool = False
) -> ColumnMapping:
    """Map `columns` (a header, a table's columns, a query's result) onto roles.

    `source` names where the columns came from ("the header of users.csv",
    "table users") for error messages. Raises :class:`ConfigError` when the
    configuration names a column that does not exist, and
    :class:`SourceError` when no account id or no access field can be found;
    with `partial` (a person is about to choose the missing columns, as on the
    web app's audit page) those two are left empty instead: ``account_id`` and
    ``primary_access_field`` ``""``, no access or status fields.
    """
    resolver = _Resolver(columns, source)
    guessed: list[str] = []
    chosen: dict[str, str | None] = {}
    taken: set[str] = set()

    configured_roles = options.columns.model_dump()
    for role in ROLES:
        name = configured_roles.get(role)
        if name is not None:
            column = resolver.configured(name, f"app.columns.{role}")
            chosen[role] = column
            taken.add(column)
    access = _fields(resolver, options.access_fields, "app.access_fields")
    status = _fields(resolver, options.status_fields, "app.status_fields")
    primary = (
        resolver.configured(options.primary_access_field, "app.primary_access_field")
        if options.primary_access_field is not None
        else None
    )
    taken.update(access or ())
    taken.update(status or ())

    for role in ROLES:
        if role in chosen:
            continue
        found = resolver.candidates(_CANDIDATES[role], taken)
        chosen[role] = found[0] if found else None
        if found:
            taken.add(found[0])
            guessed.append(role)
    if access is None:
        access = tuple(resolver.candidates(ACCESS_FIELDS, taken))
        taken.update(access)
        if access:
            guessed.append("access_fields")
    if status is None:
        status = tuple(resolver.candidates(STATUS_FIELDS, taken))
        if status:
            guessed.append("status_fields")

    account_id = chosen["account_id"]
    if account_id is None and partial:
        account_id = ""
    if account_id is None:
        raise SourceError(
            f"cannot find an account id column in {source} (columns: "
            f"{_listing(resolver.columns)}); expected one of {', '.join(ACCOUNT_ID)}. "
            "Set `app.columns.account_id` to the column that identifies an account."
        )
    overlap = set(access) & set(status)
    if overlap:
        raise ConfigError(
            f"column {sorted(overlap)[0]!r} is listed in both app.access_fields and "
            "app.status_fields; a column is either a boolean flag or a text status"
        )
    if not access and not status and partial:
        primary = ""
    elif not access and not status:
        raise SourceError(
            f"cannot find an access column in {source} (columns: "
            f"{_listing(resolver.columns)}). Name the boolean column(s) that grant paid "
            'access with `app.access_fields` (e.g. ["has_paid_access"]) or text '
            'subscription-status columns with `app.status_fields` (e.g. ["subscription_status"]).'
        )
    if primary is None:
        primary = access[0] if access else status[0]
        guessed.append("primary_access_field")
    elif primary and primary not in access and primary not in status:
        raise ConfigError(
            f"app.primary_access_field {primary!r} is not one of the access fields "
            f"({_listing(access)}) or status fields ({_listing(status)}); add it to "
            "app.access_fields (boolean) or app.status_fields (text)"
        )
    return ColumnMapping(
        account_id=account_id,
        customer_id=chosen["customer_id"],
        subscription_id=chosen["subscription_id"],
        email=chosen["email"],
        plan=chosen["plan"],
        role=chosen["role"],
        access_fields=access,
        status_fields=status,
        primary_access_field=primary,
        auto_detected=tuple(guessed),
    )


def _fields(
    resolver: _Resolver, configured: tuple[str, ...] | None, key: str
) -> tuple[str, ...] | None:
    """Resolve a configured field list (None means "auto-detect later")."""
    if configured is None:
        return None
    resolved = [resolver.configured(name, key) for name in configured]
    return tuple(dict.fromkeys(resolved))
