"""Paddle Billing's API as the billing source (``--billing paddle``).

Every subscription, every status (no status filter), at the largest page size
(200), following ``meta.pagination.next`` until ``has_more`` is false; then the
customers those subscriptions name, by id in batches, for their emails.
Statuses, scheduled changes (a scheduled cancel keeps access until it takes
effect), prices, amounts and billing cycles are read by the same parser as
Paddle JSON files, so both inputs mean the same thing.

Sandbox or live is told from the key (``pdl_sdbx_apikey_...`` /
``pdl_live_apikey_...``) and shown in the report. A failed page, an auth error
or an interrupt stops the run with an error that says how much was read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from billdrift.config import PaddleApiConfig
from billdrift.core.model import BillingData, Skip
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.api.client import API_RETRY, ApiClient, ApiError, Unreachable
from billdrift.infra.api.keys import key_from_env
from billdrift.sources.billing.common import (
    RecordError,
    items_table,
    object_id,
    skip,
    subscriptions_table,
)
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.paddle_json import parse_paddle_subscription
from billdrift.sources.billing.rate_limits import PADDLE, pacer

PAGE_SIZE = 200
CUSTOMER_BATCH = 100
LIVE_BASE = "https://api.paddle.com"
SANDBOX_BASE = "https://sandbox-api.paddle.com"


@dataclass(frozen=True)
class PaddleKey:
    value: str
    env_name: str

    @property
    def sandbox(self) -> bool:
        return "_sdbx_" in self.value

    @property
    def mode(self) -> str:
        return "sandbox" if self.sandbox else "live"


def paddle_key(options: PaddleApiConfig, environ: dict[str, str] | None = None) -> PaddleKey:
    found = key_from_env(options.api_key_env, environ)
    if found is not None:
        return PaddleKey(found[1], found[0])
    raise ConfigError(
        f"--billing paddle needs an API key in {' or '.join(options.api_key_env)} (Paddle > "
        "Developer tools > Authentication; read permission on subscriptions and customers)"
    )


def paddle_client(options: PaddleApiConfig, key: PaddleKey) -> tuple[ApiClient, list[str]]:
    """The client for this key's environment (live or sandbox, unless ``api_base`` says),
    and notes on pacing set above Paddle's limits: one constructor for the full listing
    and the listener's one-customer fetches."""
    paced, notes = pacer(PADDLE, options.max_requests_per_second, setting="billing.paddle")
    client = ApiClient(
        options.api_base or (SANDBOX_BASE if key.sandbox else LIVE_BASE),
        {"Authorization": f"Bearer {key.value}", "User-Agent": "billdrift (read-only)"},
        paced,
        secret=key.value,
        retry=API_RETRY.with_retries(options.retries),
        timeout=options.timeout_seconds,
        timeout_key="billing.paddle.timeout_seconds",
        error_message=paddle_error,
    )
    return client, notes


def paddle_error(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return error.get("code"), error.get("detail") or error.get("code")
    return None, None


class PaddleApiSource(BillingSource):
    kind = "paddle"
    uses_tls = True

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return False  # chosen by name, never from a file's content

    def read(self) -> BillingData:
        options = self.options.paddle
        key = paddle_key(options)
        client, notes = paddle_client(options, key)
        try:
            records = self._subscriptions(client)
            emails = self._emails(client, records)
        except Unreachable as error:
            raise SourceError(f"Paddle: {error} (nothing was reconciled)") from None
        except ApiError as error:
            raise SourceError(
                f"{_explain(error, key)} (after {client.counters.requests} requests; the fetch "
                "stopped part-way, so nothing was reconciled)"
            ) from None
        except KeyboardInterrupt:
            raise SourceError(
                f"the Paddle fetch was interrupted after {client.counters.requests} requests; "
                "nothing was reconciled"
            ) from None
        finally:
            client.close()
            self.progress.close()
        data = to_data(records, emails, key, client.counters.requests)
        return replace(data, notes=(*notes, *data.notes))

    def _subscriptions(self, client: ApiClient) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: list[tuple[str, str | int]] = [("per_page", PAGE_SIZE)]
            if after:
                params.append(("after", after))
            page = client.get("/subscriptions", params)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ApiError("Paddle returned a page without a data array")
            records += [record for record in data if isinstance(record, dict)]
            self.progress.update("subscriptions", len(records), client.counters.requests)
            pagination = (page.get("meta") or {}).get("pagination") or {}
            if not pagination.get("has_more") or not data:
                return records
            after = _after(pagination.get("next")) or str(data[-1].get("id"))

    def _emails(self, client: ApiClient, records: list[dict[str, Any]]) -> dict[str, str]:
        wanted = sorted(
            {ident for record in records if (ident := object_id(record.get("customer_id")))}
        )
        emails: dict[str, str] = {}
        for start in range(0, len(wanted), CUSTOMER_BATCH):
            batch = wanted[start : start + CUSTOMER_BATCH]
            params: list[tuple[str, str | int]] = [
                ("id", ",".join(batch)),
                ("per_page", PAGE_SIZE),
            ]
            page = client.get("/customers", params)
            for customer in page.get("data") or []:
                if isinstance(customer, dict) and isinstance(customer.get("email"), str):
                    emails[str(customer.get("id"))] = customer["email"]
            self.progress.update("customers", len(emails), client.counters.requests)
        return emails


def _after(next_url: object) -> str | None:
    if not isinstance(next_url, str):
        return None
    values = parse_qs(urlsplit(next_url).query).get("after")
    return values[0] if values else None


def _explain(error: ApiError, key: PaddleKey) -> str:
    if error.status == 401:
        return f"Paddle rejected the API key in {key.env_name} (HTTP 401): check it is current"
    if error.status == 403:
        return (
            f"the API key in {key.env_name} may not read this ({error}); give it read "
            "permission on subscriptions and customers (Paddle > Developer tools > "
            "Authentication)"
        )
    return f"reading Paddle failed: {error}"


def to_data(
    records: list[dict[str, Any]], emails: dict[str, str], key: PaddleKey, requests: int
) -> BillingData:
    name = f"paddle ({key.mode})"
    subs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    skips: list[Skip] = []
    seen: set[str] = set()
    for record in sorted(records, key=lambda r: str(r.get("id"))):
        ident = str(record.get("id"))
        if ident in seen:  # a page boundary that moved under a concurrent change
            continue
        seen.add(ident)
        try:
            sub, sub_items, _known = parse_paddle_subscription(record, f"{name}:{ident}", emails)
        except RecordError as error:
            customer = object_id(record.get("customer_id"))
            skips.append(skip(name, ident, error.reason, error.field, customer))
            continue
        subs.append(sub)
        items.extend(sub_items)
    return BillingData(
        subscriptions=subscriptions_table(subs),
        items=items_table(items),
        skips=tuple(skips),
        description=(
            f"paddle API ({key.mode}): {len(subs):,} subscriptions, {len(emails):,} customer "
            f"emails; {requests:,} requests"
        ),
    )
