"""The app side and the verdict: what each account's access fields say, and the
one state every account ends in."""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.sql import sql

#: No accounts: the rows of a stage that cannot have any in this run.
NO_ACCOUNTS = "SELECT CAST(NULL AS VARCHAR) AS account_id LIMIT 0"


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
ACCOUNT_ACCESS = Stage(
    "account_access",
    ("app_accounts", "app_access_signals"),
    """
SELECT a.*, g.field AS access_field, g.kind AS access_kind, g.raw AS access_raw,
       g.flag AS access_flag
FROM app_accounts a
LEFT JOIN app_access_signals g ON g.account_id = a.account_id AND g.is_primary
""",
    view=True,
)

#: Every account with the billing customer its stored id names, if that customer
#: exists, that customer's verdict and the app's access: the exact match settles
#: almost every account, so the costlier methods below see only the rest
#: (`linked` false). A view: :data:`ACCOUNT_STATE` reads it as it streams (a
#: million-row table of it was the run's peak memory). Whether the account's role
#: is internal and its plan free is read here, from the row as it passes, rather
#: than joined back by account id (a million-row probe for a few thousand flags).
ACCOUNT_LINKS = Stage(
    "account_links",
    ("account_access", "customers", "app_granting_statuses", "internal_roles", "free_plans"),
    sql(
        """
SELECT a.account_id, a.customer_id AS stored_customer_id, a.plan,
       a.email, a.source_ref, a.source_number, a.access_field, a.access_raw,
       c.customer_id IS NOT NULL AS linked, c.customer_id, c.subscription_id, c.entitles,
       c.entitlement_reason, c.mapped_plan,
       {primary_grants} AS primary_grants,
       -- read only where the state can hinge on them (a NULL probe is free):
       -- unlinked accounts, and linked ones whose customer does not entitle
       (CASE WHEN c.customer_id IS NULL OR NOT c.entitles THEN lower(trim(a.role)) END)
         IN (SELECT ir.role FROM internal_roles ir) AS internal_role,
       (CASE WHEN c.customer_id IS NULL THEN lower(trim(a.plan)) END)
         IN (SELECT fp.plan FROM free_plans fp) AS on_free_plan
FROM account_access a
LEFT JOIN customers c ON c.customer_id = a.customer_id
""",
        primary_grants=_grants("a.access_kind", "a.access_flag", "a.access_raw"),
    ),
    view=True,
)

#: Accounts whose email an internal pattern matches: none unless the policy lists
#: patterns (a pattern match is a join no hash can serve, so it is kept apart from
#: the million-row pass of ``account_links``, which reads roles and plans).
ACCOUNT_FLAGS = Stage(
    "account_flags",
    ("app_accounts", "internal_email_patterns"),
    """
SELECT DISTINCT a.account_id
FROM app_accounts a JOIN internal_email_patterns ip
  ON lower(a.email) LIKE ip.like_pattern ESCAPE '\\'
""",
)

#: Exactly one state per account. A verdict that hinges on a billing row that could not
#: be read is held back as ambiguous rather than reported as drift. The candidate
#: customers of an account matched by stored id are that one id: :data:`ACCOUNT_DETAIL`
#: writes the list for the accounts it reports, so the relation holds only the lists
#: of the few accounts other methods matched (``other_candidates``). A view: it is
#: kept only as :data:`ACCOUNT_OUTCOMES`, which holds each account the rules may
#: report and counts the others.
ACCOUNT_STATE = Stage(
    "account_state",
    ("account_links", "other_matches", "account_flags", "unreadable_rows"),
    sql(
        """
SELECT r.account_id, r.matched_customer_id, r.subscription_id, r.match_method,
       r.match_confidence, r.other_candidates, r.app_grants, r.entitles, r.plan,
       r.mapped_plan, r.linked_customer_id, r.email, r.source_ref, r.source_number,
       r.primary_field, r.primary_raw,
       CASE WHEN r.billing_unreadable
                 AND r.raw_state IN ('paid_but_blocked', 'unpaid_but_active', 'stale_billing_link')
            THEN 'ambiguous' ELSE r.raw_state END AS state,
       CASE WHEN r.billing_unreadable
                 AND r.raw_state IN ('paid_but_blocked', 'unpaid_but_active', 'stale_billing_link')
            THEN 'billing_row_unreadable' ELSE r.raw_reason END AS ambiguous_reason
FROM (
  SELECT l.account_id, l.plan, l.stored_customer_id AS linked_customer_id, l.email,
         l.source_ref, l.source_number, l.access_field AS primary_field,
         l.access_raw AS primary_raw,
         CASE WHEN l.linked THEN 'customer_id' ELSE o.method END
           AS match_method,
         CASE WHEN l.linked THEN 1.0 ELSE o.confidence END
           AS match_confidence,
         o.candidates AS other_candidates,
         coalesce(l.customer_id, CASE WHEN o.n_candidates = 1 THEN o.customer_id END)
           AS matched_customer_id,
         coalesce(l.subscription_id, o.subscription_id) AS subscription_id,
         CASE WHEN l.linked THEN l.mapped_plan ELSE o.mapped_plan END AS mapped_plan,
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
                    THEN CASE WHEN {internal} THEN 'internal' ELSE 'unpaid_but_active' END
                  WHEN NOT l.linked AND l.stored_customer_id IS NOT NULL
                    THEN 'stale_billing_link'
                  ELSE 'in_sync'
             END
           WHEN l.stored_customer_id IS NOT NULL THEN
             CASE WHEN {internal} THEN 'internal' ELSE 'stale_billing_link' END
           WHEN coalesce(l.primary_grants, FALSE) AND {internal} THEN 'internal'
           WHEN coalesce(l.primary_grants, FALSE) AND l.on_free_plan THEN 'free_plan'
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
""",
        # internal by an email pattern (account_flags) or by role (account_links)
        internal="(f.account_id IS NOT NULL OR l.internal_role)",
    ),
    view=True,
)

#: The account's plan, as the plan map's plans are compared (`s`: an account's state).
APP_PLAN = "lower(trim(coalesce(s.plan, '')))"

#: The account states the per-account rules report, as an SQL list.
REPORTED_STATES = (
    "('paid_but_blocked', 'unpaid_but_active', 'missing_billing_link', "
    "'stale_billing_link', 'ambiguous')"
)

#: Whether account `s` is paid for and in sync: the accounts whose plan can drift.
PAID_IN_SYNC = "s.state = 'in_sync' AND s.entitles AND s.app_grants"

#: Whether account `s` (a row of :data:`ACCOUNT_STATE`) is one a rule may report: a
#: reported state, access fields that contradict each other, or a paid, in-sync
#: account whose plan may have drifted (its subscription carries a plan other than
#: the app's, or its plans are in ``mapped_plans``).
_KEPT = sql(
    """(s.state IN {reported_states}
   OR s.account_id IN (SELECT d.account_id FROM access_disagreements d)
   OR ({paid_in_sync}
       AND (s.mapped_plan <> {app_plan}
            OR (s.mapped_plan IS NULL
                AND s.subscription_id IN (SELECT m.subscription_id FROM mapped_plans m)))))""",
    reported_states=REPORTED_STATES,
    paid_in_sync=PAID_IN_SYNC,
    app_plan=APP_PLAN,
)

#: The columns of :data:`ACCOUNT_STATE` an account's outcome keeps only when a rule
#: may report the account.
_KEPT_COLUMNS = (
    "account_id",
    "matched_customer_id",
    "subscription_id",
    "match_confidence",
    "other_candidates",
    "app_grants",
    "entitles",
    "plan",
    "mapped_plan",
    "ambiguous_reason",
    "linked_customer_id",
    "email",
    "source_ref",
    "source_number",
    "primary_field",
    "primary_raw",
)

#: Every account's state, as the rules and the report read it: one row, with every
#: column of :data:`ACCOUNT_STATE`, for each account a rule may report (`_KEPT`), and
#: one row per state and match method counting the others (`accounts`; their other
#: columns NULL). Almost every account is in sync or has no billing at all, and
#: nothing reads more of them than how many there are: storing a million rows of ids
#: and plans to count them cost more than working out their states (0.10 of 0.24 s
#: at 1M x 1M, issue 17), and every reader scanned them again. Rows of one account
#: (`account_id` set) always count 1.
ACCOUNT_OUTCOMES = Stage(
    "account_outcomes",
    ("account_state", "access_disagreements", "mapped_plans"),
    sql(
        """
SELECT {kept_columns}, match_method, state, count(*) AS accounts
FROM (SELECT s.*, {kept} AS kept FROM account_state s) s
GROUP BY {positions}
""",
        kept_columns=", ".join(
            f"CASE WHEN s.kept THEN s.{column} END AS {column}" for column in _KEPT_COLUMNS
        ),
        kept=_KEPT,
        positions=", ".join(str(position) for position in range(1, len(_KEPT_COLUMNS) + 3)),
    ),
)

#: How the access signals are laid out: several fields can disagree, and evidence
#: strings need the signal table unless each account has one, primary, field.
FIELD_SHAPE = Stage(
    "field_shape",
    ("app_access_signals",),
    """
SELECT count(DISTINCT field) AS n_fields, coalesce(bool_and(is_primary), TRUE) AS all_primary
FROM app_access_signals
""",
)

#: Accounts whose access fields contradict each other. Only accounts with more than
#: one signal can disagree: with one access field, the stage is empty unread. A status
#: whose meaning depends on the grace policy (``past_due``: granting within grace, not
#: beyond) contradicts nothing: a flag that denies beside it may be right (beyond
#: grace) and a flag that grants may be too (within grace), so it counts as neither.
ACCESS_DISAGREEMENTS = Stage(
    "access_disagreements",
    ("app_access_signals", "app_granting_statuses", "field_shape", "status_policy"),
    sql(
        """
SELECT account_id FROM (
  SELECT g.account_id,
         CASE WHEN g.kind <> 'flag' AND lower(trim(g.raw)) IN (
                SELECT sp.status FROM status_policy sp WHERE sp.decision = 'grace')
              THEN NULL
              ELSE {grants}
         END AS grants
  FROM app_access_signals g
) signals
GROUP BY account_id
HAVING bool_or(grants) AND NOT bool_and(grants)
""",
        grants=_SIGNAL_GRANTS,
    ),
    # only accounts with several access fields can contradict themselves
    when="SELECT n_fields > 1 FROM field_shape",
    otherwise=NO_ACCOUNTS,
)
