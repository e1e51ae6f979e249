"""Plan drift: the plans a subscription pays for, through the plan map, against the app's.

The map is resolved per subscription once, before the customers are ranked, and the
one plan a subscription maps to travels with it (``mapped_plan``) to where each
account meets its subscription (``customers``, ``account_state``): plan drift is then
a filter over the accounts, not a join of a million items with the map and an
anti-join of a million accounts on (subscription, plan). Only the subscriptions whose
items map to several plans (several items, or one item whose price and product map
apart) are compared through their (subscription, plan) pairs (``several_plans``).

A source with one item per subscription row (a Stripe CSV export) has these relations
registered by :mod:`billdrift.core.item_plans` without the join; these stages are the
general way, and the one pushed down to PostgreSQL, Spark and the warehouses.
"""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.rules.plans import plans_comparable
from billdrift.core.sql import sql

#: Every distinct (subscription, plan) the subscription's items map to through any key
#: the plan map knows (plans lower-cased), with how many plans that subscription maps
#: to. Subscriptions that map to none have no row.
MAPPED_PLANS = Stage(
    "mapped_plans",
    ("billing_items", "plan_map"),
    """
SELECT subscription_id, plan, count(*) OVER (PARTITION BY subscription_id) AS n_plans
FROM (
  SELECT DISTINCT i.subscription_id, lower(pm.plan) AS plan
  FROM billing_items i
  JOIN plan_map pm ON pm.key IN (i.price_id, i.lookup_key, i.product_id, i.plan_name)
) pairs
""",
    # plans can only drift with a plan map and a plan column
    applies=plans_comparable,
    otherwise="""SELECT CAST(NULL AS VARCHAR) AS subscription_id, CAST(NULL AS VARCHAR) AS plan,
       CAST(NULL AS BIGINT) AS n_plans LIMIT 0""",
)

#: Every billing subscription row with the one plan its items map to (``mapped_plan``;
#: NULL when they map to none or to several). A view: ``customers`` reads it as it
#: evaluates the subscriptions.
PLANNED_SUBSCRIPTIONS = Stage(
    "planned_subscriptions",
    ("billing_subscriptions", "mapped_plans"),
    """
SELECT b.*, m.plan AS mapped_plan
FROM billing_subscriptions b
LEFT JOIN mapped_plans m ON m.subscription_id = b.subscription_id AND m.n_plans = 1
""",
    view=True,
    applies=plans_comparable,
    otherwise="SELECT b.*, CAST(NULL AS VARCHAR) AS mapped_plan FROM billing_subscriptions b",
)

#: The (subscription, plan) pairs of the subscriptions that map to several plans: the
#: only ones plan drift compares pair by pair. Few or none (a Stripe CSV export has
#: one item per subscription), so a view.
SEVERAL_PLANS = Stage(
    "several_plans",
    ("mapped_plans",),
    "SELECT subscription_id, plan FROM mapped_plans WHERE n_plans > 1",
    view=True,
)

#: The account's plan, as the plan map's plans are compared (`s`: ``account_state``).
_APP_PLAN = "lower(trim(coalesce(s.plan, '')))"

#: Entitled, in-sync accounts whose app plan is none of the plans their subscription
#: maps to (and it maps to some), with the subscription and its one mapped plan (NULL
#: when it maps to several) for :data:`EXPECTED_PLANS`. Empty when there is no plan
#: map. The first branch is a filter; the second reads :data:`SEVERAL_PLANS`.
PLAN_DRIFT_ACCOUNTS = Stage(
    "plan_drift_accounts",
    ("account_state", "several_plans"),
    sql(
        """
SELECT s.account_id, s.subscription_id, s.mapped_plan
FROM account_state s
WHERE s.state = 'in_sync' AND s.entitles AND s.app_grants AND s.mapped_plan <> {app_plan}
UNION ALL
SELECT s.account_id, s.subscription_id, s.mapped_plan
FROM account_state s
WHERE s.state = 'in_sync' AND s.entitles AND s.app_grants AND s.mapped_plan IS NULL
  AND s.subscription_id IN (SELECT m.subscription_id FROM several_plans m)
  AND NOT EXISTS (SELECT 1 FROM several_plans m
                  WHERE m.subscription_id = s.subscription_id AND m.plan = {app_plan})
""",
        app_plan=_APP_PLAN,
    ),
    applies=plans_comparable,
    otherwise="""SELECT CAST(NULL AS VARCHAR) AS account_id,
       CAST(NULL AS VARCHAR) AS subscription_id, CAST(NULL AS VARCHAR) AS mapped_plan LIMIT 0""",
)

#: The plans the subscription of an account with plan drift maps to, for evidence:
#: the one it carries, or the pairs of one that maps to several.
EXPECTED_PLANS = Stage(
    "expected_plans",
    ("plan_drift_accounts", "several_plans"),
    """
SELECT subscription_id, list(DISTINCT plan ORDER BY plan) AS expected_plans
FROM (
  SELECT x.subscription_id, x.mapped_plan AS plan
  FROM plan_drift_accounts x WHERE x.mapped_plan IS NOT NULL
  UNION ALL
  SELECT m.subscription_id, m.plan
  FROM several_plans m
  WHERE m.subscription_id IN (
    SELECT x.subscription_id FROM plan_drift_accounts x WHERE x.mapped_plan IS NULL)
) p
GROUP BY subscription_id
""",
)
