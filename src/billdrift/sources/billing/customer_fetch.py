"""One customer's subscriptions, fresh from the provider's API: the truth a webhook
only hints at.

A handful of requests per customer, every status (Stripe ``status=all``: without
it a canceled subscription is invisible and the customer looks like an orphan),
paged until done, read by the same parsers as a full fetch, so a one-customer
check and the scheduled full check judge identical rows alike.

* Stripe: ``GET /v1/subscriptions?customer=...&status=all`` with the customer
  expanded (its email); a customer with no subscription costs one more request,
  ``GET /v1/customers/{id}``, for the email the app may know them by.
* Paddle: ``GET /subscriptions?customer_id=...``, then ``GET /customers?id=...``
  for the email.

One :class:`CustomerFetcher` lives as long as the listener: its client's
:class:`~billdrift.infra.api.ratelimit.Pacer` paces every check together, under
the same settings (and defaults) as the scheduled check's full fetch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.errors import SourceError
from billdrift.infra.api.client import ApiError
from billdrift.sources.billing.paddle_api import (
    PAGE_SIZE,
    paddle_client,
    paddle_key,
    to_data,
)
from billdrift.sources.billing.stripe_api import stripe_client
from billdrift.sources.billing.stripe_key import stripe_key
from billdrift.sources.billing.stripe_records import as_tables, parse_records
from billdrift.sources.billing.webhook_events import Provider

STRIPE_PAGE = 100


@dataclass(frozen=True)
class CustomerBilling:
    """The customer's billing rows, and the email the provider holds for them."""

    data: BillingData
    email: str | None


class CustomerFetcher:
    """Fetches one customer at a time from one provider; share it between threads."""

    def __init__(self, provider: Provider, options: BillingConfig) -> None:
        self.provider = provider
        self.notes: list[str] = []
        if provider == "stripe":
            key = stripe_key(options.stripe)
            self.mode = key.mode
            self.client, self.notes = stripe_client(options.stripe, key)
        else:
            paddle = options.paddle
            pkey = paddle_key(paddle)
            self._paddle_key = pkey
            self.mode = pkey.mode
            self.client, self.notes = paddle_client(paddle, pkey)

    def close(self) -> None:
        self.client.close()

    def fetch(self, customer: str) -> CustomerBilling:
        """The customer's subscriptions in every status; SourceError when the API fails."""
        before = self.client.counters.requests
        try:
            fetch = self._stripe if self.provider == "stripe" else self._paddle
            result = fetch(customer)
        except ApiError as error:
            raise SourceError(f"{self.provider}: customer {customer}: {error}") from None
        requests = self.client.counters.requests - before
        description = (
            f"{self.provider} API ({self.mode}): customer {customer}, "
            f"{result.data.subscriptions.num_rows} subscription(s); {requests} request(s)"
        )
        return replace(result, data=replace(result.data, description=description))

    def _stripe(self, customer: str) -> CustomerBilling:
        records: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: list[tuple[str, str | int]] = [
                ("customer", customer),
                ("status", "all"),
                ("limit", STRIPE_PAGE),
                ("expand[]", "data.customer"),
            ]
            if after:
                params.append(("starting_after", after))
            page = self.client.get("/v1/subscriptions", params)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ApiError("Stripe returned a page without a data array")
            records += [record for record in data if isinstance(record, dict)]
            if not page.get("has_more") or not data:
                break
            after = str(data[-1].get("id"))
        email = next(
            (_email(r.get("customer")) for r in records if _email(r.get("customer"))), None
        )
        if not records:
            found = self.client.get(f"/v1/customers/{customer}", endpoint="/v1/customers/{id}")
            email = _email(found)
        parsed = parse_records(records, f"stripe ({self.mode})")
        subscriptions, items = as_tables(parsed)
        return CustomerBilling(
            BillingData(subscriptions=subscriptions, items=items, skips=tuple(parsed.skips)),
            email,
        )

    def _paddle(self, customer: str) -> CustomerBilling:
        records: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: list[tuple[str, str | int]] = [
                ("customer_id", customer),
                ("per_page", PAGE_SIZE),
            ]
            if after:
                params.append(("after", after))
            page = self.client.get("/subscriptions", params)
            data = page.get("data") if isinstance(page, dict) else None
            if not isinstance(data, list):
                raise ApiError("Paddle returned a page without a data array")
            records += [record for record in data if isinstance(record, dict)]
            pagination = (page.get("meta") or {}).get("pagination") or {}
            if not pagination.get("has_more") or not data:
                break
            after = str(data[-1].get("id"))
        found = self.client.get("/customers", [("id", customer)])
        emails = {
            str(c.get("id")): c["email"]
            for c in (found.get("data") or [] if isinstance(found, dict) else [])
            if isinstance(c, dict) and isinstance(c.get("email"), str)
        }
        data = to_data(records, emails, self._paddle_key, 0)
        return CustomerBilling(data, emails.get(customer))


def _email(customer: Any) -> str | None:
    if isinstance(customer, dict) and not customer.get("deleted"):
        email = customer.get("email")
        return email if isinstance(email, str) and email else None
    return None
