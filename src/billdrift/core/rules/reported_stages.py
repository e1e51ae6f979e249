"""Evidence for the rows the rules report, and only those: account detail before
the rules run, money, access fields and subscriptions after."""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.policy_tables import grace_until
from billdrift.core.refs import ref_text
from billdrift.core.rules.account_stages import REPORTED_STATES
from billdrift.core.rules.customer_stages import WITH_PERIOD_STARTS, entitlement_reason
from billdrift.core.sql import sql

#: Everything known about a reported account and its billing side, its places read
#: as text here, for these rows only (:mod:`billdrift.core.refs`). The accounts
#: are those some per-account rule will report (the few states that are findings
#: and the accounts other stages flagged): detail is joined for these only. The
#: matched subscription's decision and entitlement reason are computed again from
#: the billing row read here, rather than looked up among the million customers.
ACCOUNT_DETAIL = Stage(
    "account_detail",
    (
        "account_outcomes",
        "access_disagreements",
        "plan_drift_accounts",
        "params",
        "billing_subscriptions",
        "period_starts",
        "status_policy",
    ),
    sql(
        """
SELECT r.account_id, r.matched_customer_id, r.subscription_id, r.match_method,
       r.match_confidence,
       CASE WHEN r.match_method = 'customer_id' THEN [r.matched_customer_id]
            ELSE r.other_candidates END AS candidates,
       r.app_grants, r.entitles, r.state,
       r.ambiguous_reason,
       r.linked_customer_id, r.email, r.plan,
       {account_ref} AS source_ref,
       s.provider, s.status,
       s.current_period_start,
       s.current_period_end,
       s.cancel_at_period_end, s.cancel_at,
       {billing_ref} AS billing_source_ref,
       sp.decision,
       CASE WHEN s.subscription_id IS NOT NULL THEN {entitlement_reason} END
         AS entitlement_reason,
       {grace_until} AS grace_until,
       r.primary_field, r.primary_raw
FROM (
  SELECT * FROM account_outcomes
  WHERE account_id IS NOT NULL
    AND (state IN {reported_states}
         OR account_id IN (SELECT account_id FROM access_disagreements)
         OR account_id IN (SELECT account_id FROM plan_drift_accounts))
) r
CROSS JOIN params p
LEFT JOIN {subscriptions} s ON s.subscription_id = r.subscription_id
LEFT JOIN status_policy sp ON sp.provider = s.provider AND sp.status = s.status
""",
        reported_states=REPORTED_STATES,
        entitlement_reason=entitlement_reason("s"),
        grace_until=grace_until("s.current_period_start"),
        subscriptions=WITH_PERIOD_STARTS,
        account_ref=ref_text("r"),
        billing_ref=ref_text("s"),
    ),
)

#: How many times a month billing item `i` is billed. In doubles from the first
#: operation: a decimal literal (``1.0``) is a double to DuckDB but an exact numeric
#: to PostgreSQL, and the money must come out the same wherever the plan runs.
_PER_MONTH = """CASE lower(i.interval)
               WHEN 'month' THEN CAST(1 AS DOUBLE) / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'year' THEN CAST(1 AS DOUBLE) / (12 * coalesce(nullif(i.interval_count, 0), 1))
               WHEN 'week' THEN CAST(52 AS DOUBLE) / 12 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'day' THEN CAST(365 AS DOUBLE) / 12 / coalesce(nullif(i.interval_count, 0), 1)
             END"""

#: Monthly value of the subscriptions in ``reported`` (the rules' rows): computed
#: for reported rows only, never for the whole book.
REPORTED_MONEY = Stage(
    "reported_money",
    ("billing_items", "reported", "billing_subscriptions"),
    sql(
        """
SELECT m.subscription_id, m.currency,
       CASE WHEN m.several_currencies OR m.gross_monthly_minor IS NULL THEN NULL
            ELSE greatest(0.0,
                 m.gross_monthly_minor * (1 - coalesce(s.discount_percent_off, 0) / 100.0)
                 - coalesce(s.discount_amount_off_minor, 0) * coalesce(m.invoices_per_month, 1))
       END AS monthly_minor
FROM (
  SELECT i.subscription_id,
         min(lower(i.currency)) AS currency,
         sum(CAST(i.unit_amount_minor AS DOUBLE) * coalesce(i.quantity, 1)
             * {per_month}) AS gross_monthly_minor,
         -- amount_off applies once per invoice: scale it by the item interval
         max({per_month}) AS invoices_per_month,
         -- several currencies (a distinct count cost a fifth of the stage at 1M)
         min(lower(i.currency)) <> max(lower(i.currency)) AS several_currencies
  FROM billing_items i
  WHERE i.subscription_id IN (SELECT subscription_id FROM reported)
  GROUP BY i.subscription_id
) m
JOIN billing_subscriptions s ON s.subscription_id = m.subscription_id
""",
        per_month=_PER_MONTH,
    ),
)

#: :data:`REPORTED_FIELDS` when every account has at most one access field and it is
#: the primary one (``field_shape`` tells): :data:`ACCOUNT_DETAIL` already holds
#: that field and its value, so no pass over a million signals is needed.
PRIMARY_FIELDS = """
SELECT account_id, [{'field': primary_field, 'value': primary_raw}] AS fields
FROM account_detail
WHERE primary_field IS NOT NULL AND account_id IN (SELECT account_id FROM reported)
"""

#: Evidence lists that need aggregation, for a rule's reported rows only.
REPORTED_FIELDS = Stage(
    "reported_fields",
    ("app_access_signals", "reported", "field_shape", "account_detail"),
    """
SELECT g.account_id,
       list({'field': g.field, 'value': g.raw} ORDER BY g.field) AS fields
FROM app_access_signals g
WHERE g.account_id IN (SELECT account_id FROM reported)
GROUP BY g.account_id
""",
    # one access field per account, the primary one: account_detail holds it
    when="SELECT NOT (n_fields <= 1 AND all_primary) FROM field_shape",
    otherwise=PRIMARY_FIELDS,
)

REPORTED_SUBSCRIPTIONS = Stage(
    "reported_subscriptions",
    ("billing_subscriptions", "reported"),
    """
SELECT s.customer_id,
       list({'subscription_id': s.subscription_id, 'status': s.status}
            ORDER BY s.subscription_id) AS all_subscriptions
FROM billing_subscriptions s
WHERE s.customer_id IN (SELECT customer_id FROM reported)
GROUP BY s.customer_id
""",
)
