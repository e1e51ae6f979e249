"""Rules about the link between an account and a billing customer."""

from __future__ import annotations

from billdrift.core.model import Kind
from billdrift.core.policy_tables import grace_until
from billdrift.core.refs import ref_text
from billdrift.core.rules.base import Rule, RuleContext
from billdrift.core.rules.evidence import ACCOUNT_EVIDENCE, APP_SAYS, BILLING_SAYS
from billdrift.core.rules.shape import Group, Value
from billdrift.core.rules.wording import IdList, Template, When, capitalized, email, ident, text
from billdrift.core.sql import natural_order, sql

MISSING_BILLING_LINK_SQL = """
SELECT *, 'medium' AS severity, 1.0 AS confidence, NULL AS customer_id
FROM account_detail WHERE state = 'missing_billing_link'
"""

STALE_BILLING_LINK_SQL = """
SELECT *, CASE WHEN app_grants THEN 'medium' ELSE 'low' END AS severity,
       1.0 AS confidence, linked_customer_id AS customer_id
FROM account_detail WHERE state = 'stale_billing_link'
"""

DUPLICATE_CUSTOMER_SQL = sql(
    """
WITH shared AS (
  SELECT customer_id, n_accounts FROM customer_keys WHERE n_accounts > 1
),
sharing AS (
  SELECT a.customer_id, string_agg(a.account_id, ', ' ORDER BY {account_order}) AS account_ids
  FROM app_accounts a JOIN shared d ON d.customer_id = a.customer_id
  GROUP BY a.customer_id
)
SELECT NULL AS account_id, d.customer_id, c.subscription_id, 'medium' AS severity,
       1.0 AS confidence, d.n_accounts, b.status, i.account_ids
FROM shared d
JOIN sharing i ON i.customer_id = d.customer_id
LEFT JOIN customers c ON c.customer_id = d.customer_id
LEFT JOIN billing_subscriptions b ON b.subscription_id = c.subscription_id
""",
    account_order=natural_order("a.account_id"),  # "2, 6, 19", not "19, 2, 6"
)

ORPHANED_SUBSCRIPTION_SQL = sql(
    """
WITH orphans AS (
  SELECT c.customer_id, c.subscription_id, c.entitlement_reason, c.decision
  FROM unclaimed_customers c
  WHERE c.entitles
    AND NOT EXISTS (SELECT 1 FROM match_candidates m WHERE m.customer_id = c.customer_id)
    AND NOT EXISTS (SELECT 1 FROM unreadable_rows u
                    WHERE u.side = 'app' AND u.customer_id = c.customer_id)
)
SELECT o.*, NULL AS account_id, 'medium' AS severity, 1.0 AS confidence,
       b.provider, b.status, b.customer_email AS email, b.current_period_start,
       b.current_period_end, b.cancel_at, {source_ref} AS source_ref,
       {grace_until} AS grace_until
FROM orphans o
JOIN billing_subscriptions b ON b.subscription_id = o.subscription_id
LEFT JOIN period_starts d ON d.subscription_id = b.subscription_id
CROSS JOIN params p
""",
    source_ref=ref_text("b"),  # the place as text, for the reported rows only
    # the grace window judged from the period start entitlement used
    grace_until=grace_until("coalesce(b.current_period_start, d.current_period_start)"),
)


_MISSING_BILLING_LINK_MESSAGE: Template = (
    *capitalized(APP_SAYS),
    ", but it has no billing customer link and no billing customer matches its email.",
)

_MISSING_BILLING_LINK_FIX: Template = (
    "Link the account to its billing customer (store the customer id), or revoke access "
    "if it was granted by hand; list staff accounts in policy.internal_email_patterns.",
)

_STALE_BILLING_LINK_MESSAGE: Template = (
    "Account ",
    ident("account_id"),
    " is linked to ",
    ident("linked_customer_id"),
    ", which the billing data does not contain at all",
    When(
        "matched_customer_id",
        (
            "; it matches ",
            ident("matched_customer_id"),
            " by ",
            text("match_method"),
            " instead (",
            *BILLING_SAYS,
            ")",
        ),
    ),
    "; ",
    *APP_SAYS,
    ".",
)

_STALE_BILLING_LINK_FIX: Template = (
    "Check whether the customer was deleted or belongs to another account (test vs live "
    "mode, a merged customer); update the stored customer id.",
)

_DUPLICATE_CUSTOMER_MESSAGE: Template = (
    "Billing customer ",
    ident("customer_id"),
    " is linked from ",
    text("n_accounts"),
    " accounts: ",
    IdList("account_ids", split=True, limit=10),
    ".",
)

_DUPLICATE_CUSTOMER_FIX: Template = (
    "Keep the link on the account that owns the subscription and clear the others; if "
    "accounts share billing on purpose, set policy.team_billing = true.",
)

#: The accounts sharing the customer (at most 50 listed), and its subscription's status.
_DUPLICATE_EVIDENCE = Group(
    (
        ("account_ids", Value("account_ids", "ids")),
        ("n_accounts", Value("n_accounts")),
        ("billing_status", Value("status")),
    )
)


_ORPHANED_SUBSCRIPTION_MESSAGE: Template = (
    *BILLING_SAYS,
    " for customer ",
    ident("customer_id"),
    When("email", (" (", email("email"), ")")),
    ", but no app account is linked to it or matches its email.",
)

_ORPHANED_SUBSCRIPTION_FIX: Template = (
    "Find the account this customer signed up with and store the customer id on it; if "
    "there is none, the signup webhook failed: create the account or refund.",
)

#: The billing side only (no account): every key shown, null when unknown.
_ORPHAN_EVIDENCE = Group(
    (
        (
            "billing",
            Group(
                (
                    ("status", Value("status")),
                    ("email", Value("email")),
                    ("current_period_end", Value("current_period_end", "instant")),
                    ("subscriptions", Value("all_subscriptions")),
                    ("source", Value("source_ref")),
                ),
                drop_nulls=False,
            ),
        ),
    )
)


def _separate_billing(context: RuleContext) -> bool:
    return not context.policy.team_billing


RULES = (
    Rule(
        Kind.ORPHANED_SUBSCRIPTION,
        "An entitling subscription whose customer matches no account (by id or email).",
        ORPHANED_SUBSCRIPTION_SQL,
        key="customer_id",
        reads=(
            "unclaimed_customers",
            "match_candidates",
            "unreadable_rows",
            "billing_subscriptions",
            "period_starts",  # the grace window's end, for the message
            "params",
        ),
        message=_ORPHANED_SUBSCRIPTION_MESSAGE,
        fix=_ORPHANED_SUBSCRIPTION_FIX,
        evidence=_ORPHAN_EVIDENCE,
    ),
    Rule(
        Kind.MISSING_BILLING_LINK,
        "An account with paid access, no customer link and no email match (internal accounts "
        "and free plans excepted).",
        MISSING_BILLING_LINK_SQL,
        reads=("account_detail",),
        message=_MISSING_BILLING_LINK_MESSAGE,
        fix=_MISSING_BILLING_LINK_FIX,
        evidence=ACCOUNT_EVIDENCE,
        exposure=False,
    ),
    Rule(
        Kind.STALE_BILLING_LINK,
        "An account linked to a customer the billing data does not contain at all.",
        STALE_BILLING_LINK_SQL,
        reads=("account_detail",),
        message=_STALE_BILLING_LINK_MESSAGE,
        fix=_STALE_BILLING_LINK_FIX,
        evidence=ACCOUNT_EVIDENCE,
        exposure=False,
    ),
    Rule(
        Kind.DUPLICATE_CUSTOMER,
        "One billing customer linked from several accounts (off with policy.team_billing).",
        DUPLICATE_CUSTOMER_SQL,
        key="customer_id",
        reads=("customer_keys", "app_accounts", "customers", "billing_subscriptions"),
        message=_DUPLICATE_CUSTOMER_MESSAGE,
        fix=_DUPLICATE_CUSTOMER_FIX,
        evidence=_DUPLICATE_EVIDENCE,
        exposure=False,
        applies=_separate_billing,
        not_applied_because="policy.team_billing is true",
    ),
)
