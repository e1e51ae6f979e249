"""PaddleJsonSource: GET /subscriptions pages, scheduled changes, customer emails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from billdrift.errors import SourceError
from billdrift.sources.billing.paddle_json import PaddleJsonSource

from .helpers import FIXTURES, item_row, read, skips, sub_row, utc, write

REF = "paddle_subscriptions.json:"
RENEWAL = datetime(2024, 6, 12, 10, 18, 47, 635628, tzinfo=UTC)


def paddle_row(subscription_id: str, source_ref: str, **values: Any) -> dict[str, Any]:
    return sub_row(subscription_id, source_ref, provider="paddle", **values)


def test_response_page_reads_every_subscription_as_canonical_rows() -> None:
    data = read(PaddleJsonSource, FIXTURES / "paddle_subscriptions.json")

    assert data.subscriptions.to_pylist() == [
        # Scheduled cancel: still active, access owed until effective_at. Email from the
        # "customers" array saved alongside "data".
        paddle_row(
            "sub_01hv8x29kz0t586xy6zn1a62ny",
            REF + "data[0]",
            customer_id="ctm_01hv8wt8nffez4p2t6typn4a5j",
            customer_email="ops@acme.example",
            status="active",
            cancel_at_period_end=True,
            cancel_at=RENEWAL,
            current_period_start=datetime(2024, 5, 12, 10, 18, 47, 635628, tzinfo=UTC),
            current_period_end=RENEWAL,
            created=datetime(2024, 4, 12, 10, 18, 47, 635628, tzinfo=UTC),
            discount_percent_off=10.0,
        ),
        # Scheduled pause: access ends at effective_at too, but it is not a cancel.
        paddle_row(
            "sub_01hwpausing0000000000000001",
            REF + "data[1]",
            customer_id="ctm_01hwpausingcustomer0000001",
            status="active",
            cancel_at_period_end=False,
            cancel_at=utc("2025-05-01 00:00"),
            current_period_start=utc("2024-05-01 00:00"),
            current_period_end=utc("2025-05-01 00:00"),
            created=utc("2024-01-01 00:00"),
        ),
        # Canceled: canceled_at is when it stopped, hence also ended_at.
        paddle_row(
            "sub_01hxcanceled000000000000001",
            REF + "data[2]",
            customer_id="ctm_01hxcanceledcustomer000001",
            customer_email="gone@example.net",
            status="canceled",
            cancel_at_period_end=False,
            canceled_at=utc("2024-04-02 09:30"),
            ended_at=utc("2024-04-02 09:30"),
            created=utc("2023-11-02 08:00"),
        ),
        # Email from an embedded customer object; trial end from the item's trial_dates.
        paddle_row(
            "sub_01hytrial0000000000000001",
            REF + "data[3]",
            customer_id="ctm_01hytrialcustomer000000001",
            customer_email="trial@example.org",
            status="trialing",
            cancel_at_period_end=False,
            current_period_start=utc("2024-05-10 00:00"),
            current_period_end=utc("2024-05-24 00:00"),
            trial_end=utc("2024-05-24 00:00"),
            created=utc("2024-05-10 00:00"),
        ),
    ]
    assert data.items.to_pylist() == [
        item_row(
            "sub_01hv8x29kz0t586xy6zn1a62ny",
            price_id="pri_01gsz8x8sawmvhz1pv30nge1ke",
            product_id="pro_01gsz4t5hdjse780zja8vvr7jg",
            plan_name="Team seats (monthly)",
            unit_amount_minor=1200,
            currency="usd",
            quantity=5,
            interval="month",
        ),
        item_row(
            "sub_01hwpausing0000000000000001",
            price_id="pri_01annualpro0000000000000",
            product_id="pro_01annualpro0000000000000",
            unit_amount_minor=49000,
            currency="eur",
            interval="year",
        ),
        item_row(
            "sub_01hxcanceled000000000000001",
            price_id="pri_01gsz8x8sawmvhz1pv30nge1ke",
            product_id="pro_01gsz4t5hdjse780zja8vvr7jg",
            unit_amount_minor=1200,
            currency="usd",
            interval="month",
        ),
        item_row(
            "sub_01hytrial0000000000000001",
            price_id="pri_01quarterly000000000000000",
            product_id="pro_01quarterly000000000000000",
            unit_amount_minor=7500,
            currency="gbp",
            interval="month",
            interval_count=3,
        ),
    ]
    assert data.skips == ()
    assert data.notes == ()
    assert data.description == "paddle-json paddle_subscriptions.json: 4 subscriptions"


def _sub(ident: str, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"id": ident, "status": "active", "customer_id": "ctm_01" + ident}
    record.update(extra)
    return record


def test_json_lines_of_pages_and_a_plain_array(tmp_path: Path) -> None:
    page = {"data": [_sub("sub_a"), _sub("sub_b")], "meta": {"pagination": {"has_more": True}}}
    text = json.dumps(page) + "\n" + json.dumps(_sub("sub_c", status="Past_Due")) + "\n"
    data = read(PaddleJsonSource, write(tmp_path, "subs.jsonl", text))

    rows = data.subscriptions.select(["subscription_id", "status", "source_ref"]).to_pylist()
    assert rows == [
        {"subscription_id": "sub_a", "status": "active", "source_ref": "subs.jsonl:line 1 data[0]"},
        {"subscription_id": "sub_b", "status": "active", "source_ref": "subs.jsonl:line 1 data[1]"},
        {"subscription_id": "sub_c", "status": "past_due", "source_ref": "subs.jsonl:line 2"},
    ]
    # No emails anywhere: said once, so nobody wonders why email matching found nothing.
    assert data.notes == (
        "subs.jsonl: Paddle subscriptions carry no customer emails, so customer_email is "
        'empty; save the GET /customers result in the file as a "customers" array to fill it',
    )

    array = read(PaddleJsonSource, write(tmp_path, "subs.json", json.dumps([_sub("sub_d")])))
    assert array.subscriptions.column("source_ref").to_pylist() == ["subs.json:[0]"]


def test_customer_lines_in_json_lines_supply_emails(tmp_path: Path) -> None:
    customer = {"id": "ctm_01sub_a", "email": "ann@example.com", "name": "Ann"}
    text = json.dumps(_sub("sub_a")) + "\n" + json.dumps(customer) + "\n"
    data = read(PaddleJsonSource, write(tmp_path, "subs.jsonl", text))

    assert data.subscriptions.select(["subscription_id", "customer_email"]).to_pylist() == [
        {"subscription_id": "sub_a", "customer_email": "ann@example.com"}
    ]
    assert (data.skips, data.notes) == ((), ())


def test_bad_records_become_skips_and_the_rest_is_read(tmp_path: Path) -> None:
    item = {"quantity": 1, "price": {"id": "pri_1", "unit_price": {"amount": "12.00"}}}
    page = {
        "data": [
            _sub("sub_ok"),
            ["not", "an", "object"],
            {"status": "active", "customer_id": "ctm_x"},
            _sub("sub_date", current_billing_period={"starts_at": "yesterday", "ends_at": None}),
            _sub("sub_amount", items=[item]),
            _sub("sub_change", scheduled_change={"action": "cancel", "effective_at": "next week"}),
        ],
        "meta": {"pagination": {"has_more": False}},
    }
    data = read(PaddleJsonSource, write(tmp_path, "paddle.json", json.dumps(page)))

    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_ok"]
    assert skips(data) == [
        ("data[1]", None),
        ("data[2]", "id"),
        ("data[3] (sub_date)", "current_billing_period.starts_at"),
        ("data[4] (sub_amount)", "items[0].price.unit_price.amount"),
        ("data[5] (sub_change)", "scheduled_change.effective_at"),
    ]
    assert data.skips[3].reason == "expected a whole number (minor units), got '12.00'"
    assert [skip.customer_id for skip in data.skips] == [
        None,
        "ctm_x",
        "ctm_01sub_date",
        "ctm_01sub_amount",
        "ctm_01sub_change",
    ]


def test_flat_discounts_and_discounts_known_only_by_id(tmp_path: Path) -> None:
    item = {"quantity": 4, "price": {"id": "pri_1", "unit_price": {"amount": "1000"}}}
    records = [
        _sub(
            "sub_flat",
            currency_code="USD",
            items=[item],
            discount={"id": "dsc_1", "type": "flat", "amount": "500", "currency_code": "USD"},
        ),
        _sub(
            "sub_seat",
            currency_code="USD",
            items=[item],
            discount={"id": "dsc_2", "type": "flat_per_seat", "amount": "100"},
        ),
        _sub("sub_idonly", items=[item], discount={"id": "dsc_3", "starts_at": None}),
    ]
    data = read(PaddleJsonSource, write(tmp_path, "paddle.json", json.dumps(records)))

    assert data.subscriptions.column("discount_amount_off_minor").to_pylist() == [500, 400, None]
    assert data.notes[-1] == (
        "paddle.json: 1 subscription(s) have a discount given only by id; its amount is "
        "unknown (left empty)"
    )


def test_empty_page_is_zero_rows_and_broken_json_is_a_source_error(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.json", '{"data": [], "meta": {"pagination": {}}}')
    data = read(PaddleJsonSource, empty)
    assert (data.subscriptions.num_rows, data.items.num_rows) == (0, 0)
    assert data.description == "paddle-json empty.json: 0 subscriptions"

    broken = write(tmp_path, "broken.json", '{"data": [{"id": "sub_1", "customer_id": "ctm_')
    with pytest.raises(SourceError, match=r"broken\.json is not valid JSON") as error:
        read(PaddleJsonSource, broken)
    assert "expected Paddle Billing subscriptions as JSON" in str(error.value)
