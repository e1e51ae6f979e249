"""The request limits providers document, and billdrift's defaults under them.

The one place that holds them (see ``domain.md``-style facts in the README):

* Stripe counts requests per account, the user's own app included: 100/s in live
  mode, 25/s in test mode; and, on top, each endpoint (each named operation:
  ``GET /v1/subscriptions``, ``GET /v1/customers/{id}``, ...) has a default limit
  of 25/s of its own. A full subscription walk is one endpoint, so it tops out
  near 25 pages/s even in live mode.
* Paddle counts 240 requests a minute per IP address, every endpoint together.

Defaults leave room for the app that shares the budget (Stripe: 60/s of 100 live,
20/s of 25 in test mode and per endpoint); Paddle's budget is per IP, not shared
with an app on another host, so billdrift takes all of it. On top, every pace runs
:data:`JITTER_MARGIN` below the number: evenly sent requests still arrive bunched
by network and server jitter, and a provider counting in a sliding window answers
the bunch with 429s (each of which stalls every thread for a backoff).

A setting above a documented limit is accepted, with a note in the report that
names the limit: Stripe raises limits on request, and only the user knows theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from billdrift.infra.api.ratelimit import Pacer

#: Paces run this fraction of the number set (see the module docstring).
JITTER_MARGIN = 0.95


@dataclass(frozen=True)
class Limits:
    """What a provider documents, and what billdrift uses unless told otherwise."""

    provider: str
    #: Where these limits apply, as the report names it ("live mode").
    scope: str
    #: Documented requests per second, all endpoints together.
    account: float
    #: Who else spends the account budget, as the report says it.
    counted: str
    #: Documented default requests per second of each endpoint (None: none documented).
    endpoint: float | None
    default_account: float
    default_endpoint: float | None


STRIPE_LIVE = Limits(
    "Stripe", "live mode", 100.0, "per account, your app included", 25.0, 60.0, 20.0
)
STRIPE_TEST = Limits(
    "Stripe", "test mode", 25.0, "per account, your app included", 25.0, 20.0, 20.0
)
PADDLE = Limits(
    "Paddle",
    "all endpoints together",
    240 / 60,
    "per IP address: 240 a minute",
    None,
    240 / 60,
    None,
)


def stripe_limits(live: bool) -> Limits:
    return STRIPE_LIVE if live else STRIPE_TEST


def pacer(
    limits: Limits,
    account: float | None,
    endpoint: float | None = None,
    *,
    setting: str,
) -> tuple[Pacer, list[str]]:
    """The pacer for these settings (None: billdrift's default) and notes on any setting
    above a documented limit; `setting` is the config table, e.g. ``billing.stripe``."""
    notes: list[str] = []
    if account is not None and account > limits.account:
        notes.append(
            _above(
                limits,
                f"{setting}.max_requests_per_second",
                account,
                limits.account,
                limits.counted,
            )
        )
    if endpoint is not None and limits.endpoint is not None and endpoint > limits.endpoint:
        key = f"{setting}.max_requests_per_second_per_endpoint"
        notes.append(_above(limits, key, endpoint, limits.endpoint, "per endpoint"))
    per_second = (account or limits.default_account) * JITTER_MARGIN
    per_endpoint = endpoint or limits.default_endpoint
    scaled = None if per_endpoint is None else per_endpoint * JITTER_MARGIN
    return Pacer(per_second, scaled), notes


def _above(limits: Limits, key: str, value: float, limit: float, counted: str) -> str:
    return (
        f"{key} = {value:g} is above {limits.provider}'s documented limit of {limit:g} "
        f"requests/s ({counted}, {limits.scope}): billdrift paces at what you set, and will "
        f"meet 429s (retried, slower) unless {limits.provider} raised this account's limit"
    )
