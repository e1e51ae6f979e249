"""Shared wording and evidence for per-account rules, so every finding reads alike."""

from __future__ import annotations

from billdrift.core.rules.base import Row, sentence, when
from billdrift.core.rules.shape import Group, Value
from billdrift.core.words import Words, ident, words

_REASONS = {
    "entitled_status": "an entitling status",
    "cancels_later": "cancellation scheduled for {end}; paid until then",
    "within_grace": "payment failed; within the grace window until {grace_until}",
    "beyond_grace": "payment failed at {current_period_start}; grace ended {grace_until}",
    "no_grace": "payment failed; no grace period (policy.grace_days = 0)",
    "cancel_at_passed": "cancellation took effect at {cancel_at}",
    "period_ended_after_cancel": "set to cancel at period end, which passed at {end}",
    "not_entitled_status": "not an entitling status",
    "unknown_status": "a status the policy does not know",
    "grace_undeterminable": "payment failed but the period start is unknown, so the grace "
    "window cannot be computed",
}


def billing_says(row: Row) -> Words:
    """'Stripe says sub_1 is past_due (payment failed; ...)'."""
    provider = sentence(str(row.get("provider") or "billing"))
    reason = _REASONS.get(str(row.get("entitlement_reason")), "")
    if "{" in reason:  # only some reasons name instants: format those alone
        reason = reason.format(
            end=when(row.get("cancel_at") or row.get("current_period_end")),
            grace_until=when(row.get("grace_until")),
            current_period_start=when(row.get("current_period_start")),
            cancel_at=when(row.get("cancel_at")),
        )
    return words(
        f"{provider} says ",
        ident(row.get("subscription_id")),
        f" is {row.get('status')} ({reason})",
    )


def app_says(row: Row) -> Words:
    verb = "grants" if row.get("app_grants") else "denies"
    field = row.get("primary_field")
    shown = f" ({field}={row.get('primary_raw')})" if field else " (no access field set)"
    return words(f"the app {verb} access to account ", ident(row.get("account_id")), shown)


def fields_of(row: Row) -> dict[str, str | None] | None:
    """The app's access fields as read: field name -> raw value (None when empty)."""
    fields = row.get("app_fields")
    return None if fields is None else {item["field"]: item["value"] for item in fields}


def fields_text(row: Row) -> str:
    """'has_paid_access=0, subscription_status=active', for messages."""
    fields = fields_of(row) or {}
    return ", ".join(f"{name}={'null' if raw is None else raw}" for name, raw in fields.items())


#: The raw values from both sides that led to a per-account finding.
ACCOUNT_EVIDENCE = Group(
    (
        (
            "billing",
            Group(
                (
                    ("provider", Value("provider")),
                    ("subscription_id", Value("subscription_id")),
                    ("status", Value("status")),
                    ("entitles", Value("entitles")),
                    ("entitlement_reason", Value("entitlement_reason")),
                    ("current_period_start", Value("current_period_start", "instant")),
                    ("current_period_end", Value("current_period_end", "instant")),
                    ("cancel_at_period_end", Value("cancel_at_period_end")),
                    ("cancel_at", Value("cancel_at", "instant")),
                    ("grace_until", Value("grace_until", "instant", ("decision", "grace"))),
                    ("subscriptions", Value("all_subscriptions")),
                    ("source", Value("billing_source_ref")),
                )
            ),
        ),
        (
            "app",
            Group(
                (
                    ("access", Value("app_grants")),
                    ("fields", Value("app_fields", "fields")),
                    ("plan", Value("plan")),
                    ("email", Value("email")),
                    ("customer_id", Value("linked_customer_id")),
                    ("source", Value("source_ref")),
                )
            ),
        ),
        (
            "match",
            Group(
                (
                    ("method", Value("match_method")),
                    # a SQL decimal: a JSON number, not "1.00"
                    ("confidence", Value("match_confidence", "number")),
                    ("candidates", Value("candidates")),
                )
            ),
        ),
    )
)


def account_evidence_with(*more: tuple[str, Value]) -> Group:
    """:data:`ACCOUNT_EVIDENCE` with a rule's own keys after it."""
    return Group((*ACCOUNT_EVIDENCE.items, *more))
