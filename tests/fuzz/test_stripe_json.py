"""Stripe JSON and JSON Lines: generated subscription objects and mutated exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.apps import app_file, app_for
from tests.fuzz.invariants import check, write
from tests.fuzz.mutate import mutated
from tests.fuzz.settings import share
from tests.fuzz.values import BROKEN_DATES, anything, evil_text, maybe_evil, unix_seconds

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 3 test(s).
FUZZ = share(3)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "billing"
STATUSES = ("active", "trialing", "past_due", "canceled", "unpaid", "paused", "incomplete")
#: (path into a record, values that field must never accept)
BREAKS: tuple[tuple[tuple[str, ...], tuple[Any, ...]], ...] = (
    (("current_period_end",), (*BROKEN_DATES, -1, 10**30, 1e308, float("inf"))),
    (("cancel_at",), BROKEN_DATES),
    (("items", "data", "0", "quantity"), (2**63, 1e308, float("nan"), -1, 1.5)),
    (("items", "data", "0", "price", "unit_amount"), (2**63, -(2**63) - 1, 1e308, 0.5)),
    (("items", "data", "0", "price", "recurring", "interval_count"), (2**62, 0, -3)),
    (("discount", "coupon", "percent_off"), (float("nan"), float("-inf"), -1e308, 101)),
)


@st.composite
def item(draw: st.DrawFn) -> dict[str, Any]:
    price = {
        "id": draw(maybe_evil(st.just("price_pro"))),
        "unit_amount": draw(maybe_evil(st.integers(0, 100_000))),
        "currency": draw(maybe_evil(st.sampled_from(["usd", "eur", "jpy", "kwd"]))),
        "recurring": {
            "interval": draw(maybe_evil(st.sampled_from(["month", "year", "week", "day"]))),
            "interval_count": draw(maybe_evil(st.integers(1, 12))),
        },
    }
    return {
        "quantity": draw(maybe_evil(st.integers(0, 50))),
        "price": price,
        "current_period_end": draw(maybe_evil(unix_seconds())),
    }


@st.composite
def record(draw: st.DrawFn, number: int) -> dict[str, Any]:
    customer = draw(
        st.one_of(
            st.just(f"cus_{number}"),
            st.just({"id": f"cus_{number}", "email": f"user{number}@example.com"}),
            anything(),
        )
    )
    found: dict[str, Any] = {
        "id": draw(maybe_evil(st.just(f"sub_{number}"))),
        "object": "subscription",
        "customer": customer,
        "status": draw(maybe_evil(st.sampled_from(STATUSES))),
        "cancel_at_period_end": draw(maybe_evil(st.booleans())),
        "current_period_start": draw(maybe_evil(unix_seconds())),
        "current_period_end": draw(maybe_evil(unix_seconds())),
        "created": draw(maybe_evil(unix_seconds())),
        "items": {"data": draw(st.lists(item(), max_size=3))},
        "discount": {
            "id": "di_1",
            "coupon": {
                "percent_off": draw(maybe_evil(st.floats(0, 100))),
                "amount_off": draw(maybe_evil(st.none() | st.integers(0, 5000))),
            },
        },
    }
    extra = draw(st.dictionaries(evil_text(), anything(), max_size=2))
    return {**extra, **found}


def plant(records: list[dict[str, Any]], draw: st.DrawFn) -> None:
    """Give the first record a field no reader may accept."""
    path, values = draw(st.sampled_from(BREAKS))
    target: Any = records[0]
    target["items"] = {"data": [{"price": {"id": "price_pro", "recurring": {}}}]}
    target["discount"] = {"id": "di_1", "coupon": {}}
    for key in path[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[path[-1]] = draw(st.sampled_from(values))


@FUZZ
@given(data=st.data(), layout=st.sampled_from(["list", "array", "jsonl"]), broken=st.booleans())
def test_generated_stripe_json(
    tmp_path: Path, data: st.DataObject, layout: str, broken: bool
) -> None:
    records = [data.draw(record(number)) for number in range(data.draw(st.integers(1, 4)))]
    if broken:
        plant(records, data.draw)
    if layout == "list":
        text = json.dumps({"object": "list", "data": records})
    elif layout == "array":
        text = json.dumps(records)
    else:
        text = "\n".join(json.dumps(one) for one in records)
    path = write(tmp_path / f"subs.{'jsonl' if layout == 'jsonl' else 'json'}", text)
    app = app_file(tmp_path)
    check(["--billing", f"stripe-json:{path}", "--app", str(app)], named=[path.name], broken=broken)


@FUZZ
@given(
    data=st.data(),
    fixture=st.sampled_from(["stripe_subscriptions.json", "stripe_subscriptions.jsonl"]),
)
def test_mutated_stripe_json(tmp_path: Path, data: st.DataObject, fixture: str) -> None:
    text = data.draw(mutated((FIXTURES / fixture).read_text()))
    path = write(tmp_path / fixture, text)
    app = app_file(tmp_path)
    check(["--billing", f"stripe-json:{path}", "--app", str(app)], named=[path.name])


def clean(number: int) -> dict[str, Any]:
    """A live subscription an app granting access to cus_<number> is in sync with."""
    recurring = {"interval": "month", "interval_count": 1}
    price = {"id": "price_pro", "unit_amount": 2900, "currency": "usd", "recurring": recurring}
    return {
        "id": f"sub_{number}",
        "object": "subscription",
        "customer": f"cus_{number}",
        "status": "active",
        "cancel_at_period_end": True,
        "current_period_start": 1_790_000_000,
        "current_period_end": 1_800_000_000,
        "items": {"data": [{"quantity": 1, "price": price}]},
        "discount": {"id": "di_1", "coupon": {"percent_off": 10}},
    }


@FUZZ
@given(data=st.data(), others=st.integers(0, 3))
def test_planted_broken_field_in_stripe_json_is_never_a_pass(
    tmp_path: Path, data: st.DataObject, others: int
) -> None:
    """Everything in sync but one field no reader may accept: the verdict cannot be PASS."""
    records = [clean(number) for number in range(others + 1)]
    path_in_record, values = data.draw(st.sampled_from(BREAKS))
    target: Any = records[data.draw(st.integers(0, others))]
    for key in path_in_record[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[path_in_record[-1]] = data.draw(st.sampled_from(values))
    path = write(tmp_path / "subs.json", json.dumps({"object": "list", "data": records}))
    app = app_for(tmp_path, [f"cus_{number}" for number in range(others + 1)])
    check(["--billing", f"stripe-json:{path}", "--app", str(app)], named=["subs.json"], broken=True)
