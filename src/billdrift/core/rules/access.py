"""The two directions that matter most: paying customers locked out, and access
that nobody pays for. Plus the cases a machine must not decide alone."""

from __future__ import annotations

from billdrift.core.model import Kind
from billdrift.core.rules.base import Rule
from billdrift.core.rules.evidence import (
    ACCOUNT_EVIDENCE,
    APP_SAYS,
    BILLING_SAYS,
    account_evidence_with,
)
from billdrift.core.rules.shape import Value
from billdrift.core.rules.wording import Choice, IdList, Template, ident, text
from billdrift.core.sql import sql

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


#: What both sides say: the direction of the drift is in the rule's name.
_BOTH_SAY: Template = (*BILLING_SAYS, ", but ", *APP_SAYS, ".")

_PAID_BUT_BLOCKED_FIX: Template = (
    "Restore access now (set ",
    text("primary_field", default="the access flag"),
    " for account ",
    ident("account_id"),
    "), then find why the subscription webhook did not update it (failed delivery, "
    "rolled-back write).",
)

_UNPAID_BUT_ACTIVE_FIX: Template = (
    "Review before revoking: confirm the subscription state in the provider, then revoke "
    "access, or record an exception with the reason (comped, contract) if intended.",
)

#: Why a human must decide, by the stage's reason: several customers match, a billing
#: row could not be read, or a status the policy does not know.
_AMBIGUOUS_MESSAGE: Template = (
    Choice(
        "ambiguous_reason",
        (
            (
                "match_collision",
                (
                    "Account ",
                    ident("account_id"),
                    " matches several billing customers by ",
                    text("match_method"),
                    ": ",
                    IdList("candidates"),
                    ".",
                ),
            ),
            (
                "billing_row_unreadable",
                (
                    "A billing row for ",
                    ident("matched_customer_id", "linked_customer_id"),
                    " could not be read, so account ",
                    ident("account_id"),
                    " cannot be judged (",
                    *APP_SAYS,
                    ").",
                ),
            ),
        ),
        (*BILLING_SAYS, "; it cannot be classified automatically."),
    ),
)

_AMBIGUOUS_FIX: Template = (
    Choice(
        "ambiguous_reason",
        (
            (
                "match_collision",
                ("Store the billing customer id on the account so the match is exact.",),
            ),
            (
                "billing_row_unreadable",
                ("Fix the unreadable billing row listed under skipped rows and run again.",),
            ),
        ),
        (
            "Decide what this status means for access and add it to the policy "
            "(policy.statuses), or fix the missing billing data.",
        ),
    ),
)

#: Why a human must decide, after the account evidence.
_AMBIGUOUS_EVIDENCE = account_evidence_with(("reason", Value("ambiguous_reason")))


RULES = (
    Rule(
        Kind.PAID_BUT_BLOCKED,
        "The provider entitles the customer (active, trialing, past_due within grace, "
        "cancel-at-period-end before the period ends) but the app denies access.",
        PAID_BUT_BLOCKED_SQL,
        reads=("account_detail",),
        message=_BOTH_SAY,
        fix=_PAID_BUT_BLOCKED_FIX,
        evidence=ACCOUNT_EVIDENCE,
    ),
    Rule(
        Kind.UNPAID_BUT_ACTIVE,
        "The provider does not entitle the customer (canceled, unpaid, incomplete, paused, "
        "past_due beyond grace) but the app grants access.",
        UNPAID_BUT_ACTIVE_SQL,
        reads=("account_detail",),
        message=_BOTH_SAY,
        fix=_UNPAID_BUT_ACTIVE_FIX,
        evidence=ACCOUNT_EVIDENCE,
    ),
    Rule(
        Kind.AMBIGUOUS,
        "Unknown statuses, undeterminable grace windows and match collisions: a human decides.",
        AMBIGUOUS_SQL,
        reads=("account_detail",),
        message=_AMBIGUOUS_MESSAGE,
        fix=_AMBIGUOUS_FIX,
        evidence=_AMBIGUOUS_EVIDENCE,
    ),
)
