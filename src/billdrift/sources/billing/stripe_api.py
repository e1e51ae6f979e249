"""Stripe's API as the billing source (``--billing stripe``): complete, parallel, read-only.

Complete: every subscription in every status (``status=all``: without it
canceled subscriptions are invisible, the commonest cause of false drift),
customers expanded for their email, every page, one pinned API version.

Parallel: the walk over ``created`` ranges lives in
:mod:`billdrift.sources.billing.stripe_walk`. All its threads share one
:class:`~billdrift.infra.api.ratelimit.Pacer`, set below Stripe's account-wide
limit (which the user's own app shares) and its per-endpoint limit (the walk is
one endpoint); the numbers are in :mod:`billdrift.sources.billing.rate_limits`.

This module only puts the pieces together, so imports run one way: the key
(:mod:`~billdrift.sources.billing.stripe_key`) and the read itself, full or
incremental (:mod:`~billdrift.sources.billing.stripe_snapshot`, which turns
objects into rows with :mod:`~billdrift.sources.billing.stripe_records`), know
nothing of this source.

Never a silent pass: a fetch that fails part-way, an auth or permission error,
or an interrupt raises :class:`~billdrift.errors.SourceError` saying how much
was read; nothing partial reaches the rules. Stripe that cannot be reached at all
(no DNS, refused, a certificate not accepted) is said as such, host and cause.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from billdrift.config import StripeApiConfig
from billdrift.core.model import BillingData
from billdrift.errors import SourceError
from billdrift.infra.api.client import API_RETRY, ApiClient, ApiError, Unreachable
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.rate_limits import pacer, stripe_limits
from billdrift.sources.billing.stripe_entitlements import entitlement_items
from billdrift.sources.billing.stripe_key import StripeKey, key_notes, permission_error, stripe_key
from billdrift.sources.billing.stripe_snapshot import sync


def stripe_client(options: StripeApiConfig, key: StripeKey) -> tuple[ApiClient, list[str]]:
    """The client for this key's mode, and notes on pacing set above Stripe's limits."""
    paced, notes = pacer(
        stripe_limits(key.live),
        options.max_requests_per_second,
        options.max_requests_per_second_per_endpoint,
        setting="billing.stripe",
    )
    headers = {
        "Authorization": f"Bearer {key.value}",
        "Stripe-Version": options.api_version,
        "User-Agent": "billdrift (read-only reconciliation)",
    }
    client = ApiClient(
        options.api_base,
        headers,
        paced,
        secret=key.value,
        timeout=options.timeout_seconds,
        timeout_key="billing.stripe.timeout_seconds",
        # Stripe sends no Retry-After: the pacer already keeps the rate, so a 429 is a
        # momentary bunch and a short first wait recovers it (doubling after that).
        retry=replace(API_RETRY, retries=options.retries, backoff=0.25),
    )
    return client, notes


class StripeApiSource(BillingSource):
    """``--billing stripe``: the key comes from the environment, never from a file."""

    kind = "stripe"
    uses_tls = True

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return False  # chosen by name, never from a file's content

    def read(self) -> BillingData:
        options = self.options.stripe
        key = stripe_key(options)
        client, pacing_notes = stripe_client(options, key)
        try:
            result = sync(client, key, options, self.progress)
            if options.entitlements:
                before = client.counters.requests
                extra, asked = entitlement_items(
                    client, result.subscriptions, options.entitlements_concurrency
                )
                result.items = pa.concat_tables([result.items, extra])
                result.notes.append(
                    f"stripe entitlements: {extra.num_rows:,} entitlement item(s) for {asked:,} "
                    f"customer(s) with an entitling subscription "
                    f"({client.counters.requests - before:,} requests); map their lookup keys "
                    "in [plans] to compare plans with what customers are entitled to"
                )
        except Unreachable as error:
            raise SourceError(f"Stripe: {error} (nothing was reconciled)") from None
        except ApiError as error:
            read = client.counters.requests
            what = "entitlements" if "entitlements" in error.path else "subscriptions"
            raise _partial(permission_error(error, key, what), read) from None
        except KeyboardInterrupt:
            raise SourceError(
                f"the Stripe fetch was interrupted after {client.counters.requests} requests; "
                "nothing was reconciled"
            ) from None
        finally:
            client.close()
            self.progress.close()
        counters = client.counters
        retried = (
            f", {counters.rate_limited} rate-limited and retried" if counters.rate_limited else ""
        )
        description = (
            f"stripe API ({key.mode}, {key.kind}): {result.subscriptions.num_rows:,} "
            f"subscriptions; {result.how}; {counters.requests:,} requests{retried}"
        )
        return BillingData(
            subscriptions=result.subscriptions,
            items=result.items,
            skips=tuple(result.skips),
            description=description,
            notes=tuple(key_notes(key) + pacing_notes + result.notes),
        )


def _partial(error: SourceError, requests: int) -> SourceError:
    return SourceError(
        f"{error} (after {requests} requests; the fetch stopped part-way, so nothing was "
        "reconciled)"
    )
