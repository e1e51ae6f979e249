"""Shared wording and evidence for per-account rules, so every finding reads alike."""

from __future__ import annotations

from billdrift.core.rules.shape import Group, Value
from billdrift.core.rules.wording import Capital, Choice, Fields, Template, When, ident, text

#: When the subscription's access ends: its scheduled cancellation, else its period's end.
_END = text("cancel_at", "current_period_end", instant=True)

#: Why the provider entitles the customer or not, by the entitlement stage's reason.
_REASONS: tuple[tuple[str, Template], ...] = (
    ("entitled_status", ("an entitling status",)),
    ("cancels_later", ("cancellation scheduled for ", _END, "; paid until then")),
    (
        "within_grace",
        ("payment failed; within the grace window until ", text("grace_until", instant=True)),
    ),
    (
        "beyond_grace",
        (
            "payment failed at ",
            text("current_period_start", instant=True),
            "; grace ended ",
            text("grace_until", instant=True),
        ),
    ),
    ("no_grace", ("payment failed; no grace period (policy.grace_days = 0)",)),
    ("cancel_at_passed", ("cancellation took effect at ", text("cancel_at", instant=True))),
    ("period_ended_after_cancel", ("set to cancel at period end, which passed at ", _END)),
    ("not_entitled_status", ("not an entitling status",)),
    ("unknown_status", ("a status the policy does not know",)),
    (
        "grace_undeterminable",
        ("payment failed but the period start is unknown, so the grace window cannot be computed",),
    ),
)

#: 'Stripe says sub_1 is past_due (payment failed; ...)'.
BILLING_SAYS: Template = (
    Capital(text("provider", default="billing")),
    " says ",
    ident("subscription_id"),
    " is ",
    text("status"),
    " (",
    Choice("entitlement_reason", _REASONS),
    ")",
)

#: 'the app denies access to account a1 (has_paid_access=false)'.
APP_SAYS: Template = (
    "the app ",
    When("app_grants", ("grants",), ("denies",), flag=True),
    " access to account ",
    ident("account_id"),
    When(
        "primary_field",
        (" (", text("primary_field"), "=", text("primary_raw"), ")"),
        (" (no access field set)",),
    ),
)

#: 'has_paid_access=0, subscription_status=active' (the app's access fields as read).
FIELDS: Template = (Fields("app_fields"),)


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
