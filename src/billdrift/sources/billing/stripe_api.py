"""Stripe's API as the billing source (``--billing stripe``): complete, parallel, read-only.

Complete: every subscription in every status (``status=all``: without it
canceled subscriptions are invisible, the commonest cause of false drift),
customers expanded for their email, every page, one pinned API version.

Parallel: the walk over ``created`` ranges lives in
:mod:`billdrift.sources.billing.stripe_walk`. All its threads share one
:class:`~billdrift.infra.api.ratelimit.RateLimiter` set below Stripe's account-wide
limit, which the user's own app shares.

Never a silent pass: a fetch that fails part-way, an auth or permission error,
or an interrupt raises :class:`~billdrift.errors.SourceError` saying how much
was read; nothing partial reaches the rules.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from billdrift.config import StripeApiConfig
from billdrift.core.model import BillingData, Skip
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.api.client import API_RETRY, ApiClient, ApiError
from billdrift.infra.api.keys import key_from_env
from billdrift.infra.api.ratelimit import RateLimiter
from billdrift.sources.billing.common import (
    RecordError,
    items_table,
    object_id,
    skip,
    subscriptions_table,
)
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.stripe_json import parse_subscription

_PERMISSION = re.compile(r"\brak_[a-z_]+\b")


@dataclass(frozen=True)
class StripeKey:
    """What a key is, judged from its prefix (the key itself is never shown)."""

    value: str
    env_name: str

    @property
    def restricted(self) -> bool:
        return self.value.startswith("rk_")

    @property
    def live(self) -> bool:
        return "_live_" in self.value[:8]

    @property
    def mode(self) -> str:
        return "live mode" if self.live else "test mode"

    @property
    def kind(self) -> str:
        return "restricted key" if self.restricted else "secret key"


def stripe_key(options: StripeApiConfig, environ: dict[str, str] | None = None) -> StripeKey:
    found = key_from_env(options.api_key_env, environ)
    if found is not None:
        name, value = found
        if not value.startswith(("sk_", "rk_")):
            raise ConfigError(
                f"{name} does not hold a Stripe API key (expected rk_live_..., rk_test_..., "
                "sk_live_... or sk_test_...)"
            )
        return StripeKey(value, name)
    names = " or ".join(options.api_key_env)
    raise ConfigError(
        f"--billing stripe needs an API key in {names}: a restricted key (rk_...) with Read "
        "permission on Subscriptions, Customers and Events is enough, and safer than a secret key"
    )


def key_notes(key: StripeKey) -> list[str]:
    if key.restricted:
        return []
    return [
        f"{key.env_name} holds a secret key ({key.mode}), which can change the account; "
        "billdrift only reads, so a restricted key with Read on Subscriptions, Customers, "
        "Events (and Entitlements if used) is enough: Dashboard > Developers > API keys > "
        "Create restricted key"
    ]


def permission_error(error: ApiError, key: StripeKey, what: str) -> SourceError:
    """A SourceError that names the missing permission and how to grant it."""
    found = _PERMISSION.search(str(error))
    if error.status == 401:
        return SourceError(
            f"Stripe rejected the API key in {key.env_name} (HTTP 401) while reading {what}: "
            "check that it is current and complete"
        )
    if error.status == 403 or found:
        permission = found.group(0) if found else "a read permission"
        return SourceError(
            f"the {key.kind} in {key.env_name} lacks {permission}, needed to read {what}: in "
            "the Stripe Dashboard (Developers > API keys), edit the restricted key and set "
            f"that resource to Read"
        )
    return SourceError(f"reading {what} from Stripe failed: {error}")


def stripe_client(options: StripeApiConfig, key: StripeKey) -> ApiClient:
    rate = options.max_requests_per_second or (60.0 if key.live else 20.0)
    # 5% below the ceiling: requests sent evenly still arrive bunched by network and
    # server jitter, and a provider counting in a sliding window answers 429 to the
    # bunch; each 429 then stalls every thread for a backoff.
    rate *= 0.95
    headers = {
        "Authorization": f"Bearer {key.value}",
        "Stripe-Version": options.api_version,
        "User-Agent": "billdrift (read-only reconciliation)",
    }
    return ApiClient(
        options.api_base,
        headers,
        RateLimiter(rate),
        secret=key.value,
        # Stripe sends no Retry-After: the pacer already keeps the rate, so a 429 is a
        # momentary bunch and a short first wait recovers it (doubling after that).
        retry=replace(API_RETRY, retries=options.retries, backoff=0.25),
    )


@dataclass
class Parsed:
    """Subscription objects turned into canonical rows."""

    subscriptions: list[dict[str, Any]]
    items: list[dict[str, Any]]
    skips: list[Skip]
    truncated: int = 0


def parse_records(records: list[dict[str, Any]], name: str) -> Parsed:
    """Canonical rows from Stripe subscription objects, sorted by id (deterministic)."""
    parsed = Parsed([], [], [])
    for record in sorted(records, key=lambda r: str(r.get("id"))):
        ident = str(record.get("id"))
        try:
            sub, sub_items, _discount, more = parse_subscription(record, f"{name}:{ident}")
        except RecordError as error:
            customer = object_id(record.get("customer"))
            parsed.skips.append(skip(name, ident, error.reason, error.field, customer))
            continue
        parsed.subscriptions.append(sub)
        parsed.items.extend(sub_items)
        parsed.truncated += more
    return parsed


def as_tables(parsed: Parsed) -> tuple[Any, Any]:
    return subscriptions_table(parsed.subscriptions), items_table(parsed.items)


def snapshot_dir(options: StripeApiConfig) -> Path:
    if options.snapshot_dir:
        return Path(options.snapshot_dir)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "billdrift"


class StripeApiSource(BillingSource):
    """``--billing stripe``: the key comes from the environment, never from a file."""

    kind = "stripe"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return False  # chosen by name, never from a file's content

    def read(self) -> BillingData:
        from billdrift.sources.billing.stripe_snapshot import sync

        options = self.options.stripe
        key = stripe_key(options)
        client = stripe_client(options, key)
        try:
            result = sync(client, key, options, self.progress)
            if options.entitlements:
                from billdrift.sources.billing.stripe_entitlements import entitlement_items

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
            notes=tuple(key_notes(key) + result.notes),
        )


def _partial(error: SourceError, requests: int) -> SourceError:
    return SourceError(
        f"{error} (after {requests} requests; the fetch stopped part-way, so nothing was "
        "reconciled)"
    )
