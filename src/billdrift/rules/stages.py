"""Shared derived relations every rule reads.

Each stage is plain SQL over the canonical relations (``billing_subscriptions``,
``billing_items``, ``app_accounts``, ``app_access_signals``) and the policy
relations built from configuration (``params``, ``status_policy``, ``plan_map``,
``app_granting_statuses``, ``internal_email_patterns``, ``internal_roles``,
``free_plans``, ``currency_exponents``). Nothing here is DuckDB-only beyond
widely shared functions (``regexp_replace``, ``split_part``, ``string_agg``,
``bool_or``, ``FILTER``), so the same text can be pushed down to PostgreSQL or a
warehouse where both sides are mirrored.

Stages run in order; each becomes a table named after it.
"""

from __future__ import annotations

#: Normalized email: lower-cased, trimmed, "+tag" removed, Gmail dots removed.
#: Reads the `email_local` / `email_domain` columns of :data:`EMAIL_PARTS`; split in
#: two steps because one nested expression trips a DuckDB 2.0 binder bug on
#: all-NULL columns.
NORMALIZED_EMAIL = """
CASE WHEN email_domain IS NULL OR email_domain = '' THEN NULL
     WHEN email_domain IN ('gmail.com', 'googlemail.com')
       THEN replace(regexp_replace(email_local, '\\+.*$', ''), '.', '') || '@gmail.com'
     ELSE regexp_replace(email_local, '\\+.*$', '') || '@' || email_domain
END"""

#: `SELECT *` of a relation plus the two halves of its `email` column.
EMAIL_PARTS = """
SELECT *, split_part(lower(trim(email)), '@', 1) AS email_local,
       split_part(lower(trim(email)), '@', 2) AS email_domain
FROM {relation}
"""

SUBSCRIPTION_MONEY = """
SELECT i.subscription_id,
       min(lower(i.currency)) AS currency,
       sum(CAST(i.unit_amount_minor AS DOUBLE) * coalesce(i.quantity, 1)
           * CASE lower(i.interval)
               WHEN 'month' THEN 1.0 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'year' THEN 1.0 / (12 * coalesce(nullif(i.interval_count, 0), 1))
               WHEN 'week' THEN 52.0 / 12 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'day' THEN 365.0 / 12 / coalesce(nullif(i.interval_count, 0), 1)
             END) AS gross_monthly_minor,
       -- amount_off applies once per invoice: scale it by the first item's interval
       max(CASE lower(i.interval)
               WHEN 'month' THEN 1.0 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'year' THEN 1.0 / (12 * coalesce(nullif(i.interval_count, 0), 1))
               WHEN 'week' THEN 52.0 / 12 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'day' THEN 365.0 / 12 / coalesce(nullif(i.interval_count, 0), 1)
           END) AS invoices_per_month,
       count(*) AS n_items,
       count(*) FILTER (WHERE i.unit_amount_minor IS NULL OR i.interval IS NULL)
         AS n_unpriced_items,
       count(DISTINCT lower(i.currency)) AS n_currencies
FROM billing_items i
GROUP BY i.subscription_id
"""

SUBSCRIPTIONS_EVALUATED = """
SELECT s.*,
       sp.decision,
       m.currency,
       CASE WHEN m.n_currencies > 1 OR m.gross_monthly_minor IS NULL THEN NULL
            ELSE greatest(0.0,
                 m.gross_monthly_minor * (1 - coalesce(s.discount_percent_off, 0) / 100.0)
                 - coalesce(s.discount_amount_off_minor, 0) * coalesce(m.invoices_per_month, 1))
       END AS monthly_minor,
       s.current_period_start + p.grace_days * INTERVAL '1 day' AS grace_until,
       CASE
         WHEN sp.decision IS NULL THEN NULL
         WHEN sp.decision = 'entitled' AND s.cancel_at IS NOT NULL AND s.cancel_at <= p.as_of
           THEN FALSE
         WHEN sp.decision = 'entitled' AND coalesce(s.cancel_at_period_end, FALSE)
              AND s.current_period_end IS NOT NULL AND s.current_period_end <= p.as_of
           THEN FALSE
         WHEN sp.decision = 'entitled' THEN TRUE
         WHEN sp.decision = 'grace' AND s.current_period_start IS NULL THEN NULL
         WHEN sp.decision = 'grace'
           THEN p.as_of < s.current_period_start + p.grace_days * INTERVAL '1 day'
         ELSE FALSE
       END AS entitles,
       CASE
         WHEN sp.decision IS NULL THEN 'unknown_status'
         WHEN sp.decision = 'entitled' AND s.cancel_at IS NOT NULL AND s.cancel_at <= p.as_of
           THEN 'cancel_at_passed'
         WHEN sp.decision = 'entitled' AND coalesce(s.cancel_at_period_end, FALSE)
              AND s.current_period_end IS NOT NULL AND s.current_period_end <= p.as_of
           THEN 'period_ended_after_cancel'
         WHEN sp.decision = 'entitled' AND (coalesce(s.cancel_at_period_end, FALSE)
              OR s.cancel_at IS NOT NULL)
           THEN 'cancels_later'
         WHEN sp.decision = 'entitled' THEN 'entitled_status'
         WHEN sp.decision = 'grace' AND s.current_period_start IS NULL
           THEN 'grace_undeterminable'
         WHEN sp.decision = 'grace'
              AND p.as_of < s.current_period_start + p.grace_days * INTERVAL '1 day'
           THEN 'within_grace'
         WHEN sp.decision = 'grace' THEN 'beyond_grace'
         ELSE 'not_entitled_status'
       END AS entitlement_reason
FROM billing_subscriptions s
CROSS JOIN params p
LEFT JOIN status_policy sp ON sp.provider = s.provider AND sp.status = s.status
LEFT JOIN subscription_money m ON m.subscription_id = s.subscription_id
"""

#: One row per billing customer: its best subscription (live beats unknown beats
#: ended; then latest period end, latest creation, smallest id) and how many it has.
CUSTOMERS = """
SELECT * FROM (
  SELECT e.*,
         count(*) OVER (PARTITION BY e.customer_id) AS n_subscriptions,
         string_agg(e.subscription_id || ':' || coalesce(e.status, 'null'), ', ')
           OVER (PARTITION BY e.customer_id) AS all_subscriptions,
         min(e.customer_email) OVER (PARTITION BY e.customer_id) AS email,
         row_number() OVER (
           PARTITION BY e.customer_id
           ORDER BY CASE WHEN e.entitles THEN 0 WHEN e.entitles IS NULL THEN 1 ELSE 2 END,
                    CASE e.decision WHEN 'entitled' THEN 0 WHEN 'grace' THEN 1 ELSE 2 END,
                    e.current_period_end DESC NULLS LAST,
                    e.created DESC NULLS LAST,
                    e.subscription_id
         ) AS rank_in_customer
  FROM subscriptions_evaluated e
  WHERE e.customer_id IS NOT NULL
) ranked
WHERE rank_in_customer = 1
"""

CUSTOMER_EMAILS = f"""
SELECT customer_id, email, {NORMALIZED_EMAIL} AS normalized_email
FROM ({EMAIL_PARTS.format(relation="customers")}) c
"""

ACCOUNTS_PREPARED = f"""
SELECT a.*,
       {NORMALIZED_EMAIL} AS normalized_email,
       (a.customer_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = a.customer_id))
         AS link_stale,
       (EXISTS (SELECT 1 FROM internal_email_patterns ip
                WHERE lower(a.email) LIKE ip.like_pattern)
        OR EXISTS (SELECT 1 FROM internal_roles ir WHERE ir.role = lower(trim(a.role))))
         AS is_internal,
       EXISTS (SELECT 1 FROM free_plans fp WHERE fp.plan = lower(trim(a.plan))) AS on_free_plan
FROM ({EMAIL_PARTS.format(relation="app_accounts")}) a
"""

#: Candidate customers per account, by the first method that yields a candidate: customer id,
#: subscription id, exact email, normalized email. Email methods only consider
#: customers no account claims by id, so one person's second account is not
#: mistaken for the paying one. Several candidates for one account = collision.
MATCH_CANDIDATES = """
WITH by_customer AS (
  SELECT a.account_id, a.customer_id, 'customer_id' AS method, 1.0 AS confidence, 1 AS step
  FROM accounts_prepared a
  WHERE NOT a.link_stale AND a.customer_id IS NOT NULL
),
by_subscription AS (
  SELECT a.account_id, s.customer_id, 'subscription_id' AS method, 0.95 AS confidence,
         2 AS step
  FROM accounts_prepared a
  JOIN billing_subscriptions s ON s.subscription_id = a.subscription_id
  WHERE s.customer_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM by_customer b WHERE b.account_id = a.account_id)
),
claimed AS (
  SELECT customer_id FROM by_customer UNION SELECT customer_id FROM by_subscription
),
by_email AS (
  SELECT a.account_id, c.customer_id, 'email' AS method, 0.9 AS confidence, 3 AS step
  FROM accounts_prepared a
  JOIN customer_emails c ON c.email = a.email
  WHERE NOT EXISTS (SELECT 1 FROM by_customer b WHERE b.account_id = a.account_id)
    AND NOT EXISTS (SELECT 1 FROM by_subscription b WHERE b.account_id = a.account_id)
    AND NOT EXISTS (SELECT 1 FROM claimed k WHERE k.customer_id = c.customer_id)
),
by_normalized_email AS (
  SELECT a.account_id, c.customer_id, 'normalized_email' AS method, 0.7 AS confidence,
         4 AS step
  FROM accounts_prepared a
  JOIN customer_emails c ON c.normalized_email = a.normalized_email
  WHERE NOT EXISTS (SELECT 1 FROM by_customer b WHERE b.account_id = a.account_id)
    AND NOT EXISTS (SELECT 1 FROM by_subscription b WHERE b.account_id = a.account_id)
    AND NOT EXISTS (SELECT 1 FROM by_email b WHERE b.account_id = a.account_id)
    AND NOT EXISTS (SELECT 1 FROM claimed k WHERE k.customer_id = c.customer_id)
),
SELECT * FROM by_customer UNION ALL SELECT * FROM by_subscription
UNION ALL SELECT * FROM by_email UNION ALL SELECT * FROM by_normalized_email
"""

ACCOUNT_MATCHES = """
SELECT account_id, min(method) AS method, min(confidence) AS confidence,
       count(DISTINCT customer_id) AS n_candidates,
       min(customer_id) AS customer_id,
       string_agg(DISTINCT customer_id, ', ' ORDER BY customer_id) AS candidates
FROM match_candidates
GROUP BY account_id
"""

#: The app's access per account: the primary field decides; all fields are kept
#: so their disagreement can be reported.
ACCOUNT_ACCESS = """
WITH signals AS (
  SELECT g.*,
         CASE WHEN g.kind = 'flag' THEN g.flag
              WHEN g.raw IS NULL OR trim(g.raw) = '' THEN NULL
              ELSE EXISTS (SELECT 1 FROM app_granting_statuses s
                           WHERE s.status = lower(trim(g.raw)))
         END AS grants
  FROM app_access_signals g
)
SELECT account_id,
       bool_or(grants) FILTER (WHERE is_primary) AS primary_grants,
       min(field) FILTER (WHERE is_primary) AS primary_field,
       min(raw) FILTER (WHERE is_primary) AS primary_raw,
       bool_or(grants) AS any_grants,
       bool_and(grants) AS all_grants,
       string_agg(field || '=' || coalesce(raw, 'null'), ', ' ORDER BY field) AS fields
FROM signals
GROUP BY account_id
"""

#: Exactly one state per account. Rules that report per-account findings read it.
#: A verdict that hinges on a billing row that could not be read is held back as
#: ambiguous rather than reported as drift.
ACCOUNT_STATE = """
SELECT r.*,
       CASE WHEN r.billing_unreadable
                 AND r.raw_state IN ('paid_but_blocked', 'unpaid_but_active', 'stale_billing_link')
            THEN 'ambiguous' ELSE r.raw_state END AS state,
       CASE WHEN r.billing_unreadable
                 AND r.raw_state IN ('paid_but_blocked', 'unpaid_but_active', 'stale_billing_link')
            THEN 'billing_row_unreadable' ELSE r.raw_reason END AS ambiguous_reason
FROM (
SELECT a.account_id, a.customer_id AS linked_customer_id,
       a.subscription_id AS linked_subscription_id, a.email, a.plan, a.role, a.source_ref,
       a.link_stale, a.is_internal, a.on_free_plan,
       m.method AS match_method, m.confidence AS match_confidence,
       m.n_candidates, m.candidates,
       CASE WHEN coalesce(m.n_candidates, 0) = 1 THEN m.customer_id END AS matched_customer_id,
       c.subscription_id, c.status, c.provider, c.decision, c.entitles, c.entitlement_reason,
       c.current_period_start, c.current_period_end, c.cancel_at_period_end, c.cancel_at,
       c.trial_end, c.ended_at, c.grace_until,
       c.monthly_minor AS sub_monthly_minor, c.currency AS sub_currency,
       c.n_subscriptions, c.all_subscriptions, c.source_ref AS billing_source_ref,
       coalesce(x.primary_grants, FALSE) AS app_grants,
       x.primary_field, x.primary_raw, x.fields AS app_fields,
       EXISTS (SELECT 1 FROM unreadable_rows u
               WHERE u.side = 'billing'
                 AND u.customer_id IN (a.customer_id, m.customer_id)) AS billing_unreadable,
       CASE
         WHEN m.n_candidates > 1 THEN 'ambiguous'
         WHEN m.customer_id IS NOT NULL THEN
           CASE WHEN c.entitles IS NULL THEN 'ambiguous'
                WHEN c.entitles AND NOT coalesce(x.primary_grants, FALSE)
                  THEN 'paid_but_blocked'
                WHEN NOT c.entitles AND coalesce(x.primary_grants, FALSE)
                  THEN CASE WHEN a.is_internal THEN 'internal' ELSE 'unpaid_but_active' END
                WHEN a.link_stale THEN 'stale_billing_link'
                ELSE 'in_sync'
           END
         WHEN a.customer_id IS NOT NULL THEN
           CASE WHEN a.is_internal THEN 'internal' ELSE 'stale_billing_link' END
         WHEN coalesce(x.primary_grants, FALSE) AND a.is_internal THEN 'internal'
         WHEN coalesce(x.primary_grants, FALSE) AND a.on_free_plan THEN 'free_plan'
         WHEN coalesce(x.primary_grants, FALSE) THEN 'missing_billing_link'
         ELSE 'no_billing'
       END AS raw_state,
       CASE
         WHEN m.n_candidates > 1 THEN 'match_collision'
         WHEN m.customer_id IS NOT NULL AND c.entitles IS NULL THEN c.entitlement_reason
       END AS raw_reason
FROM accounts_prepared a
LEFT JOIN account_matches m ON m.account_id = a.account_id
LEFT JOIN customers c ON c.customer_id = m.customer_id AND m.n_candidates = 1
LEFT JOIN account_access x ON x.account_id = a.account_id
) r
"""

#: Customers claimed by at least one account (matched, a candidate in a collision, or
#: named by an app row that could not be read: never call those orphaned).
CLAIMED_CUSTOMERS = """
SELECT DISTINCT a.customer_id FROM app_accounts a WHERE a.customer_id IS NOT NULL
UNION
SELECT DISTINCT matched_customer_id FROM account_state
WHERE matched_customer_id IS NOT NULL
UNION
SELECT DISTINCT customer_id FROM match_candidates
UNION
SELECT DISTINCT customer_id FROM unreadable_rows
WHERE side = 'app' AND customer_id IS NOT NULL
"""

STAGES: tuple[tuple[str, str], ...] = (
    ("subscription_money", SUBSCRIPTION_MONEY),
    ("subscriptions_evaluated", SUBSCRIPTIONS_EVALUATED),
    ("customers", CUSTOMERS),
    ("customer_emails", CUSTOMER_EMAILS),
    ("accounts_prepared", ACCOUNTS_PREPARED),
    ("match_candidates", MATCH_CANDIDATES),
    ("account_matches", ACCOUNT_MATCHES),
    ("account_access", ACCOUNT_ACCESS),
    ("account_state", ACCOUNT_STATE),
    ("claimed_customers", CLAIMED_CUSTOMERS),
)
