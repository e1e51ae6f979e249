"""Matching accounts to billing customers beyond the stored customer id: by
subscription id, exact email, then normalized email, over the few left unlinked."""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.sql import sql

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

#: The two halves of an `email` column, as the columns `email_local` and `email_domain`.
EMAIL_PARTS = """split_part(lower(trim(email)), '@', 1) AS email_local,
       split_part(lower(trim(email)), '@', 2) AS email_domain"""

#: What the exact customer-id link leaves over: accounts whose stored id names no
#: billing customer (`account_id` set) and customers whose id no account stores
#: (`customer_id` set). Both are few, and ``customer_keys`` already holds
#: every id one side lacks.
LINK_GAPS = Stage(
    "link_gaps",
    ("app_accounts", "customer_keys"),
    """
SELECT a.account_id, a.subscription_id AS linked_subscription_id, a.email,
       CAST(NULL AS VARCHAR) AS customer_id
FROM app_accounts a
WHERE a.customer_id IS NULL
   OR a.customer_id IN (SELECT customer_id FROM customer_keys WHERE n_subscriptions = 0)
UNION ALL
SELECT CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), k.customer_id
FROM customer_keys k
WHERE k.n_accounts = 0
""",
)

#: Billing customers whose id no account stores: email matching may take them,
#: and an entitled one no method matches is orphaned.
UNCLAIMED_CUSTOMERS = Stage(
    "unclaimed_customers",
    ("customers", "link_gaps"),
    """
SELECT c.* FROM customers c
WHERE c.customer_id IN (SELECT customer_id FROM link_gaps WHERE account_id IS NULL)
""",
)

#: Candidate customers for the accounts not linked by customer id, by the first
#: method that yields one: subscription id, exact email, normalized email. Email
#: methods only consider customers no account claims by id, so one person's second
#: account is not mistaken for the paying one.
MATCH_CANDIDATES = Stage(
    "match_candidates",
    ("link_gaps", "billing_subscriptions", "unclaimed_customers"),
    sql(
        """
WITH unlinked AS (
  SELECT g.account_id, g.linked_subscription_id AS subscription_id, g.email
  FROM link_gaps g
  WHERE g.account_id IS NOT NULL
),
by_subscription AS (
  SELECT u.account_id, s.customer_id, 'subscription_id' AS method, 0.95 AS confidence
  FROM unlinked u
  JOIN billing_subscriptions s ON s.subscription_id = u.subscription_id
  WHERE s.customer_id IS NOT NULL
),
unclaimed_emails AS (
  SELECT customer_id, email, {normalized_email} AS normalized_email
  FROM (
    SELECT *, {email_parts}
    FROM (
      -- the email of each customer no account claims by id (a subquery: as a CTE
      -- of its own DuckDB would materialize it)
      SELECT c.customer_id, min(s.customer_email) AS email
      FROM unclaimed_customers c
      JOIN billing_subscriptions s ON s.customer_id = c.customer_id
      WHERE s.customer_email IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM by_subscription k WHERE k.customer_id = c.customer_id)
      GROUP BY c.customer_id) unclaimed) e
),
unmatched AS (
  SELECT u.account_id, u.email, {normalized_email} AS normalized_email
  FROM (SELECT *, {email_parts} FROM unlinked) u
  WHERE NOT EXISTS (SELECT 1 FROM by_subscription b WHERE b.account_id = u.account_id)
),
by_email AS (
  SELECT u.account_id, c.customer_id, 'email' AS method, 0.9 AS confidence
  FROM unmatched u JOIN unclaimed_emails c ON c.email = u.email
),
by_normalized_email AS (
  SELECT u.account_id, c.customer_id, 'normalized_email' AS method, 0.7 AS confidence
  FROM unmatched u JOIN unclaimed_emails c ON c.normalized_email = u.normalized_email
  WHERE NOT EXISTS (SELECT 1 FROM by_email b WHERE b.account_id = u.account_id)
)
SELECT * FROM by_subscription
UNION ALL SELECT * FROM by_email
UNION ALL SELECT * FROM by_normalized_email
""",
        normalized_email=NORMALIZED_EMAIL,
        email_parts=EMAIL_PARTS,
    ),
)

#: One row per account matched by the other methods: several candidates are a
#: collision; a single one brings its customer's verdict.
OTHER_MATCHES = Stage(
    "other_matches",
    ("match_candidates", "customers"),
    """
SELECT m.*, c.subscription_id, c.entitles, c.entitlement_reason, c.mapped_plan
FROM (
  SELECT account_id, min(method) AS method, min(confidence) AS confidence,
         count(DISTINCT customer_id) AS n_candidates, min(customer_id) AS customer_id,
         list(DISTINCT customer_id ORDER BY customer_id) AS candidates
  FROM match_candidates
  GROUP BY account_id
) m
LEFT JOIN customers c ON c.customer_id = m.customer_id AND m.n_candidates = 1
""",
)
