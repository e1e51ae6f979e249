"""Plan drift: the app's plan is not the plan the customer pays for."""

from __future__ import annotations

from billdrift.model import Finding, Kind
from billdrift.rules.base import Row, Rule, RuleContext, finding
from billdrift.rules.evidence import account_evidence, billing_says

#: Plans each subscription pays for, via any key the plan map knows.
_MAPPED_PLANS = """
SELECT DISTINCT subscription_id, plan FROM (
  SELECT i.subscription_id, lower(pm.plan) AS plan
  FROM billing_items i JOIN plan_map pm ON pm.key = i.price_id
  UNION ALL
  SELECT i.subscription_id, lower(pm.plan) FROM billing_items i
  JOIN plan_map pm ON pm.key = i.lookup_key
  UNION ALL
  SELECT i.subscription_id, lower(pm.plan) FROM billing_items i
  JOIN plan_map pm ON pm.key = i.product_id
  UNION ALL
  SELECT i.subscription_id, lower(pm.plan) FROM billing_items i
  JOIN plan_map pm ON pm.key = i.plan_name
) keyed
"""

PLAN_DRIFT_SQL = f"""
WITH mapped AS ({_MAPPED_PLANS}),
expected AS (
  SELECT subscription_id, string_agg(plan, ', ' ORDER BY plan) AS expected_plans
  FROM mapped GROUP BY subscription_id
)
SELECT s.*, e.expected_plans, 'medium' AS severity, s.match_confidence AS confidence,
       s.matched_customer_id AS customer_id, s.sub_monthly_minor AS monthly_minor,
       s.sub_currency AS currency
FROM account_state s
JOIN expected e ON e.subscription_id = s.subscription_id
WHERE s.state = 'in_sync' AND s.entitles AND s.app_grants
  AND NOT EXISTS (SELECT 1 FROM mapped m
                  WHERE m.subscription_id = s.subscription_id
                    AND m.plan = lower(trim(coalesce(s.plan, ''))))
"""


def _plan_drift(row: Row) -> Finding:
    app_plan = row.get("plan")
    shown = repr(app_plan) if app_plan is not None else "no plan"
    evidence = account_evidence(row)
    evidence["expected_plans"] = row.get("expected_plans")
    return finding(
        Kind.PLAN_DRIFT,
        row,
        f"{billing_says(row)}, which maps to plan {row.get('expected_plans')}, but the app "
        f"gives account {row['account_id']} {shown}.",
        "Set the account's plan to the one paid for, or fix the [plans] map if this price "
        "maps to another plan.",
        evidence,
    )


def _can_compare_plans(context: RuleContext) -> bool:
    return bool(context.config.plans) and bool(context.app_mapping.get("plan"))


RULES = (
    Rule(
        Kind.PLAN_DRIFT,
        "The app's plan differs from the plan the subscription's price, lookup key or "
        "product maps to in [plans].",
        PLAN_DRIFT_SQL,
        _plan_drift,
        applies=_can_compare_plans,
        not_applied_because="needs a [plans] map in the config and a plan column in the app",
    ),
)
