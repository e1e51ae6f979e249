"""Numbers no real subscription carries (2**63 seats, 1e308 cents, a percent_off of NaN
or -Infinity, an interval count that overflows the yearly scaling) and JSON no parser
can hold (nested 1,000 levels, integers of thousands of digits) are unreadable fields
or files, named: never an internal error, never NaN in a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from billdrift.errors import SourceError
from billdrift.sources.billing.paddle_json import PaddleJsonSource
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from billdrift.sources.billing.stripe_json import StripeJsonSource

from .helpers import read, write

HUGE: list[Any] = [2**63, 2**64 + 1, 1e308, -(2**63) - 1, 10**400]


def stripe(item: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"id": "sub_n", "customer": "cus_n", "status": "active", **extra}
    if item is not None:
        record["items"] = {"data": [item]}
    return record


def stripe_skip(tmp_path: Path, record: dict[str, Any]) -> tuple[str, str | None, str]:
    data = read(StripeJsonSource, write(tmp_path, "subs.json", json.dumps([record])))
    assert data.subscriptions.num_rows == 0
    [skip] = data.skips
    assert skip.customer_id == "cus_n"
    return skip.location, skip.field, skip.reason


@pytest.mark.parametrize("value", [*HUGE, -1])
def test_stripe_quantities_out_of_bounds_are_skips(tmp_path: Path, value: Any) -> None:
    item = {"quantity": value, "price": {"id": "price_x", "unit_amount": 100}}
    location, field, reason = stripe_skip(tmp_path, stripe(item))
    assert (location, field) == ("[0] (sub_n)", "items.data[0].quantity")
    assert reason.startswith("expected a whole number from 0 to 10**9")


@pytest.mark.parametrize("value", HUGE)
def test_stripe_unit_amounts_out_of_bounds_are_skips(tmp_path: Path, value: Any) -> None:
    item = {"price": {"id": "price_x", "unit_amount": value}}
    assert stripe_skip(tmp_path, stripe(item))[1] == "items.data[0].price.unit_amount"


@pytest.mark.parametrize("value", [*HUGE, 0, -1, 10_001])
def test_stripe_interval_counts_out_of_bounds_are_skips(tmp_path: Path, value: Any) -> None:
    recurring = {"interval": "year", "interval_count": value}
    item = {"price": {"id": "price_x", "unit_amount": 100, "recurring": recurring}}
    field = stripe_skip(tmp_path, stripe(item))[1]
    assert field == "items.data[0].price.recurring.interval_count"


@pytest.mark.parametrize(
    "value", ["NaN", "Infinity", "-Infinity", "-1e308", "1e308", "-1", "100.5", "1e400"]
)
def test_stripe_percent_off_out_of_bounds_is_a_skip(tmp_path: Path, value: str) -> None:
    text = (
        '[{"id": "sub_n", "customer": "cus_n", "status": "active", "discounts": '
        f'[{{"id": "di_1", "coupon": {{"percent_off": {value}}}}}]}}]'
    )
    data = read(StripeJsonSource, write(tmp_path, "subs.json", text))
    assert [(s.location, s.field) for s in data.skips] == [("[0] (sub_n)", "coupon.percent_off")]


@pytest.mark.parametrize("value", [*HUGE, -5])
def test_stripe_amount_off_out_of_bounds_is_a_skip(tmp_path: Path, value: Any) -> None:
    record = stripe(discount={"id": "di_1", "coupon": {"amount_off": value}})
    assert stripe_skip(tmp_path, record)[1] == "coupon.amount_off"


def paddle(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "sub_p", "status": "active", "customer_id": "ctm_p", "items": [item], **extra}


def paddle_fields(tmp_path: Path, record: dict[str, Any]) -> list[str | None]:
    data = read(PaddleJsonSource, write(tmp_path, "p.json", json.dumps({"data": [record]})))
    assert data.subscriptions.num_rows == 0
    assert [skip.customer_id for skip in data.skips] == ["ctm_p"]
    return [skip.field for skip in data.skips]


@pytest.mark.parametrize("amount", ["9" * 30, "9" * 5000, "-" + "9" * 19, 2**63])
def test_paddle_amounts_out_of_bounds_are_skips(tmp_path: Path, amount: Any) -> None:
    item = {"quantity": 1, "price": {"unit_price": {"amount": amount, "currency_code": "USD"}}}
    assert paddle_fields(tmp_path, paddle(item)) == ["items[0].price.unit_price.amount"]


@pytest.mark.parametrize("frequency", ["99999999999999999999", 2**63, "0"])
def test_paddle_frequencies_out_of_bounds_are_skips(tmp_path: Path, frequency: Any) -> None:
    price = {"billing_cycle": {"interval": "year", "frequency": frequency}}
    field = "items[0].price.billing_cycle.frequency"
    assert paddle_fields(tmp_path, paddle({"quantity": 1, "price": price})) == [field]


@pytest.mark.parametrize(
    "discount",
    [
        {"type": "percentage", "amount": "nan"},
        {"type": "percentage", "amount": "-inf"},
        {"type": "percentage", "amount": "1e400"},
        {"type": "percentage", "amount": 10**400},
        {"type": "flat", "amount": "9" * 25},
        {"type": "flat_per_seat", "amount": str(10**12), "currency_code": "USD"},
    ],
)
def test_paddle_discounts_out_of_bounds_are_skips(tmp_path: Path, discount: dict[str, Any]) -> None:
    record = paddle({"quantity": 10**9, "price": {}}, currency_code="USD", discount=discount)
    assert paddle_fields(tmp_path, record) == ["discount.amount"]


HEADER = "id,Customer ID,Status,Amount,Currency,Interval,Interval Count,Quantity\n"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("29.00,usd,year,4611686018427387904,1", "Interval Count"),
        ("29.00,usd,quarterly,10001,1", "Interval Count"),
        ("29.00,usd,month,1,4611686018427387904", "Quantity"),
        ("1e308,usd,month,1,1", "Amount"),
        ("-1e13,usd,month,1,1", "Amount"),
        ("inf,usd,month,1,1", "Amount"),
    ],
)
def test_csv_numbers_out_of_bounds_are_skips(tmp_path: Path, row: str, field: str) -> None:
    path = write(tmp_path, "subs.csv", HEADER + f"sub_1,cus_1,active,{row}\n")
    data = read(StripeCsvSource, path)
    assert data.subscriptions.num_rows == 0
    assert [(s.location, s.field, s.customer_id) for s in data.skips] == [
        ("line 2", field, "cus_1")
    ]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"data": [' + nested(5000) + "]}", "nested too deeply"),
        ('[{"id": "sub_1", "customer": "cus_1", "created": ' + "9" * 5000 + "}]", "digits"),
    ],
)
def test_json_no_parser_can_hold_is_a_source_error_naming_the_file(
    tmp_path: Path, text: str, words: str
) -> None:
    with pytest.raises(SourceError, match=f"billing file .*subs.json .*{words}"):
        read(StripeJsonSource, write(tmp_path, "subs.json", text))


def test_a_json_lines_line_no_parser_can_hold_is_a_skip(tmp_path: Path) -> None:
    lines = [
        '{"id": "sub_1", "customer": "cus_1", "status": "active"}',
        '{"id": "sub_2", "customer": "cus_2", "x": ' + nested(5000) + "}",
        '{"id": "sub_3", "customer": "cus_3", "created": ' + "9" * 5000 + "}",
    ]
    data = read(StripeJsonSource, write(tmp_path, "subs.jsonl", "\n".join(lines)))
    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_1"]
    assert [(s.location, s.customer_id) for s in data.skips] == [
        ("line 2", "cus_2"),
        ("line 3", "cus_3"),
    ]
