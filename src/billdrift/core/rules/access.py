"""The two directions that matter most: paying customers locked out, and access
that nobody pays for. Plus the cases a machine must not decide alone."""

from __future__ import annotations

from billdrift.core.model import Finding, Kind
from billdrift.core.rules.base import Row, Rule, finding
from billdrift.core.rules.evidence import (
    ACCOUNT_EVIDENCE,
    account_evidence_with,
    app_says,
    billing_says,
)
from billdrift.core.rules.shape import Value
from billdrift.core.sql import sql
from billdrift.core.words import Words, ident, words

# Low-confidence matches (normalized email) never count as high-confidence drift.
_SEVERITY_BY_MATCH = "CASE WHEN match_confidence >= 0.9 THEN 'high' ELSE 'medium' END"

PAID_BUT_BLOCKED_SQL = sql(
    """
SELECT *, {severity} AS severity, match_confidence AS confidence,
       matched_customer_id AS customer_id
FROM account_detail WHERE state = 'paid_but_blocked'
""",
    severity=_SEVERITY_BY_MATCH,
)

UNPAID_BUT_ACTIVE_SQL = sql(
    """
SELECT *, {severity} AS severity, match_confidence AS confidence,
       matched_customer_id AS customer_id
FROM account_detail WHERE state = 'unpaid_but_active'
""",
    severity=_SEVERITY_BY_MATCH,
)

AMBIGUOUS_SQL = """
SELECT *, 'low' AS severity, 0.0 AS confidence, matched_customer_id AS customer_id
FROM account_detail WHERE state = 'ambiguous'
"""


def _paid_but_blocked(row: Row) -> Finding:
    field = row.get("primary_field") or "the access flag"
    return finding(
        Kind.PAID_BUT_BLOCKED,
        row,
        words(billing_says(row), ", but ", app_says(row), "."),
        words(
            f"Restore access now (set {field} for account ",
            ident(row["account_id"]),
            "), then find why the subscription webhook did not update it (failed delivery, "
            "rolled-back write).",
        ),
        ACCOUNT_EVIDENCE,
    )


def _unpaid_but_active(row: Row) -> Finding:
    return finding(
        Kind.UNPAID_BUT_ACTIVE,
        row,
        words(billing_says(row), ", but ", app_says(row), "."),
        "Review before revoking: confirm the subscription state in the provider, then revoke "
        "access, or record an exception with the reason (comped, contract) if intended.",
        ACCOUNT_EVIDENCE,
    )


def _ambiguous(row: Row) -> Finding:
    reason = row.get("ambiguous_reason")
    if reason == "match_collision":
        message = words(
            "Account ",
            ident(row["account_id"]),
            f" matches several billing customers by {row.get('match_method')}: ",
            _candidates(row.get("candidates")),
            ".",
        )
        fix = "Store the billing customer id on the account so the match is exact."
    elif reason == "billing_row_unreadable":
        message = words(
            "A billing row for ",
            ident(row.get("matched_customer_id") or row.get("linked_customer_id")),
            " could not be read, so account ",
            ident(row["account_id"]),
            " cannot be judged (",
            app_says(row),
            ").",
        )
        fix = "Fix the unreadable billing row listed under skipped rows and run again."
    else:
        message = words(billing_says(row), "; it cannot be classified automatically.")
        fix = (
            "Decide what this status means for access and add it to the policy "
            "(policy.statuses), or fix the missing billing data."
        )
    return finding(Kind.AMBIGUOUS, row, message, fix, _AMBIGUOUS_EVIDENCE)


#: Why a human must decide, after the account evidence.
_AMBIGUOUS_EVIDENCE = account_evidence_with(("reason", Value("ambiguous_reason")))


def _candidates(candidates: object) -> Words:
    """'cus_A, cus_B' (the stage's list) with each customer id kept apart."""
    if not isinstance(candidates, list | tuple):
        return words(candidates)
    parts: list[object] = []
    for i, customer in enumerate(candidates):
        parts += [", "] if i else []
        parts.append(ident(customer))
    return words(*parts)


RULES = (
    Rule(
        Kind.PAID_BUT_BLOCKED,
        "The provider entitles the customer (active, trialing, past_due within grace, "
        "cancel-at-period-end before the period ends) but the app denies access.",
        PAID_BUT_BLOCKED_SQL,
        _paid_but_blocked,
        reads=("account_detail",),
        evidence=ACCOUNT_EVIDENCE,
    ),
    Rule(
        Kind.UNPAID_BUT_ACTIVE,
        "The provider does not entitle the customer (canceled, unpaid, incomplete, paused, "
        "past_due beyond grace) but the app grants access.",
        UNPAID_BUT_ACTIVE_SQL,
        _unpaid_but_active,
        reads=("account_detail",),
        evidence=ACCOUNT_EVIDENCE,
    ),
    Rule(
        Kind.AMBIGUOUS,
        "Unknown statuses, undeterminable grace windows and match collisions: a human decides.",
        AMBIGUOUS_SQL,
        _ambiguous,
        reads=("account_detail",),
        evidence=_AMBIGUOUS_EVIDENCE,
    ),
)
