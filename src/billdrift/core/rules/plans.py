"""Plan drift: the app's plan is not the plan the customer pays for."""

from __future__ import annotations

from billdrift.core.model import Kind
from billdrift.core.rules.base import Rule, RuleContext
from billdrift.core.rules.evidence import BILLING_SAYS, account_evidence_with
from billdrift.core.rules.shape import Value
from billdrift.core.rules.wording import Joined, Quoted, Template, ident

PLAN_DRIFT_SQL = """
SELECT d.*, 'medium' AS severity, d.match_confidence AS confidence,
       d.matched_customer_id AS customer_id, e.expected_plans
FROM account_detail d
JOIN plan_drift_accounts x ON x.account_id = d.account_id
LEFT JOIN expected_plans e ON e.subscription_id = d.subscription_id
"""


_PLAN_DRIFT_MESSAGE: Template = (
    *BILLING_SAYS,
    ", which maps to plan ",
    Joined("expected_plans"),
    ", but the app gives account ",
    ident("account_id"),
    " ",
    Quoted("plan", missing="no plan"),
    ".",
)

_PLAN_DRIFT_FIX: Template = (
    "Set the account's plan to the one paid for, or fix the [plans] map if this price "
    "maps to another plan.",
)

#: The plans the subscription maps to, after the account evidence (absent when none).
_PLAN_EVIDENCE = account_evidence_with(("expected_plans", Value("expected_plans", "nonempty")))


def plans_comparable(context: RuleContext) -> bool:
    return bool(context.policy.plans) and bool(context.app_mapping.get("plan"))


RULES = (
    Rule(
        Kind.PLAN_DRIFT,
        "The app's plan differs from the plan the subscription's price, lookup key or "
        "product maps to in [plans].",
        PLAN_DRIFT_SQL,
        reads=("account_detail", "plan_drift_accounts", "expected_plans"),
        message=_PLAN_DRIFT_MESSAGE,
        fix=_PLAN_DRIFT_FIX,
        evidence=_PLAN_EVIDENCE,
        applies=plans_comparable,
        not_applied_because="needs a [plans] map in the config and a plan column in the app",
    ),
)
