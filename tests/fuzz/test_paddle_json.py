"""Paddle Billing JSON: generated GET /subscriptions pages and mutated exports."""

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
from tests.fuzz.values import BROKEN_DATES, anything, iso_instant, maybe_evil

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 3 test(s).
FUZZ = share(3)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "billing"
#: (path into a record, values that field must never accept)
BREAKS: tuple[tuple[tuple[str, ...], tuple[Any, ...]], ...] = (
    (("current_billing_period", "ends_at"), (*BROKEN_DATES, 1e308, -1)),
    (("scheduled_change", "effective_at"), BROKEN_DATES),
    (("items", "0", "quantity"), (2**63, float("nan"), -2)),
    (("items", "0", "price", "unit_price", "amount"), ("9" * 25, "-" + "9" * 20, "1.5")),
    (("items", "0", "price", "billing_cycle", "frequency"), ("0", "99999999999999999999")),
    (("discount", "amount"), ("nan", "-inf", "1e400", "101")),
)


def _cancel_at(when: Any) -> dict[str, Any]:
    return {"action": "cancel", "effective_at": when}


@st.composite
def record(draw: st.DrawFn, number: int) -> dict[str, Any]:
    price = {
        "id": "pri_01gsz8x8sawmvhz1pv30nge1ke",
        "unit_price": {
            "amount": draw(maybe_evil(st.integers(0, 10_000).map(str))),
            "currency_code": draw(maybe_evil(st.sampled_from(["USD", "EUR", "JPY"]))),
        },
        "billing_cycle": {
            "interval": draw(maybe_evil(st.sampled_from(["month", "year"]))),
            "frequency": draw(maybe_evil(st.integers(1, 3))),
        },
    }
    return {
        "id": draw(maybe_evil(st.just(f"sub_{number}"))),
        "status": draw(maybe_evil(st.sampled_from(["active", "canceled", "past_due", "paused"]))),
        "customer_id": draw(maybe_evil(st.just(f"ctm_{number}"))),
        "currency_code": "USD",
        "created_at": draw(maybe_evil(iso_instant())),
        "current_billing_period": {
            "starts_at": draw(maybe_evil(iso_instant())),
            "ends_at": draw(maybe_evil(iso_instant())),
        },
        "scheduled_change": draw(
            st.none()
            | st.builds(
                lambda when: {"action": "cancel", "effective_at": when}, maybe_evil(iso_instant())
            )
        ),
        "discount": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["percentage", "flat", "flat_per_seat"]),
                    "amount": maybe_evil(st.integers(0, 100).map(str)),
                }
            )
        ),
        "items": [{"quantity": draw(maybe_evil(st.integers(0, 20))), "price": price}],
        **draw(st.dictionaries(st.text(max_size=6), anything(), max_size=2)),
    }


@FUZZ
@given(data=st.data(), broken=st.booleans())
def test_generated_paddle_json(tmp_path: Path, data: st.DataObject, broken: bool) -> None:
    records = [data.draw(record(number)) for number in range(data.draw(st.integers(1, 4)))]
    if broken:
        path, values = data.draw(st.sampled_from(BREAKS))
        target: Any = records[0]
        target.update(id="sub_b", customer_id="ctm_0", status="active")
        target["discount"] = {"type": "percentage", "amount": "10"}
        target["scheduled_change"] = {"action": "cancel", "effective_at": "2026-12-01T00:00:00Z"}
        for key in path[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[path[-1]] = data.draw(st.sampled_from(values))
    page = {"data": records, "meta": {"pagination": {"has_more": False}}}
    path = write(tmp_path / "paddle.json", json.dumps(page))
    app = app_file(tmp_path)
    check(["--billing", f"paddle-json:{path}", "--app", str(app)], named=[path.name], broken=broken)


def clean(number: int) -> dict[str, Any]:
    """A live subscription an app granting access to ctm_<number> is in sync with."""
    price = {
        "id": "pri_01gsz8x8sawmvhz1pv30nge1ke",
        "unit_price": {"amount": "1200", "currency_code": "USD"},
        "billing_cycle": {"interval": "month", "frequency": 1},
    }
    return {
        "id": f"sub_{number}",
        "status": "active",
        "customer_id": f"ctm_{number}",
        "currency_code": "USD",
        "current_billing_period": {
            "starts_at": "2026-11-01T00:00:00Z",
            "ends_at": "2026-12-01T00:00:00Z",
        },
        "scheduled_change": {"action": "cancel", "effective_at": "2026-12-01T00:00:00Z"},
        "discount": {"type": "percentage", "amount": "10"},
        "items": [{"quantity": 1, "price": price}],
    }


@FUZZ
@given(data=st.data(), others=st.integers(0, 3))
def test_planted_broken_field_in_paddle_json_is_never_a_pass(
    tmp_path: Path, data: st.DataObject, others: int
) -> None:
    """Everything in sync but one field no reader may accept: the verdict cannot be PASS."""
    records = [clean(number) for number in range(others + 1)]
    path_in_record, values = data.draw(st.sampled_from(BREAKS))
    target: Any = records[data.draw(st.integers(0, others))]
    for key in path_in_record[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[path_in_record[-1]] = data.draw(st.sampled_from(values))
    path = write(tmp_path / "paddle.json", json.dumps({"data": records}))
    app = app_for(tmp_path, [f"ctm_{number}" for number in range(others + 1)])
    check(
        ["--billing", f"paddle-json:{path}", "--app", str(app)], named=["paddle.json"], broken=True
    )


@FUZZ
@given(data=st.data())
def test_mutated_paddle_json(tmp_path: Path, data: st.DataObject) -> None:
    text = data.draw(mutated((FIXTURES / "paddle_subscriptions.json").read_text()))
    path = write(tmp_path / "paddle.json", text)
    app = app_file(tmp_path)
    check(["--billing", f"paddle-json:{path}", "--app", str(app)], named=[path.name])
