"""Plan drift: the plans a subscription pays for, through the plan map, against the app's.

Each subscription's mapped plans are known one of two ways. A source with one item per
subscription row (a Stripe CSV export) has its one plan resolved from the columns when
loading (:mod:`billdrift.core.item_plans`) and carried on the row (``mapped_plan`` of
``planned_subscriptions``) to where each account meets its subscription
(``customers``, ``account_state``): plan drift is then a filter over the accounts, not a
join of a million items with the map and an anti-join of a million accounts on
(subscription, plan). Any other subscription carries no plan and has its
(subscription, plan) pairs in ``mapped_plans``, compared as before: that general way is
also the one pushed down to PostgreSQL, Spark and the warehouses.
"""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.rules.account_stages import APP_PLAN, NO_ACCOUNTS, PAID_IN_SYNC
from billdrift.core.rules.plans import plans_comparable
from billdrift.core.sql import sql

#: The plans each subscription that carries none on its row pays for, through any key
#: the plan map knows, lower-cased (a plan may repeat: readers aggregate, so no
#: DISTINCT pass over a million items). Empty when there is no plan map.
MAPPED_PLANS = Stage(
    "mapped_plans",
    ("billing_items", "plan_map"),
    """
SELECT i.subscription_id, lower(pm.plan) AS plan
FROM billing_items i
JOIN plan_map pm ON pm.key IN (i.price_id, i.lookup_key, i.product_id, i.plan_name)
""",
    # plans can only drift with a plan map and a plan column
    applies=plans_comparable,
    otherwise="""SELECT CAST(NULL AS VARCHAR) AS subscription_id, CAST(NULL AS VARCHAR) AS plan
LIMIT 0""",
)

#: Every billing subscription row with the one plan it maps to when that is carried on
#: the row (``mapped_plan``). Here, the general way, none is: loading registers the
#: rows with their plan in place of this view when it can
#: (:func:`billdrift.core.item_plans.aligned_plans`).
PLANNED_SUBSCRIPTIONS = Stage(
    "planned_subscriptions",
    ("billing_subscriptions",),
    "SELECT b.*, CAST(NULL AS VARCHAR) AS mapped_plan FROM billing_subscriptions b",
    view=True,
)

#: Entitled, in-sync accounts whose app plan is none of the plans their subscription
#: maps to (and it maps to some), with the subscription and the plan it carries, if
#: any, for :data:`EXPECTED_PLANS`. Empty when there is no plan map. The first branch
#: is a filter over the accounts whose subscription carries its plan; the second
#: compares the others with the pairs of ``mapped_plans`` (an anti-join on
#: (subscription, plan) rather than a GROUP BY per account: a million-row aggregate
#: on two text keys costs a third more; a correlated ``NOT EXISTS`` three times as
#: much). Each branch tests ``mapped_plan`` for NULL first: the column's statistics
#: let the scan skip the row groups the other branch has.
PLAN_DRIFT_ACCOUNTS = Stage(
    "plan_drift_accounts",
    ("account_outcomes", "mapped_plans"),
    sql(
        """
SELECT s.account_id, s.subscription_id, s.mapped_plan
FROM account_outcomes s
WHERE s.mapped_plan IS NOT NULL AND {paid_in_sync} AND s.mapped_plan <> {app_plan}
UNION ALL
SELECT s.account_id, s.subscription_id, s.mapped_plan
FROM account_outcomes s
LEFT JOIN mapped_plans m ON m.subscription_id = s.subscription_id AND m.plan = {app_plan}
WHERE {paid_in_sync} AND s.mapped_plan IS NULL
  AND m.subscription_id IS NULL
  AND s.subscription_id IN (SELECT subscription_id FROM mapped_plans)
""",
        app_plan=APP_PLAN,
        paid_in_sync=PAID_IN_SYNC,
    ),
    applies=plans_comparable,
    otherwise=sql(
        """SELECT account_id, CAST(NULL AS VARCHAR) AS subscription_id,
       CAST(NULL AS VARCHAR) AS mapped_plan FROM ({none}) n""",
        none=NO_ACCOUNTS,
    ),
)

#: The plans the subscription of an account with plan drift maps to, for evidence:
#: the one it carries, or its pairs in ``mapped_plans``.
EXPECTED_PLANS = Stage(
    "expected_plans",
    ("plan_drift_accounts", "mapped_plans"),
    """
SELECT subscription_id, list(DISTINCT plan ORDER BY plan) AS expected_plans
FROM (
  SELECT x.subscription_id, x.mapped_plan AS plan
  FROM plan_drift_accounts x WHERE x.mapped_plan IS NOT NULL
  UNION ALL
  SELECT m.subscription_id, m.plan
  FROM mapped_plans m
  WHERE m.subscription_id IN (
    SELECT x.subscription_id FROM plan_drift_accounts x WHERE x.mapped_plan IS NULL)
) p
GROUP BY subscription_id
""",
)
