"""Plan drift: the plans a subscription pays for, through the plan map, against the app's."""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.rules.account_stages import NO_ACCOUNTS
from billdrift.core.rules.plans import plans_comparable
from billdrift.core.sql import sql


def _mapped_plans(items: str) -> str:
    """Plans each subscription in `items` (billing items) pays for, through any key
    the plan map knows (a plan may repeat: readers aggregate, so no DISTINCT pass
    over a million items)."""
    return sql(
        """
SELECT i.subscription_id, lower(pm.plan) AS plan
FROM {items} i
JOIN plan_map pm ON pm.key IN (i.price_id, i.lookup_key, i.product_id, i.plan_name)
""",
        items=items,
    )


#: Entitled, in-sync accounts whose app plan is none of the plans their
#: subscription maps to (and it maps to some). Empty when there is no plan map.
#: An anti-join on (subscription, plan) rather than a GROUP BY per account: a
#: million-row aggregate on two text keys costs a third more.
PLAN_DRIFT_ACCOUNTS = Stage(
    "plan_drift_accounts",
    ("billing_items", "plan_map", "account_state"),
    sql(
        """
WITH mapped AS ({mapped})
SELECT s.account_id
FROM account_state s
LEFT JOIN mapped m
  ON m.subscription_id = s.subscription_id AND m.plan = lower(trim(coalesce(s.plan, '')))
WHERE s.state = 'in_sync' AND s.entitles AND s.app_grants AND m.subscription_id IS NULL
  AND s.subscription_id IN (SELECT subscription_id FROM mapped)
""",
        mapped=_mapped_plans("billing_items"),
    ),
    # plans can only drift with a plan map and a plan column
    applies=plans_comparable,
    otherwise=NO_ACCOUNTS,
)

#: The plans the subscription of an account with plan drift maps to, for evidence.
EXPECTED_PLANS = Stage(
    "expected_plans",
    ("billing_items", "account_detail", "plan_drift_accounts", "plan_map"),
    sql(
        """
SELECT subscription_id, list(DISTINCT plan ORDER BY plan) AS expected_plans
FROM ({mapped}) m
GROUP BY subscription_id
""",
        mapped=_mapped_plans(
            """(
  SELECT * FROM billing_items
  WHERE subscription_id IN (
    SELECT subscription_id FROM account_detail
    WHERE account_id IN (SELECT account_id FROM plan_drift_accounts)))"""
        ),
    ),
)
