"""Values that databases and date libraries read as dates but are none (``infinity``,
``epoch``, years 0 and 10000, offsets of +99:00) are unreadable fields in every billing
source: a skipped row naming its line or record and field, never a period end that
entitles forever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from billdrift.sources.billing.paddle_json import PaddleJsonSource
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from billdrift.sources.billing.stripe_json import StripeJsonSource

from .helpers import csv, read, write

NOT_DATES_AS_TEXT = [
    "infinity",
    "-infinity",
    "inf",
    "Infinity",
    "epoch",
    "0000-01-01",
    "-0001-01-01",
    "10000-01-01",
    "1969-12-31",
    "2026-12-01T00:00:00+99:00",
    "2026-12-01T00:00:00-19:00",
]


@pytest.mark.parametrize("text", NOT_DATES_AS_TEXT)
def test_csv_export_dates_that_are_no_dates_are_skips_naming_line_and_field(
    tmp_path: Path, text: str
) -> None:
    data = read(StripeCsvSource, csv(tmp_path, f"sub_1,cus_1,active,29.00,usd,{text},true\n"))

    assert data.subscriptions.num_rows == 0
    [skip] = data.skips
    assert (skip.source, skip.location, skip.field) == (
        "subs.csv",
        "line 2",
        "Current Period End (UTC)",
    )
    assert skip.reason.startswith(f"{text!r} is not a date")
    assert skip.customer_id == "cus_1"


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-01T00:00:00+18:00", "2026-11-30 06:00:00"),
        ("2026-12-01T05:00+05", "2026-12-01 00:00:00"),  # 19 characters: offset still read
        ("1970-01-01 00:00", "1970-01-01 00:00:00"),
        ("9999-12-31 23:59", "9999-12-31 23:59:00"),
        (" 2026-12-01 00:00", "2026-12-01 00:00:00"),
    ],
)
def test_csv_export_dates_at_the_edges_are_read(tmp_path: Path, text: str, utc: str) -> None:
    data = read(StripeCsvSource, csv(tmp_path, f"sub_1,cus_1,active,29.00,usd,{text},true\n"))

    assert data.skips == ()
    [end] = data.subscriptions.column("current_period_end").to_pylist()
    assert end.strftime("%Y-%m-%d %H:%M:%S") == utc


NOT_DATES_IN_JSON: list[Any] = [
    "infinity",
    "Infinity",
    "epoch",
    "10000-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "2026-12-01T00:00:00+23:00",
    "9" * 5000,
    -1,
    10**30,
    1e308,
    2**63,
]


@pytest.mark.parametrize("value", NOT_DATES_IN_JSON)
def test_stripe_json_timestamps_that_are_no_dates_are_skips(tmp_path: Path, value: Any) -> None:
    record = {
        "id": "sub_inf",
        "customer": "cus_inf",
        "status": "active",
        "cancel_at_period_end": True,
        "items": {"data": [{"current_period_end": value, "price": {"id": "price_x"}}]},
    }
    data = read(StripeJsonSource, write(tmp_path, "subs.json", json.dumps([record])))

    assert data.subscriptions.num_rows == 0
    [skip] = data.skips
    assert (skip.location, skip.field, skip.customer_id) == (
        "[0] (sub_inf)",
        "items.data[0].current_period_end",
        "cus_inf",
    )
    assert len(skip.reason) < 200


def test_stripe_json_nan_and_infinity_literals_are_no_dates(tmp_path: Path) -> None:
    text = (
        '[{"id": "sub_a", "customer": "cus_a", "status": "active", "cancel_at": Infinity},'
        ' {"id": "sub_b", "customer": "cus_b", "status": "active", "cancel_at": NaN}]'
    )
    data = read(StripeJsonSource, write(tmp_path, "subs.json", text))

    assert [(skip.location, skip.field) for skip in data.skips] == [
        ("[0] (sub_a)", "cancel_at"),
        ("[1] (sub_b)", "cancel_at"),
    ]


@pytest.mark.parametrize("value", ["infinity", "10000-01-01T00:00:00Z", "2026-12-01T00:00+99:00"])
def test_paddle_json_periods_that_are_no_dates_are_skips(tmp_path: Path, value: str) -> None:
    record = {
        "id": "sub_p",
        "status": "active",
        "customer_id": "ctm_p",
        "current_billing_period": {"starts_at": "2026-11-01T00:00:00Z", "ends_at": value},
        "scheduled_change": {"action": "cancel", "effective_at": value},
        "billing_cycle": {"interval": "month", "frequency": 1},
    }
    data = read(PaddleJsonSource, write(tmp_path, "paddle.json", json.dumps({"data": [record]})))

    assert data.subscriptions.num_rows == 0
    [skip] = data.skips
    assert (skip.location, skip.customer_id) == ("data[0] (sub_p)", "ctm_p")
    assert skip.field in ("scheduled_change.effective_at", "current_billing_period.ends_at")
