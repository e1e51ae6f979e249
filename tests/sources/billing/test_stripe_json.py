"""StripeJsonSource: list objects, arrays, JSON Lines, both API period layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billdrift.core.model import Skip
from billdrift.errors import SourceError
from billdrift.sources.billing.stripe_json import StripeJsonSource

from .helpers import FIXTURES, item_row, read, skips, sub_row, utc, write

REF = "stripe_subscriptions.json:"


def test_list_object_reads_every_subscription_as_canonical_rows() -> None:
    data = read(StripeJsonSource, FIXTURES / "stripe_subscriptions.json")

    assert data.subscriptions.to_pylist() == [
        # API 2025-03-31+: periods on the item; expanded customer with email; 20 % coupon.
        sub_row(
            "sub_1PbasilActive",
            REF + "data[0]",
            customer_id="cus_Alice",
            customer_email="alice@example.com",
            status="active",
            cancel_at_period_end=False,
            current_period_start=utc("2024-05-01 00:00"),
            current_period_end=utc("2024-06-01 00:00"),
            created=utc("2024-01-15 09:30"),
            discount_percent_off=20.0,
        ),
        # Older API: periods on the subscription; cancelled at period end, still active.
        sub_row(
            "sub_1OldCancelling",
            REF + "data[1]",
            customer_id="cus_Bob",
            status="active",
            cancel_at_period_end=True,
            cancel_at=utc("2025-06-01 00:00"),
            current_period_start=utc("2024-06-01 00:00"),
            current_period_end=utc("2025-06-01 00:00"),
            canceled_at=utc("2024-05-05 12:00"),
            created=utc("2023-06-01 00:00"),
        ),
        # Legacy `plan` item and the old single `discount` with amount_off in cents.
        sub_row(
            "sub_1LegacyCanceled",
            REF + "data[2]",
            customer_id="cus_Carol",
            status="canceled",
            cancel_at_period_end=False,
            current_period_start=utc("2024-04-01 00:00"),
            current_period_end=utc("2024-05-01 00:00"),
            canceled_at=utc("2024-04-20 10:00"),
            ended_at=utc("2024-04-20 10:00"),
            created=utc("2024-03-01 00:00"),
            discount_amount_off_minor=500,
        ),
        sub_row(
            "sub_1MeteredPastDue",
            REF + "data[3]",
            customer_id="cus_Dave",
            status="past_due",
            cancel_at_period_end=False,
            current_period_start=utc("2024-05-15 00:00"),
            current_period_end=utc("2024-06-15 00:00"),
            created=utc("2024-04-10 08:00"),
        ),
        # Two items with different periods: earliest start, latest end. Status stripped and
        # lower-cased; the discount is only an id, so it stays unknown.
        sub_row(
            "sub_1TrialJpy",
            REF + "data[4]",
            customer_id="cus_Erin",
            status="trialing",
            cancel_at_period_end=False,
            current_period_start=utc("2024-05-05 12:00"),
            current_period_end=utc("2024-07-01 00:00"),
            trial_end=utc("2024-05-20 00:00"),
            created=utc("2024-05-05 12:00"),
        ),
    ]
    assert data.items.to_pylist() == [
        item_row(
            "sub_1PbasilActive",
            price_id="price_1ProMonthly",
            lookup_key="pro_monthly",
            product_id="prod_Pro",
            plan_name="Pro monthly",
            unit_amount_minor=2900,
            currency="usd",
            quantity=3,
            interval="month",
        ),
        item_row(
            "sub_1OldCancelling",
            price_id="price_1TeamBiennial",
            product_id="prod_Team",
            unit_amount_minor=199000,
            currency="usd",
            interval="year",
            interval_count=2,
        ),
        item_row(
            "sub_1LegacyCanceled",
            price_id="plan_Starter",
            product_id="prod_Starter",
            plan_name="Starter",
            unit_amount_minor=900,
            currency="usd",
            interval="month",
        ),
        # Tiered/metered: no unit amount (null, not 0); quantity absent -> 1.
        item_row(
            "sub_1MeteredPastDue",
            price_id="price_1ApiCalls",
            lookup_key="api_calls",
            product_id="prod_Api",
            currency="usd",
            interval="month",
        ),
        # Zero-decimal currency: 9800 is ¥9,800; currency lower-cased.
        item_row(
            "sub_1TrialJpy",
            price_id="price_1JpSeat",
            product_id="prod_Seat",
            unit_amount_minor=9800,
            currency="jpy",
            quantity=2,
            interval="month",
        ),
        item_row("sub_1TrialJpy", price_id="price_1JpAddon"),  # price given only as an id
    ]
    assert data.skips == ()
    assert data.description == "stripe-json stripe_subscriptions.json: 5 subscriptions"
    assert data.notes == (
        "stripe_subscriptions.json: 1 subscription(s) list discounts only by id, so their "
        "discount is unknown (left empty); export with expand[]=data.discounts to include "
        "percent_off / amount_off",
        "stripe_subscriptions.json: 1 subscription(s) have more items than the embedded list "
        "holds (items.has_more); only the embedded items were read",
    )


def test_json_lines_of_objects_and_of_list_pages() -> None:
    data = read(StripeJsonSource, FIXTURES / "stripe_subscriptions.jsonl")

    rows = data.subscriptions.select(["subscription_id", "status", "source_ref"]).to_pylist()
    assert rows == [
        {
            "subscription_id": "sub_1JsonlA",
            "status": "active",
            "source_ref": "stripe_subscriptions.jsonl:line 1",
        },
        {
            "subscription_id": "sub_1JsonlB",
            "status": "canceled",
            "source_ref": "stripe_subscriptions.jsonl:line 3 data[0]",
        },
        {
            "subscription_id": "sub_1JsonlC",
            "status": "unpaid",
            "source_ref": "stripe_subscriptions.jsonl:line 3 data[1]",
        },
        {
            "subscription_id": "sub_1JsonlD",
            "status": "active",
            "source_ref": "stripe_subscriptions.jsonl:line 4",
        },
    ]
    assert data.items.to_pylist() == [
        item_row(
            "sub_1JsonlA",
            price_id="price_1ProMonthly",
            unit_amount_minor=2900,
            currency="usd",
            interval="month",
        )
    ]
    first = data.subscriptions.slice(0, 1).to_pylist()[0]
    assert first["current_period_end"] == utc("2024-06-01 00:00")


def test_plain_array_of_subscriptions(tmp_path: Path) -> None:
    records = [
        {
            "id": "sub_A",
            "object": "subscription",
            "status": "incomplete_expired",
            "customer": "cus_A",
            "created": "2024-05-01T12:00:00Z",
        },
    ]
    data = read(StripeJsonSource, write(tmp_path, "subs.json", json.dumps(records)))

    assert data.subscriptions.to_pylist() == [
        sub_row(
            "sub_A",
            "subs.json:[0]",
            customer_id="cus_A",
            status="incomplete_expired",
            created=utc("2024-05-01 12:00"),
        )
    ]
    assert data.items.num_rows == 0


def test_discounts_compound_and_amount_offs_add_up(tmp_path: Path) -> None:
    coupon_a = {"percent_off": 50}
    coupon_b = {"percent_off": 10}
    coupon_c = {"amount_off": 300, "currency": "usd"}
    coupon_eur = {"amount_off": 100, "currency": "eur"}
    record = {
        "id": "sub_D",
        "customer": "cus_D",
        "status": "active",
        "currency": "usd",
        "discount": {"id": "di_a", "coupon": coupon_a},  # legacy copy of discounts[0]
        "discounts": [
            {"id": "di_a", "coupon": coupon_a},
            {"id": "di_b", "source": {"type": "coupon", "coupon": coupon_b}},
            {"id": "di_c", "source": {"type": "coupon", "coupon": coupon_c}},
            {"id": "di_d", "source": {"type": "coupon", "coupon": coupon_eur}},
        ],
    }
    data = read(StripeJsonSource, write(tmp_path, "subs.json", json.dumps([record])))

    row = data.subscriptions.to_pylist()[0]
    assert row["discount_percent_off"] == pytest.approx(55.0)  # 1 - 0.5 * 0.9
    assert row["discount_amount_off_minor"] == 300
    assert data.notes == (
        "subs.json: 1 subscription(s) carry an amount-off coupon in another currency than "
        "the subscription; it was left out of discount_amount_off_minor",
    )


def test_legacy_discount_repeated_by_id_in_discounts_is_counted_once(tmp_path: Path) -> None:
    legacy = {"id": "di_1", "coupon": {"id": "HALF", "percent_off": 50}}
    record = {"id": "sub_L", "customer": "cus_L", "discount": legacy, "discounts": ["di_1"]}
    data = read(StripeJsonSource, write(tmp_path, "subs.json", json.dumps([record])))

    assert data.subscriptions.column("discount_percent_off").to_pylist() == [50.0]
    assert data.notes == ()


def test_bad_records_become_skips_and_the_rest_is_read(tmp_path: Path) -> None:
    good = {"id": "sub_ok", "customer": "cus_ok", "status": "active"}
    document = {
        "object": "list",
        "data": [
            good,
            "sub_just_a_string",
            {"customer": "cus_noid", "status": "active"},
            {"id": "sub_baddate", "customer": "cus_x", "status": "active", "created": "soon"},
            {
                "id": "sub_badamount",
                "customer": "cus_y",
                "status": "active",
                "items": {"data": [{"price": {"id": "price_x", "unit_amount": 29.5}}]},
            },
            {
                "id": "sub_baditem",
                "customer": "cus_z",
                "status": "active",
                "items": {"data": [{"current_period_end": "tomorrow"}]},
            },
            {"id": "cus_oops", "object": "customer"},
        ],
    }
    data = read(StripeJsonSource, write(tmp_path, "subs.json", json.dumps(document)))

    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_ok"]
    assert skips(data) == [
        ("data[1]", None),
        ("data[2]", "id"),
        ("data[3] (sub_baddate)", "created"),
        ("data[4] (sub_badamount)", "items.data[0].price.unit_amount"),
        ("data[5] (sub_baditem)", "items.data[0].current_period_end"),
        ("data[6] (cus_oops)", "object"),
    ]
    assert data.skips[0] == Skip("billing", "subs.json", "data[1]", "not a JSON object")
    assert [skip.customer_id for skip in data.skips] == [
        None,
        "cus_noid",
        "cus_x",
        "cus_y",
        "cus_z",
        None,
    ]
    assert data.skips[2].reason == "expected an ISO 8601 timestamp, got 'soon'"
    assert data.skips[3].reason == "expected a whole number (minor units), got 29.5"
    assert data.description == "stripe-json subs.json: 1 subscription, 6 skipped"


def test_a_cut_off_json_lines_file_skips_only_the_broken_line(tmp_path: Path) -> None:
    text = (
        '{"id": "sub_1", "customer": "cus_1", "status": "active"}\n'
        '{"id": "sub_2", "customer": "cus_2", "status": "active"}\n'
        '{"id": "sub_3", "customer": "cus_3", "sta'
    )
    data = read(StripeJsonSource, write(tmp_path, "subs.jsonl", text))

    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_1", "sub_2"]
    assert skips(data) == [("line 3", None)]
    assert data.skips[0].reason.startswith("not valid JSON (Unterminated string")
    assert data.skips[0].customer_id == "cus_3"  # spotted in the broken text


def test_empty_data_reads_as_zero_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "subs.json", '{"object": "list", "data": [], "has_more": false}')
    data = read(StripeJsonSource, path)

    assert data.subscriptions.num_rows == 0
    assert data.items.num_rows == 0
    assert data.description == "stripe-json subs.json: 0 subscriptions"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "object": "list",\n  "data": [\n    {"id": "sub_1",', "is not valid JSON (line 4"),
        ('{"object": "list", "data": [{"id": "sub_1",', "is not valid JSON (line 1 column"),
        ("  \n", "is empty; expected Stripe subscriptions as JSON"),
        ('{"object": "list", "data": {"id": "sub_1"}}', "'data' is dict, not an array"),
        ('{"users": [1, 2]}', "a JSON object without a 'data' array (keys: users)"),
        ("42", "holds a JSON int; expected Stripe subscriptions as JSON"),
    ],
)
def test_unusable_files_are_source_errors_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = write(tmp_path, "subs.json", content)
    with pytest.raises(SourceError) as error:
        read(StripeJsonSource, path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_text_that_is_not_utf8_names_the_encoding_setting(tmp_path: Path) -> None:
    text = '[{"id": "sub_1", "customer": {"id": "cus_1", "email": "zoë@example.com"}}]'
    path = write(tmp_path, "subs.json", text, encoding="latin-1")

    with pytest.raises(SourceError, match=r'billing\.encoding = "latin-1"') as error:
        read(StripeJsonSource, path)
    assert "line 1" in str(error.value)

    data = read(StripeJsonSource, path, encoding="latin-1")
    assert data.subscriptions.column("customer_email").to_pylist() == ["zoë@example.com"]


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "subs.json", b'\xef\xbb\xbf[{"id": "sub_1", "customer": "cus_1"}]')
    data = read(StripeJsonSource, path)
    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_1"]
