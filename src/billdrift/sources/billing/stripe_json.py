"""Stripe subscriptions saved as JSON: an API list object, an array, or JSON Lines.

This is what ``stripe subscriptions list --status all`` or a script paging
``GET /v1/subscriptions`` produces. Payloads differ by API version, so both
layouts are read:

* periods: since API 2025-03-31 ("basil") ``current_period_start/end`` live on
  each subscription item; older versions put them on the subscription. The
  subscription-level pair wins when present. Otherwise the earliest item start
  and the latest item end are used, because access is owed until the last
  paid-for item runs out.
* prices: ``items.data[].price``, or the legacy ``plan`` object when ``price``
  is absent.
* discounts: the old single ``discount`` or the newer ``discounts[]`` (a
  discount object with ``coupon`` or ``source.coupon``). Several percent-off
  coupons compound; amount-off coupons add up (only those in the
  subscription's currency). Discounts given only as ids are unknown (null) and
  reported in a note rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billdrift.core.bounds import AMOUNT_OFF, INTERVAL_COUNT, PERCENT_OFF, QUANTITY, UNIT_AMOUNT
from billdrift.core.model import BillingData, Skip
from billdrift.sources.billing.common import (
    RecordError,
    StripeModes,
    as_object,
    bool_field,
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
from billdrift.sources.billing.paddle_json import looks_like_paddle

EXPECTED = (
    'Stripe subscriptions as JSON: a list object {"object": "list", "data": [...]}, '
    "an array of subscription objects, or JSON Lines"
)

_STRIPE_MARKERS = re.compile(
    rb'"object"\s*:\s*"(subscription|list)"|"id"\s*:\s*"sub_|"customer"\s*:\s*"cus_'
)


@dataclass
class _Discount:
    percent_off: float | None = None
    amount_off: int | None = None
    unexpanded: bool = False  # some discount or coupon was only an id
    foreign: bool = False  # an amount-off coupon in another currency was left out


class StripeJsonSource(BillingSource):
    kind = "stripe-json"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return (
            looks_like_json(head)
            and not looks_like_paddle(head)
            and _STRIPE_MARKERS.search(head) is not None
        )

    def read(self) -> BillingData:
        name = display_name(self.location)
        found = load_json_records(self.location, self.options.encoding, EXPECTED)
        skips: list[Skip] = [
            skip(name, where, reason, customer_id=customer)
            for where, reason, customer in found.skips
        ]
        subs: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        unexpanded = foreign = truncated = 0
        modes = StripeModes()
        for where, record in iter_objects(found):
            if record is None:
                skips.append(skip(name, where, "not a JSON object"))
                continue
            try:
                sub, sub_items, discount, more = parse_subscription(record, f"{name}:{where}")
            except RecordError as error:
                label = _label(where, record)
                customer = object_id(record.get("customer"))
                skips.append(skip(name, label, error.reason, error.field, customer))
                continue
            subs.append(sub)
            items.extend(sub_items)
            modes.count(record)
            unexpanded += discount.unexpanded
            foreign += discount.foreign
            truncated += more
        notes = []
        if unexpanded:
            notes.append(
                f"{name}: {unexpanded} subscription(s) list discounts only by id, so their "
                "discount is unknown (left empty); export with expand[]=data.discounts to "
                "include percent_off / amount_off"
            )
        if foreign:
            notes.append(
                f"{name}: {foreign} subscription(s) carry an amount-off coupon in another "
                "currency than the subscription; it was left out of discount_amount_off_minor"
            )
        if found.containers and found.containers[-1].get("has_more") is True:
            notes.append(
                f"Incomplete export? {name} is one page of a longer list (has_more is true): "
                f"only {len(subs)} subscription(s) were saved (the Stripe CLI lists 10 "
                "unless given a limit, and never pages); save every page with "
                "`stripe get /v1/subscriptions -d status=all -d limit=100 -e data.customer` "
                "repeated with `-d starting_after=<last id>` while has_more is true, or let "
                "billdrift walk the API: `billdrift check --billing stripe`"
            )
        if truncated:
            notes.append(
                f"{name}: {truncated} subscription(s) have more items than the embedded list "
                "holds (items.has_more); only the embedded items were read"
            )
        return BillingData(
            subscriptions=subscriptions_table(subs),
            items=items_table(items),
            skips=tuple(skips),
            description=describe(self.kind, name, len(subs), len(skips), modes.mode),
            notes=tuple(notes + modes.notes(name)),
        )


def _label(where: str, record: dict[str, Any]) -> str:
    ident = record.get("id")
    return f"{where} ({ident})" if isinstance(ident, str) and ident else where


def parse_subscription(
    record: dict[str, Any], source_ref: str
) -> tuple[dict[str, Any], list[dict[str, Any]], _Discount, bool]:
    """One subscription row, its item rows, its discount and whether items were cut off."""
    kind = record.get("object")
    if kind is not None and kind != "subscription":
        raise RecordError(f"object is {kind!r}, expected 'subscription'", "object")
    sub_id = text_field(record, "id")
    if sub_id is None:
        raise RecordError("missing subscription id", "id")
    customer = record.get("customer")
    email = text_field(as_object(customer) or {}, "email", "customer.email")
    item_list = record.get("items")
    raw_items = item_list.get("data") if isinstance(item_list, dict) else item_list
    if raw_items is None:
        raw_items = []
    if not isinstance(raw_items, list):
        raise RecordError("items.data is not an array", "items")
    items, starts, ends = [], [], []
    for index, raw in enumerate(raw_items):
        label = f"items.data[{index}]"
        item = as_object(raw)
        if item is None:
            raise RecordError("item is not an object", label)
        items.append(_item(sub_id, item, label))
        starts.append(
            timestamp_field(item, "current_period_start", f"{label}.current_period_start")
        )
        ends.append(timestamp_field(item, "current_period_end", f"{label}.current_period_end"))
    present_starts = [value for value in starts if value is not None]
    present_ends = [value for value in ends if value is not None]
    start = timestamp_field(record, "current_period_start") or min(present_starts, default=None)
    end = timestamp_field(record, "current_period_end") or max(present_ends, default=None)
    currency = lower(text_field(record, "currency")) or next(
        (item["currency"] for item in items if item["currency"]), None
    )
    discount = _discount(record, currency)
    row = {
        "provider": "stripe",
        "subscription_id": sub_id,
        "customer_id": object_id(customer),
        "customer_email": email,
        "status": lower(text_field(record, "status")),
        "cancel_at_period_end": bool_field(record, "cancel_at_period_end"),
        "cancel_at": timestamp_field(record, "cancel_at"),
        "current_period_start": start,
        "current_period_end": end,
        "trial_end": timestamp_field(record, "trial_end"),
        "canceled_at": timestamp_field(record, "canceled_at"),
        "ended_at": timestamp_field(record, "ended_at"),
        "created": timestamp_field(record, "created"),
        "discount_percent_off": discount.percent_off,
        "discount_amount_off_minor": discount.amount_off,
        "source_ref": source_ref,
    }
    more = isinstance(item_list, dict) and item_list.get("has_more") is True
    return row, items, discount, more


def _item(sub_id: str, item: dict[str, Any], label: str) -> dict[str, Any]:
    """An item row from ``price`` or, on old payloads, the legacy ``plan``."""
    price = item.get("price")
    legacy = price is None
    if legacy:
        price = item.get("plan")
    prefix = f"{label}.{'plan' if legacy else 'price'}"
    details = as_object(price) or {}
    recurring = as_object(details.get("recurring"))
    counted = prefix if recurring is None else f"{prefix}.recurring"
    recurring = recurring or details
    amount_key = "amount" if legacy else "unit_amount"
    quantity = int_field(item.get("quantity"), f"{label}.quantity", QUANTITY)
    return {
        "subscription_id": sub_id,
        "price_id": object_id(price),
        "lookup_key": text_field(details, "lookup_key", f"{prefix}.lookup_key"),
        "product_id": object_id(details.get("product")),
        "plan_name": text_field(details, "nickname", f"{prefix}.nickname"),
        "unit_amount_minor": int_field(
            details.get(amount_key), f"{prefix}.{amount_key}", UNIT_AMOUNT
        ),
        "currency": lower(text_field(details, "currency", f"{prefix}.currency")),
        "quantity": 1 if quantity is None else quantity,
        "interval": lower(text_field(recurring, "interval", f"{counted}.interval")),
        "interval_count": int_field(
            recurring.get("interval_count"), f"{counted}.interval_count", INTERVAL_COUNT
        )
        or 1,
    }


def _discount(record: dict[str, Any], currency: str | None) -> _Discount:
    """Combine every coupon on the subscription into one percent and one amount off.

    The legacy ``discount`` usually repeats one of ``discounts`` (expanded or as
    a bare id), so discounts are counted once per id.
    """
    entries: list[object] = [record.get("discount"), *_as_list(record.get("discounts"))]
    expanded = [entry for entry in entries if isinstance(entry, dict)]
    seen = {entry["id"] for entry in expanded if isinstance(entry.get("id"), str)}
    result = _Discount()
    for entry in entries:
        if entry is None or isinstance(entry, dict):
            continue
        if not isinstance(entry, str):
            raise RecordError("discount is neither an id nor an object", "discounts")
        result.unexpanded |= entry not in seen
    counted: set[str] = set()
    for discount in expanded:
        ident = discount.get("id")
        if isinstance(ident, str):
            if ident in counted:
                continue
            counted.add(ident)
        source = as_object(discount.get("source")) or {}
        coupon = discount.get("coupon") or source.get("coupon")
        if isinstance(coupon, str):
            result.unexpanded = True
        elif isinstance(coupon, dict):
            _apply_coupon(result, coupon, currency)
    if result.unexpanded:  # a partial sum would understate the discount: unknown instead
        result.percent_off = result.amount_off = None
    return result


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _apply_coupon(result: _Discount, coupon: dict[str, Any], currency: str | None) -> None:
    percent = coupon.get("percent_off")
    if percent is not None:
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            raise RecordError(
                f"percent_off is {shown_value(percent)}, not a number", "coupon.percent_off"
            )
        if not PERCENT_OFF.holds(percent):
            raise RecordError(PERCENT_OFF.problem(percent), "coupon.percent_off")
        kept = 1 - (result.percent_off or 0) / 100
        result.percent_off = round(100 * (1 - kept * (1 - percent / 100)), 6)
    amount = int_field(coupon.get("amount_off"), "coupon.amount_off", AMOUNT_OFF)
    if amount is not None:
        coupon_currency = lower(text_field(coupon, "currency", "coupon.currency"))
        if coupon_currency is not None and currency is not None and coupon_currency != currency:
            result.foreign = True
            return
        result.amount_off = (result.amount_off or 0) + amount
