"""Monthly exposure: interval, count, quantity, minor units, discounts, currencies."""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import BILLING_ITEMS, BillingData, Exposure
from tests.builders import account, app, billing, inputs, sub


def exposure_of(subscription: tuple, **discount: object) -> Exposure | None:
    row, item = subscription
    row.update(discount)
    report = reconcile(inputs(billing((row, item)), app(account("a1", "cus_1", access=False))))
    assert report.findings, "expected a paid_but_blocked finding"
    return report.findings[0].exposure


@pytest.mark.parametrize(
    ("amount", "interval", "count", "quantity", "currency", "expected"),
    [
        (2900, "month", 1, 1, "usd", ("29.00", "USD")),
        (99900, "year", 1, 1, "usd", ("83.25", "USD")),
        (1000, "month", 3, 1, "usd", ("3.33", "USD")),  # quarterly
        (1000, "week", 1, 1, "usd", ("43.33", "USD")),  # x52/12
        (100, "day", 1, 1, "usd", ("30.42", "USD")),  # x365/12
        (1500, "month", 1, 5, "usd", ("75.00", "USD")),  # per seat
        (5000, "month", 1, 1, "jpy", ("5000", "JPY")),  # zero-decimal
        (12000, "year", 2, 1, "jpy", ("500", "JPY")),
        (10000, "month", 1, 1, "kwd", ("10.000", "KWD")),  # three decimals
    ],
)
def test_monthly_amount_normalization(
    amount: int, interval: str, count: int, quantity: int, currency: str, expected: tuple
) -> None:
    subscription = sub(
        "sub_1",
        "cus_1",
        amount=amount,
        interval=interval,
        interval_count=count,
        quantity=quantity,
        currency=currency,
    )
    assert exposure_of(subscription) == Exposure(*expected)


def test_percent_discount() -> None:
    assert exposure_of(sub("sub_1", "cus_1", amount=5000), discount_percent_off=20.0) == (
        Exposure("40.00", "USD")
    )


def test_amount_off_discount_scaled_to_month_and_never_negative() -> None:
    yearly = sub("sub_1", "cus_1", amount=12000, interval="year")
    assert exposure_of(yearly, discount_amount_off_minor=1200) == Exposure("9.00", "USD")
    assert exposure_of(sub("sub_1", "cus_1", amount=500), discount_amount_off_minor=900) == (
        Exposure("0.00", "USD")
    )


def test_unknown_unit_amount_gives_no_exposure() -> None:
    assert exposure_of(sub("sub_1", "cus_1", amount=None)) is None


def test_money_that_is_no_number_is_unknown_never_nan_in_the_report() -> None:
    """Sources bound their numbers (core.bounds); the engine still never writes NaN or
    Infinity as money, nor fails on a sum with more digits than decimal's default 28."""
    plain = sub("sub_1", "cus_1", amount=5000)
    assert exposure_of(plain, discount_percent_off=float("nan")) is None
    assert exposure_of(plain, discount_percent_off=float("-inf")) is None
    big = sub("sub_1", "cus_1", amount=9 * 10**18, quantity=9 * 10**18, interval="day")
    money = exposure_of(big)
    assert money is not None and money.monthly_amount.endswith(".00")
    assert exposure_of(sub("sub_1", "cus_1", amount=5000, currency="dollars")) is None


def test_totals_are_per_currency_never_summed() -> None:
    subs = billing(
        sub("sub_1", "cus_1", amount=2900),
        sub("sub_2", "cus_2", amount=1100),
        sub("sub_3", "cus_3", amount=4500, currency="eur"),
        sub("sub_4", "cus_4", amount=5000, currency="jpy"),
    )
    accounts = app(*(account(f"a{i}", f"cus_{i}", access=False) for i in range(1, 5)))
    report = reconcile(inputs(subs, accounts))
    assert report.exposure_by_currency == {"EUR": "45.00", "JPY": "5000", "USD": "40.00"}
    assert report.exposure_by_kind == {
        "paid_but_blocked": {"EUR": "45.00", "JPY": "5000", "USD": "40.00"}
    }


def test_a_subscription_in_two_findings_counts_once_in_the_total() -> None:
    subs = billing(sub("sub_1", "cus_1", amount=2900))
    accounts = app(account("a1", "cus_1", access=True, plan="basic"))
    report = reconcile(inputs(subs, accounts, {"plans": {"price_pro": "pro"}}))
    assert report.by_kind == {"plan_drift": 1}
    doubled = (*report.findings, *report.findings)
    assert replace(report, findings=doubled).exposure_by_currency == {"USD": "29.00"}


@pytest.mark.parametrize(
    ("currencies", "expected"),
    [
        (("usd", "usd"), Exposure("30.00", "USD")),
        (("usd", "USD"), Exposure("30.00", "USD")),  # one currency, written two ways
        (("usd", None), Exposure("30.00", "USD")),  # an item without one names none
        (("usd", "eur"), None),  # two currencies: never summed
    ],
    ids=["same", "same-other-case", "one-unnamed", "two"],
)
def test_a_subscription_s_items_in_several_currencies_give_no_exposure(
    currencies: tuple[str | None, str | None], expected: Exposure | None
) -> None:
    row, item = sub("sub_1", "cus_1", amount=1000)
    items = [{**item, "currency": currency, "unit_amount_minor": 1500} for currency in currencies]
    book = BillingData(
        subscriptions=billing((row, item)).subscriptions,
        items=pa.Table.from_pylist(items, schema=BILLING_ITEMS),
        description="two items",
    )
    report = reconcile(inputs(book, app(account("a1", "cus_1", access=False))))
    assert [f.exposure for f in report.findings] == [expected]
