"""Which findings a fix plan changes, to what, and under which guard: pure decisions.

The rule for every kind is written here once, from the finding's evidence alone
(what billdrift read from each side in the run that found it), so the same
findings and mapping always give the same plan:

- ``paid_but_blocked``: grant access (every access flag to true; a status column
  that decides access to the billing status, when that status grants in the app).
- ``unpaid_but_active``: revoke access, the same way, but only for a finding picked
  out explicitly (by fingerprint or ``--kind``): the README sends unpaid-but-active
  to review (dunning, a manual invoice, a support promise), never to automatic
  suspension. Any change that removes access follows the same rule.
- ``plan_drift``: set the plan column to the one plan ``[plans]`` maps the
  subscription to (several candidates: a person chooses).
- ``app_fields_disagree``: bring the access flags in line with what billing says.
- Everything else cannot be fixed by an UPDATE of that row (an orphaned
  subscription, a missing or stale link, a duplicate link, an ambiguous match, a
  match by normalized email only): it is listed with what to do instead.

Every statement is guarded by the values observed (access fields, plan, customer
link), so a row that changed since the check is left alone. Findings of one account
become one statement: two statements on one row would each guard on values the
other changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from billdrift.core.model import KIND_ORDER, Finding, Kind
from billdrift.core.natural import natural_key
from billdrift.sources.app.booleans import (
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    UnrecognizedBoolean,
    parse_boolean,
)
from billdrift.usecases.fix.model import Change, FindingRef, Guard, NotFixable, Statement

#: Below this match confidence (normalized email: 0.7) nothing is written: a person
#: confirms the account is that customer first.
MIN_CONFIDENCE: Final = 0.9

_INSTEAD: Final[dict[Kind, tuple[str, str]]] = {
    Kind.ORPHANED_SUBSCRIPTION: (
        "no account is linked to this customer, so there is no row to update",
        "link the customer to the account that pays (set its customer id), or cancel the "
        "subscription in the provider if nobody should have it",
    ),
    Kind.MISSING_BILLING_LINK: (
        "the account grants access with no billing link; billdrift cannot know which "
        "customer (if any) pays for it",
        "set the account's customer id if it pays, or revoke its access after checking",
    ),
    Kind.STALE_BILLING_LINK: (
        "the account links to a customer the billing data lacks: a provider-side question",
        "check the billing data covers that customer (account, test or live mode, "
        "canceled subscriptions included), then relink or revoke by hand",
    ),
    Kind.DUPLICATE_CUSTOMER: (
        "one customer is linked from several accounts; which one owns it is a decision",
        "keep the link on the account that pays and clear it on the others (or set "
        "policy.team_billing = true if accounts share a customer on purpose)",
    ),
    Kind.AMBIGUOUS: (
        "billdrift could not decide what billing says about this account",
        "look the customer up in the provider and fix the account by hand",
    ),
}


@dataclass(frozen=True)
class AppColumns:
    """The app columns a plan writes and guards, from the configured ``[app]`` mapping."""

    account_id: str
    access_fields: tuple[str, ...]
    status_fields: tuple[str, ...]
    primary_access_field: str
    plan: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class Selected:
    """A finding chosen for the plan, as it was last observed."""

    fingerprint: str
    finding: Finding
    #: The review decision in force (acknowledged, snoozed, expected), if any.
    review: str | None = None
    #: Picked out by fingerprint or by naming its kind: allows changes that revoke access.
    explicit: bool = False

    @property
    def ref(self) -> FindingRef:
        f = self.finding
        return FindingRef(
            self.fingerprint,
            f.kind.value,
            f.account_id,
            f.customer_id,
            f.subscription_id,
            f.message,
            self.review,
        )


@dataclass(frozen=True)
class _Intent:
    selected: Selected
    changes: dict[str, str]
    guards: tuple[Guard, ...]
    reason: str


def spelled(want: bool, like: str | None) -> str:
    """`want` spelled the way the app already spells that flag (``'0'`` -> ``'1'``,
    ``'False'`` -> ``'True'``, ``'n'`` -> ``'y'``), so the value fits a boolean, an
    integer and a text column alike; ``'1'``/``'0'`` when nothing was observed."""
    key = (like or "").strip().lower()
    pairs = list(zip(TRUE_SPELLINGS, FALSE_SPELLINGS, strict=True))
    for yes, no in pairs:
        if key in (yes, no):
            word = yes if want else no
            if like and like.strip().isupper():
                return word.upper()
            if like and like.strip()[:1].isupper():
                return word.capitalize()
            return word
    return "1" if want else "0"


def _flag(raw: Any) -> bool | None:
    try:
        return parse_boolean(raw)
    except UnrecognizedBoolean:
        return None


def _app(finding: Finding) -> dict[str, Any]:
    app = finding.evidence.get("app")
    return app if isinstance(app, dict) else {}


def _fields(finding: Finding) -> dict[str, Any]:
    """The app's access fields as read: field -> raw value."""
    fields = _app(finding).get("fields")
    return fields if isinstance(fields, dict) else {}


def _billing(finding: Finding) -> dict[str, Any]:
    billing = finding.evidence.get("billing")
    return billing if isinstance(billing, dict) else {}


def guards_for(finding: Finding, columns: AppColumns) -> tuple[Guard, ...]:
    """The observed values an UPDATE of this finding's row must still see."""
    app = _app(finding)
    fields = _fields(finding)
    guards = []
    for name in columns.access_fields:
        guards.append(Guard(name, _text(fields.get(name)), "exact"))
    for name in columns.status_fields:
        guards.append(Guard(name, _text(fields.get(name)), "folded"))
    if columns.plan:
        guards.append(Guard(columns.plan, _text(app.get("plan")), "exact"))
    if columns.customer_id:
        guards.append(Guard(columns.customer_id, _text(app.get("customer_id")), "exact"))
    return tuple(guards)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _access(
    item: Selected, columns: AppColumns, want: bool, granting: Sequence[str]
) -> dict[str, str] | str:
    """Changes that make the app grant (`want`) or deny access; a reason string when
    the app decides access by a status whose right value billdrift cannot know."""
    fields = _fields(item.finding)
    changes = {
        name: spelled(want, _text(fields.get(name)))
        for name in columns.access_fields
        if _flag(fields.get(name)) is not want and (want or _flag(fields.get(name)) is True)
    }
    primary = columns.primary_access_field
    if primary in columns.status_fields:
        status = str(_billing(item.finding).get("status") or "").lower()
        if status and (status in granting) is want:
            changes[primary] = status
        else:
            return (
                f"the app decides access by its status column {primary!r}, and billdrift "
                "does not know which of the app's status values to write"
            )
    return changes


def _intent(item: Selected, columns: AppColumns, granting: Sequence[str]) -> _Intent | NotFixable:
    finding = item.finding
    kind = finding.kind
    if kind in _INSTEAD:
        reason, instead = _INSTEAD[kind]
        return NotFixable(item.ref, reason, instead)
    if finding.account_id is None:
        return NotFixable(item.ref, "the finding names no account", "fix it by hand")
    if finding.confidence < MIN_CONFIDENCE:
        return NotFixable(
            item.ref,
            f"the account was matched to the customer only by normalized email "
            f"(confidence {finding.confidence:g})",
            "confirm the account is that customer and set its customer id; the next "
            "check and plan then match it for sure",
        )
    changes: dict[str, str] | str
    if kind in (Kind.PAID_BUT_BLOCKED, Kind.UNPAID_BUT_ACTIVE):
        want = kind is Kind.PAID_BUT_BLOCKED
        changes = _access(item, columns, want, granting)
        reason = "grant access: billing entitles" if want else "revoke access: billing does not"
    elif kind is Kind.PLAN_DRIFT:
        expected = finding.evidence.get("expected_plans") or []
        if columns.plan is None:
            changes = "no plan column is configured (app.columns.plan)"
        elif len(expected) != 1:
            changes = f"several plans fit the subscription ({', '.join(map(str, expected))})"
        else:
            changes = {columns.plan: str(expected[0])}
        reason = "set the plan [plans] maps the subscription to"
    elif kind is Kind.APP_FIELDS_DISAGREE:
        entitles = _billing(finding).get("entitles")
        if not isinstance(entitles, bool):
            changes = "no billing subscription says which of the app's fields is right"
        else:
            changes = _access(item, columns, entitles, granting)
            if changes == {}:
                changes = (
                    "the access flags already agree with billing; a status column "
                    "disagrees, and billdrift does not write the app's status values"
                )
        reason = "make the access fields agree with billing"
    else:  # a kind added later: listed, never guessed
        changes = f"billdrift has no fix for {kind.value}"
        reason = ""
    if isinstance(changes, str):
        return NotFixable(item.ref, changes, "change the row by hand after checking")
    revokes = any(
        (name in columns.access_fields and _flag(value) is False)
        or (name in columns.status_fields and value not in granting)
        for name, value in changes.items()
    )
    if revokes and not item.explicit:
        return NotFixable(
            item.ref,
            "revoking access is a decision: unpaid-but-active goes to review (dunning, "
            "a manual invoice, a support promise), never to automatic suspension",
            "check with billing or support; to revoke, select it explicitly "
            f"(--fingerprint {item.fingerprint[:12]} or --kind {kind.value})",
        )
    if not changes:
        return NotFixable(item.ref, "the app already holds the values a fix would write", "-")
    return _Intent(item, changes, guards_for(finding, columns), reason)


def decide(
    selected: Iterable[Selected], columns: AppColumns, granting: Sequence[str]
) -> tuple[tuple[Statement, ...], tuple[NotFixable, ...]]:
    """Statements (one per account, in natural id order) and what cannot be fixed."""
    by_account: dict[str, list[_Intent]] = {}
    refused: list[NotFixable] = []
    for item in selected:
        outcome = _intent(item, columns, granting)
        if isinstance(outcome, NotFixable):
            refused.append(outcome)
        else:
            assert outcome.selected.finding.account_id is not None
            by_account.setdefault(outcome.selected.finding.account_id, []).append(outcome)
    statements = []
    for account_id, intents in by_account.items():
        merged = _merge(account_id, intents, columns)
        if isinstance(merged, Statement):
            statements.append(merged)
        else:
            refused.extend(merged)
    statements.sort(key=lambda s: natural_key(s.account_id))
    refused.sort(key=_refused_key)
    return tuple(statements), tuple(refused)


def _merge(
    account_id: str, intents: Sequence[_Intent], columns: AppColumns
) -> Statement | list[NotFixable]:
    intents = sorted(intents, key=lambda i: (KIND_ORDER.index(i.selected.finding.kind),))
    changes: dict[str, str] = {}
    clash = None
    for intent in intents:
        for column, value in intent.changes.items():
            if changes.setdefault(column, value) != value:
                clash = f"findings of this account ask for different values of {column!r}"
    if len({intent.guards for intent in intents}) > 1:
        clash = "this account's findings were observed with different values; run check again"
    if clash:
        return [NotFixable(i.selected.ref, clash, "fix the row by hand") for i in intents]
    guards = intents[0].guards
    before = {guard.column: guard.observed for guard in guards}
    return Statement(
        account_id=account_id,
        key_column=columns.account_id,
        changes=tuple(
            Change(column, before.get(column), value) for column, value in sorted(changes.items())
        ),
        guards=guards,
        findings=tuple(intent.selected.ref for intent in intents),
        reasons=tuple(f"{i.selected.finding.kind.value}: {i.reason}" for i in intents),
    )


def _refused_key(item: NotFixable) -> tuple[object, ...]:
    ref = item.finding
    return (
        KIND_ORDER.index(Kind(ref.kind)),
        natural_key(ref.account_id),
        natural_key(ref.customer_id),
        natural_key(ref.subscription_id),
        ref.fingerprint,
    )
