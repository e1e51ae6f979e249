"""The billing side: what each subscription means for access, and each customer's best one."""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.policy_tables import grace_until
from billdrift.core.sql import sql

#: Period starts an export left out, derived from the period end and the billing
#: interval (every item of the subscription on the same one): the grace window of a
#: past_due subscription counts from the start, and a monthly period ending on the
#: 15th started on the 15th of the month before. Most inputs carry the start, so
#: this is empty and costs one filtered scan. Written as a count times a one-unit
#: interval (not DuckDB's ``to_months``) so that PostgreSQL and the warehouses read
#: it as it is.
PERIOD_STARTS = Stage(
    "period_starts",
    ("billing_subscriptions", "billing_items"),
    """
SELECT s.subscription_id,
       s.current_period_end - CASE min(i.interval)
         WHEN 'day' THEN CAST(min(i.interval_count) AS INTEGER) * INTERVAL '1 day'
         WHEN 'week' THEN 7 * CAST(min(i.interval_count) AS INTEGER) * INTERVAL '1 day'
         WHEN 'month' THEN CAST(min(i.interval_count) AS INTEGER) * INTERVAL '1 month'
         WHEN 'year' THEN CAST(min(i.interval_count) AS INTEGER) * INTERVAL '1 year'
       END AS current_period_start
FROM billing_subscriptions s
JOIN billing_items i ON i.subscription_id = s.subscription_id
WHERE s.current_period_start IS NULL AND s.current_period_end IS NOT NULL
  AND i.interval IN ('day', 'week', 'month', 'year') AND i.interval_count BETWEEN 1 AND 120
GROUP BY s.subscription_id, s.current_period_end
HAVING count(DISTINCT i.interval) = 1 AND count(DISTINCT i.interval_count) = 1
""",
)


def entitles(sub: str) -> str:
    """Whether subscription row `sub` entitles as of `params.as_of` (NULL: cannot
    tell), given its status's row of ``status_policy`` as ``sp`` and ``params`` as
    ``p``; `sub` carries the period start an export left out (``period_starts``)."""
    return sql(
        """CASE
         WHEN sp.decision IS NULL THEN NULL
         WHEN sp.decision = 'entitled' AND {s}.cancel_at IS NOT NULL AND {s}.cancel_at <= p.as_of
           THEN FALSE
         WHEN sp.decision = 'entitled' AND coalesce({s}.cancel_at_period_end, FALSE)
              AND {s}.current_period_end IS NOT NULL AND {s}.current_period_end <= p.as_of
           THEN FALSE
         WHEN sp.decision = 'entitled' THEN TRUE
         WHEN sp.decision = 'grace' AND p.grace_days = 0 THEN FALSE
         WHEN sp.decision = 'grace' AND {s}.current_period_start IS NULL THEN NULL
         WHEN sp.decision = 'grace'
           THEN p.as_of < {grace_until}
         ELSE FALSE
       END""",
        s=sub,
        grace_until=grace_until(f"{sub}.current_period_start"),
    )


def entitlement_reason(sub: str) -> str:
    """Why :func:`entitles` says what it says of `sub`: one text the report words.
    The stage that reports an account recomputes it from the subscription row it
    already reads, rather than carrying it through a million-row relation."""
    return sql(
        """CASE
         WHEN sp.decision IS NULL THEN 'unknown_status'
         WHEN sp.decision = 'entitled' AND {s}.cancel_at IS NOT NULL AND {s}.cancel_at <= p.as_of
           THEN 'cancel_at_passed'
         WHEN sp.decision = 'entitled' AND coalesce({s}.cancel_at_period_end, FALSE)
              AND {s}.current_period_end IS NOT NULL AND {s}.current_period_end <= p.as_of
           THEN 'period_ended_after_cancel'
         WHEN sp.decision = 'entitled' AND (coalesce({s}.cancel_at_period_end, FALSE)
              OR {s}.cancel_at IS NOT NULL)
           THEN 'cancels_later'
         WHEN sp.decision = 'entitled' THEN 'entitled_status'
         WHEN sp.decision = 'grace' AND p.grace_days = 0 THEN 'no_grace'
         WHEN sp.decision = 'grace' AND {s}.current_period_start IS NULL
           THEN 'grace_undeterminable'
         WHEN sp.decision = 'grace'
              AND p.as_of < {grace_until}
           THEN 'within_grace'
         WHEN sp.decision = 'grace' THEN 'beyond_grace'
         ELSE 'not_entitled_status'
       END""",
        s=sub,
        grace_until=grace_until(f"{sub}.current_period_start"),
    )


def _with_period_starts(rows: str, extra: str = "") -> str:
    """Subscription rows `rows` with the period start an export left out filled in
    (``period_starts``), as the rows :func:`entitles` reads, plus `extra` columns."""
    return sql(
        """(
  SELECT b.provider, b.subscription_id, b.customer_id, b.status, b.cancel_at_period_end,
         b.cancel_at, b.current_period_end, b.created, b.source_ref, b.source_number,{extra}
         coalesce(b.current_period_start, d.current_period_start) AS current_period_start
  FROM {rows} b
  LEFT JOIN period_starts d ON d.subscription_id = b.subscription_id
)""",
        rows=rows,
        extra=extra,
    )


#: The billing subscriptions with the period start an export left out filled in.
WITH_PERIOD_STARTS = _with_period_starts("billing_subscriptions")

#: The same, with the one plan a subscription maps to when loading resolved it
#: (``planned_subscriptions``), carried to where accounts meet their subscription.
_PLANNED = _with_period_starts("planned_subscriptions", " b.mapped_plan,")


def _evaluated(subscriptions: str) -> str:
    """What each subscription of `subscriptions` (rows shaped as
    :data:`WITH_PERIOD_STARTS`) means for access as of `params.as_of`, and why."""
    return sql(
        """
SELECT s.subscription_id, s.customer_id, s.current_period_end, s.created,
       s.mapped_plan, sp.decision,
       {entitles} AS entitles,
       {entitlement_reason} AS entitlement_reason
FROM {subscriptions} s
CROSS JOIN params p
LEFT JOIN status_policy sp ON sp.provider = s.provider AND sp.status = s.status
""",
        entitles=entitles("s"),
        entitlement_reason=entitlement_reason("s"),
        subscriptions=subscriptions,
    )


#: What each subscription means for access as of `params.as_of`, and why. A view
#: only :data:`CUSTOMERS` reads, so it is never materialized on its own.
SUBSCRIPTIONS_EVALUATED = Stage(
    "subscriptions_evaluated",
    ("planned_subscriptions", "params", "status_policy", "period_starts"),
    _evaluated(_PLANNED),
    view=True,
)

#: The customer ids that are not simply one subscription and one account, with how
#: many of each both sides name them: several subscriptions (ranked in
#: :data:`CUSTOMERS`), several accounts (the duplicate-customer rule), none on one
#: side (``link_gaps``). Most customers are one of each, so few rows remain. One
#: aggregate over both sides' ids replaces a count of subscriptions per customer, a
#: count of accounts per customer and a full join of accounts with customers: a
#: million-key hash table built once instead of three times.
CUSTOMER_KEYS = Stage(
    "customer_keys",
    ("billing_subscriptions", "app_accounts"),
    """
SELECT customer_id, count(*) - CAST(sum(side) AS BIGINT) AS n_subscriptions,
       CAST(sum(side) AS BIGINT) AS n_accounts
FROM (
  SELECT customer_id, 0 AS side FROM billing_subscriptions WHERE customer_id IS NOT NULL
  UNION ALL
  SELECT customer_id, 1 AS side FROM app_accounts WHERE customer_id IS NOT NULL
) ids
GROUP BY customer_id
HAVING count(*) <> 2 OR sum(side) <> 1
""",
)

#: One row per billing customer: its best subscription. Best, in the README's
#: order: entitling beats unknown beats ended; then an entitling status beats a
#: grace status beats any other (a subscription that entitles outright beats one
#: that entitles only by grace, which may lapse first); then the latest period end,
#: the latest creation, the smallest id (tests/core/test_collapse.py). Whether an
#: account stores its id is learnt in ``account_links``. Most customers have one
#: subscription, which is simply theirs; only the subscriptions of the few with
#: several are evaluated a second time and ranked, so no million-row intermediate
#: is materialized for the two branches to share.
CUSTOMERS = Stage(
    "customers",
    (
        "customer_keys",
        "subscriptions_evaluated",
        "planned_subscriptions",
        "period_starts",
        "params",
        "status_policy",
    ),
    sql(
        """
SELECT e.customer_id, e.subscription_id, e.decision, e.entitles, e.entitlement_reason,
       e.mapped_plan
FROM subscriptions_evaluated e
WHERE e.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM customer_keys k
                  WHERE k.customer_id = e.customer_id AND k.n_subscriptions > 1)
UNION ALL
SELECT customer_id, subscription_id, decision, entitles, entitlement_reason, mapped_plan
FROM (
  SELECT e.*, row_number() OVER (
           PARTITION BY e.customer_id
           ORDER BY CASE WHEN e.entitles THEN 0 WHEN e.entitles IS NULL THEN 1 ELSE 2 END,
                    CASE e.decision WHEN 'entitled' THEN 0 WHEN 'grace' THEN 1 ELSE 2 END,
                    e.current_period_end DESC NULLS LAST,
                    e.created DESC NULLS LAST,
                    e.subscription_id
         ) AS rank_in_customer
  FROM ({several}) e
) ranked
WHERE rank_in_customer = 1
""",
        several=_evaluated(
            sql(
                """(
  SELECT b.* FROM {subscriptions} b
  WHERE b.customer_id IN (
    SELECT k.customer_id FROM customer_keys k WHERE k.n_subscriptions > 1))""",
                subscriptions=_PLANNED,
            )
        ),
    ),
)
