"""Completeness hints: billing data that looks partial in a known, fixable way.

Two ways of saving Stripe subscriptions are common and quietly incomplete:

* without ``status=all`` the API and the Stripe CLI omit canceled
  subscriptions. An account whose customer canceled then links to a customer
  the data does not hold, and is reported as a medium ``stale_billing_link``
  instead of a high ``unpaid_but_active``.
* without expanding ``data.customer`` a subscription's customer is a bare id,
  with no email, so no account can be matched by email: they turn into
  orphans and missing links.

Each is detected from the loaded relations and becomes a note in the report
(every format and the JSON show notes) naming the command that saves a
complete export. A hint does not change the verdict: the findings are still
what the data says, the data may be complete by design (a new account with
no cancellations yet), and a grossly partial export is already an ERROR
through the partial-data guard in :mod:`billdrift.core.engine`. Saying how to
fix it is what was missing, not a harder verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

#: Runs one query and returns its rows: the in-process database, or the answers a
#: pushed-down run brought back (:mod:`billdrift.core.plan`).
Ask = Callable[[str], list[tuple[Any, ...]]]

#: How to save every subscription of a provider, in every status, customers expanded.
COMPLETE_EXPORT: Final = {
    "stripe": (
        "save a complete export with `stripe get /v1/subscriptions -d status=all "
        "-d limit=100 -e data.customer > subscriptions.json` (repeat with "
        "`-d starting_after=<last id>` while has_more is true), or let billdrift walk the "
        "API: `billdrift check --billing stripe` with STRIPE_API_KEY set"
    ),
    "paddle": (
        "let billdrift walk the API, every status with customers' emails: "
        "`billdrift check --billing paddle` with PADDLE_API_KEY set"
    ),
}
#: Statuses only a complete export holds (the terminal ones).
ENDED: Final = ("canceled", "incomplete_expired", "ended", "expired")

#: Per provider, in one pass: subscriptions in an ended status, and customer emails.
_PER_PROVIDER = f"""
SELECT provider,
       count(*) FILTER (WHERE status IN ({", ".join(f"'{status}'" for status in ENDED)})),
       count(customer_email)
FROM billing_subscriptions GROUP BY provider ORDER BY provider
"""


def completeness_hints(ask: Ask) -> list[str]:
    """Notes for billing data that looks partial in a known way (see the module doc)."""
    hints = []
    for provider, ended, emails in ask(_PER_PROVIDER):
        command = COMPLETE_EXPORT.get(str(provider))
        if command is None:
            continue
        hint = "" if ended else _no_ended(ask, str(provider))
        if hint:
            hints.append(f"{hint}; {command}")
        hint = "" if emails else _not_expanded(ask, str(provider))
        if hint:
            hints.append(f"{hint}; {command}")
    return hints


#: Accounts linking to customers the billing data does not hold: ``customer_keys``
#: already counts them (an anti-join of a million accounts cost 0.2 s at 1M x 1M).
ABSENT_CUSTOMERS: Final = "SELECT sum(n_accounts) FROM customer_keys WHERE n_subscriptions = 0"

#: Accounts with an email that no method matched.
UNMATCHED_WITH_EMAIL: Final = """
SELECT count(*) FROM account_state s JOIN app_accounts a USING (account_id)
WHERE s.matched_customer_id IS NULL AND a.email IS NOT NULL
"""

#: Every query :func:`completeness_hints` may ask.
QUESTIONS: Final = (_PER_PROVIDER, ABSENT_CUSTOMERS, UNMATCHED_WITH_EMAIL)


def _no_ended(ask: Ask, provider: str) -> str:
    """The status=all hint, once `provider` is known to hold no ended subscription."""
    absent = _count(ask, ABSENT_CUSTOMERS)
    if not absent:
        return ""
    return (
        f"Incomplete export? The {provider} data holds no ended subscription (none "
        f"canceled or expired) while {absent} account(s) link to customers it does not "
        "contain: it looks saved without status=all, which omits canceled subscriptions, "
        "so those accounts show as stale links rather than unpaid access"
    )


def _not_expanded(ask: Ask, provider: str) -> str:
    """The expand hint, once `provider` is known to carry no customer email."""
    unmatched = _count(ask, UNMATCHED_WITH_EMAIL)
    if not unmatched:
        return ""
    return (
        f"Incomplete export? The {provider} data carries no customer email (customers not "
        f"expanded), so {unmatched} account(s) with an email could not be matched by it and "
        "show as missing links or orphans"
    )


def _count(ask: Ask, query: str) -> int:
    """A count query's value, its result consumed (DuckDB refuses to register a
    relation while a result is open)."""
    rows = ask(query)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0
