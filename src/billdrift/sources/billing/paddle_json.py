"""Paddle Billing subscriptions saved as JSON (``GET /subscriptions`` pages).

Accepts a response page ``{"data": [...], "meta": {...}}``, a plain array, or
JSON Lines of pages or subscription objects. Paddle keeps a subscription
``active`` until a scheduled change takes effect, so ``scheduled_change`` is
what says access will end:

* ``action: cancel`` -> ``cancel_at = effective_at`` and
  ``cancel_at_period_end = true`` (the customer cancelled, paid time is owed);
* ``action: pause`` -> ``cancel_at = effective_at`` as well, because access
  stops then too, but ``cancel_at_period_end`` stays false: it is not a cancel;
* ``action: resume`` (a paused subscription coming back) ends nothing.

A canceled subscription's ``canceled_at`` is when it stopped, so it is also
``ended_at``. Subscriptions carry only ``customer_id``; emails come from an
embedded ``customer`` object, a ``customers`` array saved next to ``data`` (a
``GET /customers`` result merged into the file) or customer objects (``ctm_``
ids) among the records, else stay empty and a note says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from billdrift.core.bounds import AMOUNT_OFF, INTERVAL_COUNT, PERCENT_OFF, QUANTITY, UNIT_AMOUNT
from billdrift.core.model import BillingData, Skip
from billdrift.sources.billing.common import (
    JsonRecords,
    RecordError,
    as_object,
    describe,
    display_name,
    int_field,
    items_table,
    iter_objects,
    load_json_records,
    looks_like_json,
    lower,
    object_id,
    shown_value,
    skip,
    subscriptions_table,
    text_field,
    timestamp_field,
)
from billdrift.sources.billing.interface import BillingSource

EXPECTED = (
    'Paddle Billing subscriptions as JSON: a GET /subscriptions page {"data": [...], '
    '"meta": {...}}, an array of subscription objects, or JSON Lines'
)

#: Paddle's id prefixes (customers, prices, products) and keys Stripe never uses.
_PADDLE_MARKERS = re.compile(
    rb'"(ctm|pri|pro)_[0-9a-z]{26}"|"(current_billing_period|billing_cycle|pagination)"\s*:'
)


def looks_like_paddle(head: bytes) -> bool:
    return looks_like_json(head) and _PADDLE_MARKERS.search(head) is not None


class PaddleJsonSource(BillingSource):
    kind = "paddle-json"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return looks_like_paddle(head)

    def read(self) -> BillingData:
        name = display_name(self.location)
        found = load_json_records(self.location, self.options.encoding, EXPECTED)
        emails = _customer_emails(found)
        skips: list[Skip] = [
            skip(name, where, reason, customer_id=customer)
            for where, reason, customer in found.skips
        ]
        subs: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        unknown_discounts = 0
        for where, record in iter_objects(found):
            if record is None:
                skips.append(skip(name, where, "not a JSON object"))
                continue
            if _is_customer(record):  # a customer saved alongside: read for its email
                continue
            try:
                sub, sub_items, discount_known = parse_paddle_subscription(
                    record, f"{name}:{where}", emails
                )
            except RecordError as error:
                ident = record.get("id")
                label = f"{where} ({ident})" if isinstance(ident, str) and ident else where
                customer = object_id(record.get("customer_id")) or object_id(record.get("customer"))
                skips.append(skip(name, label, error.reason, error.field, customer))
                continue
            subs.append(sub)
            items.extend(sub_items)
            unknown_discounts += not discount_known
        notes = []
        if subs and not emails and all(sub["customer_email"] is None for sub in subs):
            notes.append(
                f"{name}: Paddle subscriptions carry no customer emails, so customer_email "
                'is empty; save the GET /customers result in the file as a "customers" array '
                "to fill it"
            )
        if unknown_discounts:
            notes.append(
                f"{name}: {unknown_discounts} subscription(s) have a discount given only by id; "
                "its amount is unknown (left empty)"
            )
        return BillingData(
            subscriptions=subscriptions_table(subs),
            items=items_table(items),
            skips=tuple(skips),
            description=describe(self.kind, name, len(subs), len(skips)),
            notes=tuple(notes),
        )


def _is_customer(record: dict[str, Any]) -> bool:
    ident = record.get("id")
    return isinstance(ident, str) and ident.startswith("ctm_")


def _customer_emails(found: JsonRecords) -> dict[str, str]:
    """Customer id -> email from ``customers`` arrays next to the data, or customer records."""
    candidates: list[object] = [record for _, record in found.records]
    for container in found.containers:
        customers = container.get("customers")
        candidates += customers if isinstance(customers, list) else []
    emails: dict[str, str] = {}
    for customer in candidates:
        if isinstance(customer, dict) and _is_customer(customer):
            email = customer.get("email")
            if isinstance(email, str) and email.strip():
                emails[customer["id"]] = email.strip()
    return emails


def parse_paddle_subscription(
    record: dict[str, Any], source_ref: str, emails: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """One subscription row, its item rows, and whether its discount (if any) is known."""
    sub_id = text_field(record, "id")
    if sub_id is None:
        raise RecordError("missing subscription id", "id")
    customer = as_object(record.get("customer")) or {}
    customer_id = text_field(record, "customer_id") or object_id(customer)
    email = text_field(customer, "email", "customer.email")
    if email is None and customer_id is not None:
        email = emails.get(customer_id)
    currency = lower(text_field(record, "currency_code"))
    status = lower(text_field(record, "status"))
    period = as_object(record.get("current_billing_period")) or {}
    change = as_object(record.get("scheduled_change")) or {}
    action = lower(text_field(change, "action", "scheduled_change.action"))
    effective = timestamp_field(change, "effective_at", "scheduled_change.effective_at")
    canceled_at = timestamp_field(record, "canceled_at")
    items, trial_ends = [], []
    raw_items = record.get("items") or []
    if not isinstance(raw_items, list):
        raise RecordError("items is not an array", "items")
    for index, raw in enumerate(raw_items):
        label = f"items[{index}]"
        item = as_object(raw)
        if item is None:
            raise RecordError("item is not an object", label)
        items.append(_item(sub_id, item, label, currency))
        trial = as_object(item.get("trial_dates")) or {}
        trial_ends.append(timestamp_field(trial, "ends_at", f"{label}.trial_dates.ends_at"))
    quantity = sum(item["quantity"] for item in items)
    percent, amount, known = _discount(record, currency, quantity)
    row = {
        "provider": "paddle",
        "subscription_id": sub_id,
        "customer_id": customer_id,
        "customer_email": email,
        "status": status,
        "cancel_at_period_end": action == "cancel",
        "cancel_at": effective if action in ("cancel", "pause") else None,
        "current_period_start": timestamp_field(
            period, "starts_at", "current_billing_period.starts_at"
        ),
        "current_period_end": timestamp_field(period, "ends_at", "current_billing_period.ends_at"),
        "trial_end": max((end for end in trial_ends if end is not None), default=None),
        "canceled_at": canceled_at,
        "ended_at": canceled_at if status == "canceled" else None,
        "created": timestamp_field(record, "created_at"),
        "discount_percent_off": percent,
        "discount_amount_off_minor": amount,
        "source_ref": source_ref,
    }
    # Checked for their shape only: a broken value here means a broken record.
    for key in ("started_at", "first_billed_at", "paused_at"):
        timestamp_field(record, key)
    return row, items, known


def _item(sub_id: str, item: dict[str, Any], label: str, currency: str | None) -> dict[str, Any]:
    price = as_object(item.get("price")) or {}
    unit = as_object(price.get("unit_price")) or {}
    cycle = as_object(price.get("billing_cycle")) or {}
    quantity = int_field(item.get("quantity"), f"{label}.quantity", QUANTITY)
    product = price.get("product_id") or item.get("product")
    return {
        "subscription_id": sub_id,
        "price_id": text_field(price, "id", f"{label}.price.id")
        or text_field(item, "price_id", f"{label}.price_id"),
        "lookup_key": None,
        "product_id": object_id(product),
        "plan_name": text_field(price, "name", f"{label}.price.name"),
        "unit_amount_minor": int_field(
            unit.get("amount"), f"{label}.price.unit_price.amount", UNIT_AMOUNT, text_ok=True
        ),
        "currency": lower(text_field(unit, "currency_code", f"{label}.price.unit_price"))
        or currency,
        "quantity": 1 if quantity is None else quantity,
        "interval": lower(text_field(cycle, "interval", f"{label}.price.billing_cycle.interval")),
        "interval_count": int_field(
            cycle.get("frequency"),
            f"{label}.price.billing_cycle.frequency",
            INTERVAL_COUNT,
            text_ok=True,
        )
        or 1,
    }


def _discount(
    record: dict[str, Any], currency: str | None, quantity: int
) -> tuple[float | None, int | None, bool]:
    """(percent off, amount off in minor units, known) from an embedded ``discount``.

    A subscription's discount normally holds only ``id``/``starts_at``/``ends_at``;
    ``type`` and ``amount`` are there only when the discount entity was merged in.
    """
    discount = as_object(record.get("discount"))
    if discount is None:
        return None, None, True
    kind = lower(text_field(discount, "type", "discount.type"))
    raw = discount.get("amount")
    if kind is None or raw is None:
        return None, None, False
    if kind == "percentage":
        try:
            percent = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise RecordError(
                f"percentage {shown_value(raw)} is not a number", "discount.amount"
            ) from None
        if not PERCENT_OFF.holds(percent):
            raise RecordError(PERCENT_OFF.problem(raw), "discount.amount")
        return percent, None, True
    amount = int_field(raw, "discount.amount", AMOUNT_OFF, text_ok=True)
    code = lower(text_field(discount, "currency_code", "discount.currency_code"))
    if amount is None or (code is not None and currency is not None and code != currency):
        return None, None, False
    if kind == "flat_per_seat":
        if not AMOUNT_OFF.holds(amount * quantity):
            raise RecordError(AMOUNT_OFF.problem(amount * quantity), "discount.amount")
        return None, amount * quantity, True
    if kind == "flat":
        return None, amount, True
    return None, None, False
