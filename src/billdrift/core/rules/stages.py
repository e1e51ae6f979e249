"""Shared derived relations every rule reads.

Each stage is plain SQL over the canonical relations (``billing_subscriptions``,
``billing_items``, ``app_accounts``, ``app_access_signals``) and the policy
relations built from the policy (``params``, ``status_policy``, ``plan_map``,
``app_granting_statuses``, ``internal_email_patterns``, ``internal_roles``,
``free_plans``, ``exceptions``, ``unreadable_rows``). Nothing here is DuckDB-only
beyond widely shared functions (``regexp_replace``, ``split_part``,
``string_agg``, ``bool_or``, ``FILTER``, window functions), so the same text can
be pushed down to PostgreSQL or a warehouse where both sides are mirrored.

Each stage declares the relations it reads (:class:`~billdrift.core.pipeline.Stage`);
the engine derives the order they run in. Each becomes a table (or a view) named
after it. They are kept narrow (keys and decisions only) because at a million
rows per side every extra column materialized costs time and memory; the wide
evidence is joined back only for the rows a rule reports (:data:`ACCOUNT_DETAIL`).
"""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.rules.plans import plans_comparable
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

#: How many times a month billing item `i` is billed.
_PER_MONTH = """CASE lower(i.interval)
               WHEN 'month' THEN 1.0 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'year' THEN 1.0 / (12 * coalesce(nullif(i.interval_count, 0), 1))
               WHEN 'week' THEN 52.0 / 12 / coalesce(nullif(i.interval_count, 0), 1)
               WHEN 'day' THEN 365.0 / 12 / coalesce(nullif(i.interval_count, 0), 1)
             END"""

#: Monthly value of the subscriptions in ``reported`` (the rules' rows): computed
#: for reported rows only, never for the whole book.
SUBSCRIPTION_MONEY = sql(
    """
SELECT m.subscription_id, m.currency,
       CASE WHEN m.n_currencies > 1 OR m.gross_monthly_minor IS NULL THEN NULL
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
         count(DISTINCT lower(i.currency)) AS n_currencies
  FROM billing_items i
  WHERE i.subscription_id IN (SELECT subscription_id FROM reported)
  GROUP BY i.subscription_id
) m
JOIN billing_subscriptions s ON s.subscription_id = m.subscription_id
""",
    per_month=_PER_MONTH,
)

#: What each subscription means for access as of `params.as_of`, and why. A view
#: only :data:`CUSTOMERS` reads, so it is never materialized on its own.
SUBSCRIPTIONS_EVALUATED = """
SELECT s.subscription_id, s.customer_id, s.current_period_end, s.created,
       sp.decision,
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
"""

#: The customer ids that are not simply one subscription and one account, with how
#: many of each both sides name them: several subscriptions (ranked in
#: :data:`CUSTOMERS`), several accounts (the duplicate-customer rule), none on one
#: side (:data:`LINK_GAPS`). Most customers are one of each, so few rows remain. One
#: aggregate over both sides' ids replaces a count of subscriptions per customer, a
#: count of accounts per customer and a full join of accounts with customers: a
#: million-key hash table built once instead of three times.
CUSTOMER_KEYS = """
SELECT customer_id, count(*) - CAST(sum(side) AS BIGINT) AS n_subscriptions,
       CAST(sum(side) AS BIGINT) AS n_accounts
FROM (
  SELECT customer_id, 0 AS side FROM billing_subscriptions WHERE customer_id IS NOT NULL
  UNION ALL
  SELECT customer_id, 1 AS side FROM app_accounts WHERE customer_id IS NOT NULL
) ids
GROUP BY customer_id
HAVING count(*) <> 2 OR sum(side) <> 1
"""

#: One row per billing customer: its best subscription (live beats unknown beats
#: ended; then latest period end, latest creation, smallest id) and how many it
#: has. Whether an account stores its id is learnt in :data:`ACCOUNT_LINKS`.
CUSTOMERS = """
WITH several AS (
  SELECT customer_id, n_subscriptions FROM customer_keys WHERE n_subscriptions > 1
),
evaluated AS (
  SELECT e.*, coalesce(c.n_subscriptions, 1) AS n_subscriptions
  FROM subscriptions_evaluated e
  LEFT JOIN several c ON c.customer_id = e.customer_id
  WHERE e.customer_id IS NOT NULL
),
best AS (
  -- most customers have one subscription: only the others need ranking
  SELECT customer_id, subscription_id, decision, entitles, entitlement_reason, n_subscriptions
  FROM evaluated WHERE n_subscriptions = 1
  UNION ALL
  SELECT customer_id, subscription_id, decision, entitles, entitlement_reason, n_subscriptions
  FROM (
    SELECT e.*, row_number() OVER (
             PARTITION BY e.customer_id
             ORDER BY CASE WHEN e.entitles THEN 0 WHEN e.entitles IS NULL THEN 1 ELSE 2 END,
                      CASE e.decision WHEN 'entitled' THEN 0 WHEN 'grace' THEN 1 ELSE 2 END,
                      e.current_period_end DESC NULLS LAST,
                      e.created DESC NULLS LAST,
                      e.subscription_id
           ) AS rank_in_customer
    FROM evaluated e WHERE e.n_subscriptions > 1
  ) ranked
  WHERE rank_in_customer = 1
)
SELECT customer_id, subscription_id, decision, entitles, entitlement_reason, n_subscriptions
FROM best
"""


def _grants(kind: str, flag: str, raw: str) -> str:
    """What a signal means: a flag as parsed, a status by the app's granting statuses.

    An uncorrelated ``IN`` whose probe is NULL for flags: a correlated ``EXISTS``
    is decorrelated into a pass over every distinct raw value of every account
    (0.14 s of CPU on a million flag-only accounts), and even this ``IN`` trims
    and lower-cases every row unless the probe skips the flags.
    """
    return sql(
        """CASE WHEN {kind} = 'flag' THEN {flag}
              WHEN {raw} IS NULL OR trim({raw}) = '' THEN NULL
              ELSE (CASE WHEN {kind} <> 'flag' THEN lower(trim({raw})) END)
                   IN (SELECT s.status FROM app_granting_statuses s)
         END""",
        kind=kind,
        flag=flag,
        raw=raw,
    )


_SIGNAL_GRANTS = _grants("g.kind", "g.flag", "g.raw")

#: Every account with its primary access signal (the field that decides access) as
#: columns. The engine registers this relation directly when a source's signals
#: list the primary field in account order (every bundled source does), sparing a
#: million-row join; otherwise it is this view.
ACCOUNT_ACCESS = """
SELECT a.*, g.field AS access_field, g.kind AS access_kind, g.raw AS access_raw,
       g.flag AS access_flag
FROM app_accounts a
LEFT JOIN app_access_signals g ON g.account_id = a.account_id AND g.is_primary
"""

#: Every account with the billing customer its stored id names, if that customer
#: exists, that customer's verdict and the app's access: the exact match settles
#: almost every account, so the costlier methods below see only the rest
#: (`linked` false). A view: :data:`ACCOUNT_STATE` reads it as it streams (a
#: million-row table of it was the run's peak memory).
ACCOUNT_LINKS = sql(
    """
SELECT a.account_id, a.customer_id AS stored_customer_id, a.plan,
       c.customer_id IS NOT NULL AS linked, c.customer_id, c.subscription_id, c.entitles,
       c.entitlement_reason,
       {primary_grants} AS primary_grants
FROM account_access a
LEFT JOIN customers c ON c.customer_id = a.customer_id
""",
    primary_grants=_grants("a.access_kind", "a.access_flag", "a.access_raw"),
)

#: What the exact customer-id link leaves over: accounts whose stored id names no
#: billing customer (`account_id` set) and customers whose id no account stores
#: (`customer_id` set). Both are few, and :data:`CUSTOMER_KEYS` already holds
#: every id one side lacks.
LINK_GAPS = """
SELECT a.account_id, a.subscription_id AS linked_subscription_id, a.email,
       CAST(NULL AS VARCHAR) AS customer_id
FROM app_accounts a
WHERE a.customer_id IS NULL
   OR a.customer_id IN (SELECT customer_id FROM customer_keys WHERE n_subscriptions = 0)
UNION ALL
SELECT CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), k.customer_id
FROM customer_keys k
WHERE k.n_accounts = 0
"""

#: Billing customers whose id no account stores: email matching may take them,
#: and an entitled one no method matches is orphaned.
UNCLAIMED_CUSTOMERS = """
SELECT c.* FROM customers c
WHERE c.customer_id IN (SELECT customer_id FROM link_gaps WHERE account_id IS NULL)
"""

#: Candidate customers for the accounts not linked by customer id, by the first
#: method that yields one: subscription id, exact email, normalized email. Email
#: methods only consider customers no account claims by id, so one person's second
#: account is not mistaken for the paying one.
MATCH_CANDIDATES = sql(
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
-- the email of each customer no account claims by id
unclaimed AS (
  SELECT c.customer_id, min(s.customer_email) AS email
  FROM unclaimed_customers c
  JOIN billing_subscriptions s ON s.customer_id = c.customer_id
  WHERE s.customer_email IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM by_subscription k WHERE k.customer_id = c.customer_id)
  GROUP BY c.customer_id
),
unclaimed_emails AS (
  SELECT customer_id, email, {normalized_email} AS normalized_email
  FROM (SELECT *, {email_parts} FROM unclaimed) e
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
)

#: One row per account matched by the other methods: several candidates are a
#: collision; a single one brings its customer's verdict.
OTHER_MATCHES = """
SELECT m.*, c.subscription_id, c.entitles, c.entitlement_reason
FROM (
  SELECT account_id, min(method) AS method, min(confidence) AS confidence,
         count(DISTINCT customer_id) AS n_candidates, min(customer_id) AS customer_id,
         string_agg(DISTINCT customer_id, ', ' ORDER BY customer_id) AS candidates
  FROM match_candidates
  GROUP BY account_id
) m
LEFT JOIN customers c ON c.customer_id = m.customer_id AND m.n_candidates = 1
"""

#: Accounts whose access fields contradict each other. Only accounts with more than
#: one signal can disagree; the engine skips this stage when the app maps one field.
ACCESS_DISAGREEMENTS = sql(
    """
SELECT account_id FROM (
  SELECT g.account_id, {grants} AS grants FROM app_access_signals g
) signals
GROUP BY account_id
HAVING bool_or(grants) AND NOT bool_and(grants)
""",
    grants=_SIGNAL_GRANTS,
)

#: Exactly one state per account. Rules that report per-account findings read it.
#: A verdict that hinges on a billing row that could not be read is held back as
#: ambiguous rather than reported as drift.
ACCOUNT_STATE = """
SELECT r.account_id, r.matched_customer_id, r.subscription_id, r.match_method,
       r.match_confidence, r.candidates, r.app_grants, r.entitles, r.plan,
       CASE WHEN r.billing_unreadable
                 AND r.raw_state IN ('paid_but_blocked', 'unpaid_but_active', 'stale_billing_link')
            THEN 'ambiguous' ELSE r.raw_state END AS state,
       CASE WHEN r.billing_unreadable
                 AND r.raw_state IN ('paid_but_blocked', 'unpaid_but_active', 'stale_billing_link')
            THEN 'billing_row_unreadable' ELSE r.raw_reason END AS ambiguous_reason
FROM (
  SELECT l.account_id, l.plan,
         CASE WHEN l.linked THEN 'customer_id' ELSE o.method END
           AS match_method,
         CASE WHEN l.linked THEN 1.0 ELSE o.confidence END
           AS match_confidence,
         coalesce(l.customer_id, o.candidates) AS candidates,
         coalesce(l.customer_id, CASE WHEN o.n_candidates = 1 THEN o.customer_id END)
           AS matched_customer_id,
         coalesce(l.subscription_id, o.subscription_id) AS subscription_id,
         coalesce(l.entitles, o.entitles) AS entitles,
         coalesce(l.primary_grants, FALSE) AS app_grants,
         (EXISTS (SELECT 1 FROM unreadable_rows u
                  WHERE u.side = 'billing' AND u.customer_id = l.stored_customer_id)
          OR EXISTS (SELECT 1 FROM unreadable_rows u
                     WHERE u.side = 'billing' AND u.customer_id = o.customer_id))
           AS billing_unreadable,
         CASE
           WHEN o.n_candidates > 1 THEN 'ambiguous'
           WHEN l.linked OR o.customer_id IS NOT NULL THEN
             CASE WHEN coalesce(l.entitles, o.entitles) IS NULL THEN 'ambiguous'
                  WHEN coalesce(l.entitles, o.entitles) AND NOT coalesce(l.primary_grants, FALSE)
                    THEN 'paid_but_blocked'
                  WHEN NOT coalesce(l.entitles, o.entitles) AND coalesce(l.primary_grants, FALSE)
                    THEN CASE WHEN f.is_internal THEN 'internal' ELSE 'unpaid_but_active' END
                  WHEN NOT l.linked AND l.stored_customer_id IS NOT NULL
                    THEN 'stale_billing_link'
                  ELSE 'in_sync'
             END
           WHEN l.stored_customer_id IS NOT NULL THEN
             CASE WHEN f.is_internal THEN 'internal' ELSE 'stale_billing_link' END
           WHEN coalesce(l.primary_grants, FALSE) AND f.is_internal THEN 'internal'
           WHEN coalesce(l.primary_grants, FALSE) AND f.on_free_plan THEN 'free_plan'
           WHEN coalesce(l.primary_grants, FALSE) THEN 'missing_billing_link'
           ELSE 'no_billing'
         END AS raw_state,
         CASE
           WHEN o.n_candidates > 1 THEN 'match_collision'
           WHEN coalesce(l.entitles, o.entitles) IS NULL
             THEN coalesce(l.entitlement_reason, o.entitlement_reason)
         END AS raw_reason
  FROM account_links l
  LEFT JOIN other_matches o ON o.account_id = l.account_id
  LEFT JOIN account_flags f ON f.account_id = l.account_id
) r
"""

#: Internal accounts and free plans: only the few accounts that are either.
ACCOUNT_FLAGS = """
SELECT account_id, bool_or(is_internal) AS is_internal, bool_or(on_free_plan) AS on_free_plan
FROM (
  SELECT a.account_id, TRUE AS is_internal, FALSE AS on_free_plan
  FROM app_accounts a JOIN internal_email_patterns ip ON lower(a.email) LIKE ip.like_pattern
  UNION ALL
  SELECT a.account_id, TRUE, FALSE
  FROM app_accounts a JOIN internal_roles ir ON ir.role = lower(trim(a.role))
  UNION ALL
  SELECT a.account_id, FALSE, TRUE
  FROM app_accounts a JOIN free_plans fp ON fp.plan = lower(trim(a.plan))
) flagged
GROUP BY account_id
"""


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
PLAN_DRIFT_ACCOUNTS = sql(
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
)

#: The plans the subscription of an account with plan drift maps to, for evidence.
EXPECTED_PLANS = sql(
    """
SELECT subscription_id, string_agg(DISTINCT plan, ', ' ORDER BY plan) AS expected_plans
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
)

#: Everything known about a reported account and its billing side. The accounts
#: are those some per-account rule will report (the few states that are findings
#: and the accounts other stages flagged): detail is joined for these only.
ACCOUNT_DETAIL = """
SELECT s.account_id, s.matched_customer_id, s.subscription_id, s.match_method,
       s.match_confidence, s.candidates, s.app_grants, s.entitles, s.state,
       s.ambiguous_reason,
       a.customer_id AS linked_customer_id, a.email, a.plan, a.source_ref,
       b.provider, b.status, b.current_period_start, b.current_period_end,
       b.cancel_at_period_end, b.cancel_at,
       b.source_ref AS billing_source_ref,
       c.decision, c.entitlement_reason,
       b.current_period_start + p.grace_days * INTERVAL '1 day' AS grace_until,
       a.access_field AS primary_field, a.access_raw AS primary_raw
FROM (
  SELECT * FROM account_state
  WHERE state IN ('paid_but_blocked', 'unpaid_but_active', 'missing_billing_link',
                  'stale_billing_link', 'ambiguous')
     OR account_id IN (SELECT account_id FROM access_disagreements)
     OR account_id IN (SELECT account_id FROM plan_drift_accounts)
) s
JOIN account_access a ON a.account_id = s.account_id
CROSS JOIN params p
LEFT JOIN billing_subscriptions b ON b.subscription_id = s.subscription_id
LEFT JOIN customers c ON c.customer_id = s.matched_customer_id
"""

#: Evidence strings that need aggregation, for a rule's reported rows only.
ACCOUNT_FIELDS = """
SELECT g.account_id,
       string_agg(g.field || '=' || coalesce(g.raw, 'null'), ', ' ORDER BY g.field) AS fields
FROM app_access_signals g
WHERE g.account_id IN (SELECT account_id FROM reported)
GROUP BY g.account_id
"""

#: :data:`ACCOUNT_FIELDS` when every account has at most one access field and it is
#: the primary one (:data:`FIELD_SHAPE` tells): :data:`ACCOUNT_DETAIL` already holds that
#: field and its value, so no pass over a million signals is needed.
PRIMARY_FIELDS = """
SELECT account_id, primary_field || '=' || coalesce(primary_raw, 'null') AS fields
FROM account_detail
WHERE primary_field IS NOT NULL AND account_id IN (SELECT account_id FROM reported)
"""

#: How the access signals are laid out: several fields can disagree, and evidence
#: strings need the signal table unless each account has one, primary, field.
FIELD_SHAPE = """
SELECT count(DISTINCT field) AS n_fields, coalesce(bool_and(is_primary), TRUE) AS all_primary
FROM app_access_signals
"""

CUSTOMER_SUBSCRIPTIONS = """
SELECT s.customer_id,
       string_agg(s.subscription_id || ':' || coalesce(s.status, 'null'), ', '
                  ORDER BY s.subscription_id) AS all_subscriptions
FROM billing_subscriptions s
WHERE s.customer_id IN (SELECT customer_id FROM reported)
GROUP BY s.customer_id
"""

#: No accounts: the rows of a stage that cannot have any in this run.
NO_ACCOUNTS = "SELECT CAST(NULL AS VARCHAR) AS account_id LIMIT 0"

#: The stages the engine builds before any rule runs, in no particular order.
STAGES: tuple[Stage, ...] = (
    Stage(
        "account_access",
        ("app_accounts", "app_access_signals"),
        ACCOUNT_ACCESS,
        view=True,
    ),
    Stage("customer_keys", ("billing_subscriptions", "app_accounts"), CUSTOMER_KEYS),
    Stage(
        "subscriptions_evaluated",
        ("billing_subscriptions", "params", "status_policy"),
        SUBSCRIPTIONS_EVALUATED,
        view=True,
    ),
    Stage("customers", ("customer_keys", "subscriptions_evaluated"), CUSTOMERS),
    Stage("link_gaps", ("app_accounts", "customer_keys"), LINK_GAPS),
    Stage("unclaimed_customers", ("customers", "link_gaps"), UNCLAIMED_CUSTOMERS),
    Stage(
        "match_candidates",
        ("link_gaps", "billing_subscriptions", "unclaimed_customers"),
        MATCH_CANDIDATES,
    ),
    Stage("other_matches", ("match_candidates", "customers"), OTHER_MATCHES),
    Stage(
        "account_flags",
        ("app_accounts", "internal_email_patterns", "internal_roles", "free_plans"),
        ACCOUNT_FLAGS,
    ),
    Stage(
        "account_links",
        ("account_access", "customers", "app_granting_statuses"),
        ACCOUNT_LINKS,
        view=True,
    ),
    Stage(
        "account_state",
        ("account_links", "other_matches", "account_flags", "unreadable_rows"),
        ACCOUNT_STATE,
    ),
    Stage("field_shape", ("app_access_signals",), FIELD_SHAPE),
    Stage(
        "access_disagreements",
        ("app_access_signals", "app_granting_statuses", "field_shape"),
        ACCESS_DISAGREEMENTS,
        # only accounts with several access fields can contradict themselves
        when="SELECT n_fields > 1 FROM field_shape",
        otherwise=NO_ACCOUNTS,
    ),
    Stage(
        "plan_drift_accounts",
        ("billing_items", "plan_map", "account_state"),
        PLAN_DRIFT_ACCOUNTS,
        # plans can only drift with a plan map and a plan column
        applies=plans_comparable,
        otherwise=NO_ACCOUNTS,
    ),
    Stage(
        "account_detail",
        (
            "account_state",
            "access_disagreements",
            "plan_drift_accounts",
            "account_access",
            "params",
            "billing_subscriptions",
            "customers",
        ),
        ACCOUNT_DETAIL,
    ),
    Stage(
        "expected_plans",
        ("billing_items", "account_detail", "plan_drift_accounts", "plan_map"),
        EXPECTED_PLANS,
    ),
)

#: The evidence stages the engine builds over ``reported`` (every rule's keys),
#: once the rules have run: money, access fields and subscriptions for the rows
#: reported only.
REPORTED_STAGES: tuple[Stage, ...] = (
    Stage(
        "reported_money",
        ("billing_items", "reported", "billing_subscriptions"),
        SUBSCRIPTION_MONEY,
    ),
    Stage(
        "reported_fields",
        ("app_access_signals", "reported", "field_shape", "account_detail"),
        ACCOUNT_FIELDS,
        # one access field per account, the primary one: account_detail holds it
        when="SELECT NOT (n_fields <= 1 AND all_primary) FROM field_shape",
        otherwise=PRIMARY_FIELDS,
    ),
    Stage("reported_subscriptions", ("billing_subscriptions", "reported"), CUSTOMER_SUBSCRIPTIONS),
)
