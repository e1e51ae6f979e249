"""Plan drift: the app's plan is not the plan the customer pays for."""

from __future__ import annotations

from billdrift.core.model import Finding, Kind
from billdrift.core.rules.base import Row, Rule, RuleContext, finding
from billdrift.core.rules.evidence import account_evidence_with, billing_says
from billdrift.core.rules.shape import Value
from billdrift.core.words import ident, words

PLAN_DRIFT_SQL = """
SELECT d.*, 'medium' AS severity, d.match_confidence AS confidence,
       d.matched_customer_id AS customer_id, e.expected_plans
FROM account_detail d
JOIN plan_drift_accounts x ON x.account_id = d.account_id
LEFT JOIN expected_plans e ON e.subscription_id = d.subscription_id
"""


def _plan_drift(row: Row) -> Finding:
    app_plan = row.get("plan")
    shown = repr(app_plan) if app_plan is not None else "no plan"
    plans = row.get("expected_plans") or []
    return finding(
        Kind.PLAN_DRIFT,
        row,
        words(
            billing_says(row),
            f", which maps to plan {', '.join(plans) or None}, but the app gives account ",
            ident(row["account_id"]),
            f" {shown}.",
        ),
        "Set the account's plan to the one paid for, or fix the [plans] map if this price "
        "maps to another plan.",
        _PLAN_EVIDENCE,
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
        _plan_drift,
        reads=("account_detail", "plan_drift_accounts", "expected_plans"),
        evidence=_PLAN_EVIDENCE,
        applies=plans_comparable,
        not_applied_because="needs a [plans] map in the config and a plan column in the app",
    ),
)
