"""StripeCsvSource: Dashboard and other-tool exports, read by DuckDB, checked in SQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.core.model import BillingData, Skip
from billdrift.errors import SourceError
from billdrift.sources.billing.stripe_csv import StripeCsvSource

from .helpers import FIXTURES, csv, item_row, read, skips, sub_row, utc, write

DASHBOARD = FIXTURES / "stripe_dashboard.csv"
OTHER_TOOL = FIXTURES / "other_tool.csv"


def test_dashboard_export_reads_as_canonical_rows() -> None:
    data = read(StripeCsvSource, DASHBOARD)
    ref = "stripe_dashboard.csv:line "

    def row(ident: str, line: int, email: str, status: str, **values: object) -> dict[str, object]:
        customer = "cus_Q" + email.split("@")[0].capitalize()
        return sub_row(
            ident,
            ref + str(line),
            customer_id=customer,
            customer_email=email,
            status=status,
            **values,
        )

    assert data.subscriptions.to_pylist() == [
        row(
            "sub_1PdashActive",
            2,
            "alice@example.com",
            "active",
            current_period_start=utc("2024-05-01 00:00"),
            current_period_end=utc("2024-06-01 00:00"),
            created=utc("2024-01-15 09:30"),
        ),
        row(
            "sub_1PdashTrial",
            3,
            "bob@example.com",
            "trialing",
            current_period_start=utc("2024-05-10 08:00"),
            current_period_end=utc("2024-05-24 08:00"),
            trial_end=utc("2024-05-24 08:00"),
            created=utc("2024-05-10 08:00"),
        ),
        row(
            "sub_1PdashCanceled",
            4,
            "carol@example.com",
            "canceled",
            current_period_start=utc("2024-03-02 08:00"),
            current_period_end=utc("2024-04-02 08:00"),
            canceled_at=utc("2024-04-02 09:30"),
            ended_at=utc("2024-04-02 09:30"),
            created=utc("2023-11-02 08:00"),
        ),
        row(
            "sub_1PdashYen",
            5,
            "dave@example.jp",
            "past_due",
            current_period_start=utc("2024-02-01 00:00"),
            current_period_end=utc("2025-02-01 00:00"),
            created=utc("2024-02-01 00:00"),
        ),
        # Unknown statuses are not skipped: lower-cased and passed on for the rules.
        row(
            "sub_1PdashOdd",
            6,
            "erin@example.com",
            "paused_by_ops",
            current_period_start=utc("2024-05-01 00:00"),
            current_period_end=utc("2024-06-01 00:00"),
            created=utc("2024-03-01 00:00"),
        ),
    ]
    pro = {"price_id": "price_1ProMonthly", "currency": "usd", "interval": "month"}
    assert data.items.to_pylist() == [
        item_row("sub_1PdashActive", unit_amount_minor=2900, quantity=3, **pro),
        item_row("sub_1PdashTrial", unit_amount_minor=2900, **pro),
        # A plan that is not a price id is a nickname; "monthly" is month.
        item_row(
            "sub_1PdashCanceled",
            plan_name="Starter",
            unit_amount_minor=900,
            currency="usd",
            interval="month",
        ),
        # JPY has no minor unit: 9800 stays 9800 when read as major units.
        item_row(
            "sub_1PdashYen",
            price_id="price_1JpSeat",
            unit_amount_minor=9800,
            currency="jpy",
            quantity=2,
            interval="year",
        ),
        item_row("sub_1PdashOdd", unit_amount_minor=2900, **pro),
    ]
    assert data.skips == ()
    assert data.description == "stripe-csv stripe_dashboard.csv: 5 subscriptions"
    assert data.notes == (
        "stripe_dashboard.csv: 'Amount' read as major units (4 of 5 amounts are written with "
        'a decimal point); set billing.amount_units = "minor" in the config file if that is '
        "wrong",
    )


def test_other_tool_export_with_minor_units_and_booleans() -> None:
    data = read(StripeCsvSource, OTHER_TOOL)

    assert data.subscriptions.select(
        [
            "subscription_id",
            "customer_id",
            "customer_email",
            "status",
            "cancel_at_period_end",
            "current_period_end",
            "source_ref",
        ]
    ).to_pylist() == [
        {
            "subscription_id": "sub_1OtherA",
            "customer_id": "cus_QFrank",
            "customer_email": "frank@example.com",
            "status": "active",
            "cancel_at_period_end": False,
            "current_period_end": utc("2024-06-01 00:00"),
            "source_ref": "other_tool.csv:line 2",
        },
        {
            "subscription_id": "sub_1OtherB",
            "customer_id": "cus_QGrace",
            "customer_email": "grace@example.com",
            "status": "active",
            "cancel_at_period_end": True,
            "current_period_end": utc("2025-01-01 00:00"),
            "source_ref": "other_tool.csv:line 3",
        },
        {
            "subscription_id": "sub_1OtherC",
            "customer_id": "cus_QHeidi",
            "customer_email": None,
            "status": "canceled",
            "cancel_at_period_end": False,
            "current_period_end": utc("2024-04-01 00:00"),
            "source_ref": "other_tool.csv:line 4",
        },
        {
            "subscription_id": "sub_1OtherD",
            "customer_id": "cus_QIvan",
            "customer_email": "ivan@example.com",
            "status": "past_due",
            "cancel_at_period_end": True,
            "current_period_end": utc("2024-06-01 12:00"),
            "source_ref": "other_tool.csv:line 5",
        },
    ]
    assert data.items.column("unit_amount_minor").to_pylist() == [2900, 29900, 0, 980]
    assert data.items.column("plan_name").to_pylist() == [None, None, "Free", None]
    assert data.notes == (
        "other_tool.csv: 'Amount' read as minor units (every amount is a whole number and every "
        "non-zero amount in a two-decimal currency is at least 100 (smallest 2900), as with "
        'cents); set billing.amount_units = "major" in the config file if that is wrong',
    )


def test_configured_units_win_and_need_no_note() -> None:
    major = read(StripeCsvSource, OTHER_TOOL, amount_units="major")
    assert major.items.column("unit_amount_minor").to_pylist() == [290000, 2990000, 0, 980]
    assert major.notes == ()

    minor = read(StripeCsvSource, DASHBOARD, amount_units="minor")
    # "29.00" as minor units is 29; "9800" JPY is the same either way.
    assert minor.items.column("unit_amount_minor").to_pylist() == [29, 29, 9, 9800, 29]
    assert minor.notes == ()


def test_small_whole_amounts_are_read_as_major_units_and_said_so(tmp_path: Path) -> None:
    path = csv(tmp_path, "sub_1,cus_1,active,29,usd,,\nsub_2,cus_2,active,1500,jpy,,\n")
    data = read(StripeCsvSource, path)

    assert data.items.column("unit_amount_minor").to_pylist() == [2900, 1500]
    assert data.notes == (
        "subs.csv: 'Amount' read as major units (amounts are whole numbers but 29 in a "
        "two-decimal currency is too small to be a price in cents); set "
        'billing.amount_units = "minor" in the config file if that is wrong',
    )


def test_amounts_that_do_not_fit_the_currency_are_skipped(tmp_path: Path) -> None:
    body = (
        "sub_1,cus_1,active,79.999,usd,,\n"  # three decimals in a two-decimal currency
        "sub_2,cus_2,active,12.5,jpy,,\n"  # yen has no minor unit
        "sub_3,cus_3,active,1.234,kwd,,\n"  # three decimals are fine for KWD
        "sub_4,cus_4,active,79.00,usd,,\n"
    )
    data = read(StripeCsvSource, csv(tmp_path, body))

    assert data.items.column("unit_amount_minor").to_pylist() == [1234, 7900]
    assert skips(data) == [("line 2", "Amount"), ("line 3", "Amount")]
    assert data.skips[0].reason == (
        "amount has more decimal places than its currency's minor unit allows"
    )


def test_unparseable_values_are_skips_naming_line_and_field(tmp_path: Path) -> None:
    body = (
        "sub_1,cus_1,active,29.00,usd,2024-06-01 00:00,false\n"
        "sub_2,cus_2,active,29.00,usd,2024-13-45,false\n"
        "sub_3,cus_3,active,twenty,usd,2024-06-01,false\n"
        "sub_4,cus_4,active,29.00,usd,2024-06-01,maybe\n"
        ",cus_5,active,29.00,usd,2024-06-01,false\n"
        "sub_6,cus_6,ACTIVE ,29.00,usd,2024-05-01T14:00:00+02:00,T\n"
    )
    data = read(StripeCsvSource, csv(tmp_path, body))

    assert data.subscriptions.select(
        ["subscription_id", "status", "current_period_end", "cancel_at_period_end"]
    ).to_pylist() == [
        {
            "subscription_id": "sub_1",
            "status": "active",
            "current_period_end": utc("2024-06-01 00:00"),
            "cancel_at_period_end": False,
        },
        # Offsets are converted to UTC; booleans in any common spelling.
        {
            "subscription_id": "sub_6",
            "status": "active",
            "current_period_end": utc("2024-05-01 12:00"),
            "cancel_at_period_end": True,
        },
    ]
    assert data.skips == (
        Skip(
            "billing",
            "subs.csv",
            "line 3",
            "'2024-13-45' is not a date (expected e.g. 2024-05-01 12:00 or 2024-05-01T12:00:00Z, "
            "from 1970 to 9999)",
            "Current Period End (UTC)",
            "cus_2",
        ),
        Skip(
            "billing",
            "subs.csv",
            "line 4",
            "'twenty' is not an amount (expected e.g. 79.00 or 7900)",
            "Amount",
            "cus_3",
        ),
        Skip(
            "billing",
            "subs.csv",
            "line 5",
            "'maybe' is not a boolean (expected true/false, yes/no, 1/0)",
            "Cancel At Period End",
            "cus_4",
        ),
        # The customer id is kept so the rules hold back judgement on that customer.
        Skip("billing", "subs.csv", "line 6", "empty subscription id", "id", "cus_5"),
    )
    assert data.description == "stripe-csv subs.csv: 2 subscriptions, 4 skipped"


def test_latin1_file_needs_the_encoding_option(tmp_path: Path) -> None:
    text = "id,Customer ID,Customer Name,Status,Plan\nsub_1,cus_1,Zoë,active,Básico\n"
    path = write(tmp_path, "latin.csv", text, encoding="latin-1")

    with pytest.raises(SourceError) as error:
        read(StripeCsvSource, path)
    assert str(error.value) == (
        f"billing file {path} is not valid utf-8 text (line 2). "
        "If it was saved by Excel or another tool in a legacy encoding, set "
        'billing.encoding = "latin-1" (or the file\'s real encoding) in the config file'
    )

    data = read(StripeCsvSource, path, encoding="latin-1")
    assert data.items.column("plan_name").to_pylist() == ["Básico"]
    assert data.skips == ()


def test_undecodable_bytes_in_a_column_that_is_not_read_still_stop_the_read(
    tmp_path: Path,
) -> None:
    """The file is in another encoding all the same, and its other values may be misread."""
    text = "id,Customer ID,Customer Name,Status\nsub_1,cus_1,Zoë,active\n"
    path = write(tmp_path, "latin.csv", text, encoding="latin-1")
    with pytest.raises(SourceError, match=r"not valid utf-8 text \(line 2\)"):
        read(StripeCsvSource, path)


def test_byte_order_mark_padded_values_and_header_spelling(tmp_path: Path) -> None:
    text = (
        "\ufeff ID , customer_id, STATUS ,Interval, Quantity,current period end\n"
        "sub_1, cus_1, Active , quarterly, 2, 2024-06-01 12:00\n"
    )
    data = read(StripeCsvSource, write(tmp_path, "bom.csv", text))

    assert data.subscriptions.select(
        ["subscription_id", "customer_id", "status", "current_period_end"]
    ).to_pylist() == [
        {
            "subscription_id": "sub_1",
            "customer_id": "cus_1",
            "status": "active",
            "current_period_end": utc("2024-06-01 12:00"),
        }
    ]
    assert data.items.to_pylist() == [
        item_row("sub_1", quantity=2, interval="month", interval_count=3)
    ]
    assert data.notes == (
        "bom.csv: no Amount column, so subscription prices (and money at stake) are unknown",
    )


LABEL_HEADER = "id,Customer ID,Status,Currency,Interval,Quantity,Plan\n"


def _labels(data: BillingData) -> list[tuple[object, ...]]:
    subs, items = data.subscriptions, data.items
    return list(
        zip(
            subs.column("status").to_pylist(),
            items.column("currency").to_pylist(),
            items.column("interval").to_pylist(),
            items.column("interval_count").to_pylist(),
            items.column("price_id").to_pylist(),
            items.column("plan_name").to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "sub_1,cus_1,active,usd,month,1,price_a\nsub_2,cus_2,canceled,usd,year,1,price_b\n",
            [
                ("active", "usd", "month", 1, "price_a", None),
                ("canceled", "usd", "year", 1, "price_b", None),
            ],
            id="already-canonical",
        ),
        pytest.param(
            "sub_1,cus_1,ACTIVE,USD,Monthly,1,Pro\nsub_2,cus_2,ACTIVE,USD,Monthly,1,Pro\n",
            [
                ("active", "usd", "month", 1, None, "Pro"),
                ("active", "usd", "month", 1, None, "Pro"),
            ],
            id="one-spelling-changed-everywhere",
        ),
        pytest.param(
            "sub_1,cus_1,Active,usd,quarterly,2,price_a\n"
            "sub_2,cus_2,active,EUR,month,1,Basic\n"
            "sub_3,cus_3,past_due,,,1,\n"
            "sub_4,cus_4,Active,JPY,Yearly,1,price_a\n",
            [
                ("active", "usd", "month", 3, "price_a", None),
                ("active", "eur", "month", 1, None, "Basic"),
                ("past_due", None, None, 1, None, None),
                ("active", "jpy", "year", 1, "price_a", None),
            ],
            id="mixed-spellings-and-empty",
        ),
    ],
)
def test_labels_are_normalised_per_row_whatever_mix_of_spellings(
    tmp_path: Path, body: str, expected: list[tuple[object, ...]]
) -> None:
    """Labels are normalised per distinct value, with shortcuts when nothing or one
    value changes: every row must still get its own value."""
    data = read(StripeCsvSource, csv(tmp_path, body, header=LABEL_HEADER))
    assert _labels(data) == expected
    assert data.skips == ()


def test_header_only_reads_as_zero_rows(tmp_path: Path) -> None:
    data = read(StripeCsvSource, csv(tmp_path, ""))
    assert (data.subscriptions.num_rows, data.items.num_rows, data.skips) == (0, 0, ())
    assert data.description == "stripe-csv subs.csv: 0 subscriptions"


def test_empty_file_is_a_source_error(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(SourceError, match=r"empty.csv is empty; expected a subscriptions CSV"):
        read(StripeCsvSource, path)


def test_missing_required_columns_name_file_headers_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, "wrong.csv", "Subscription ID,Plan,Amount\nsub_1,price_1,29.00\n")
    with pytest.raises(SourceError) as error:
        read(StripeCsvSource, path)
    assert str(error.value) == (
        f"billing file {path} is not a subscriptions export billdrift can read: missing "
        "customer id (one of 'customer id', 'customer'); status (one of 'status', "
        "'subscription status'). Headers found: 'Subscription ID', 'Plan', 'Amount'. Expected "
        "a Stripe Dashboard subscriptions export (id, Customer ID, Status, ...) or a similar "
        "export with Subscription ID, Customer ID and Status columns"
    )


def test_paddle_ids_in_a_csv_mean_paddle_rows(tmp_path: Path) -> None:
    path = csv(tmp_path, "sub_01h,ctm_01h,active,12.00,usd,,\n")
    data = read(StripeCsvSource, path)
    assert data.subscriptions.column("provider").to_pylist() == ["paddle"]


def test_start_date_stands_in_for_a_missing_created_column(tmp_path: Path) -> None:
    header = "Subscription ID,Customer ID,Status,Start Date (UTC)\n"
    data = read(StripeCsvSource, csv(tmp_path, "sub_1,cus_1,active,2024-02-29 23:59\n", header))
    assert data.subscriptions.column("created").to_pylist() == [utc("2024-02-29 23:59")]


def test_subscription_id_column_wins_over_a_generic_id(tmp_path: Path) -> None:
    header = "id,Subscription ID,Customer ID,Status\n"
    data = read(StripeCsvSource, csv(tmp_path, "row-1,sub_1,cus_1,active\n", header))
    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_1"]


def test_unknown_interval_and_bad_quantity_are_skips(tmp_path: Path) -> None:
    header = "id,Customer ID,Status,Interval,Quantity\n"
    body = (
        "sub_1,cus_1,active,Yearly,2\n"
        "sub_2,cus_2,active,fortnightly,1\n"
        "sub_3,cus_3,active,month,1.5\n"
        "sub_4,cus_4,active,,\n"
    )
    data = read(StripeCsvSource, csv(tmp_path, body, header))

    assert data.items.to_pylist() == [
        item_row("sub_1", interval="year", quantity=2),
        item_row("sub_4"),  # nothing given: interval unknown, quantity 1
    ]
    assert data.skips == (
        Skip(
            "billing",
            "subs.csv",
            "line 3",
            "'fortnightly' is not a billing interval (expected day, week, month or year)",
            "Interval",
            "cus_2",
        ),
        Skip("billing", "subs.csv", "line 4", "'1.5' is not a whole number", "Quantity", "cus_3"),
    )


def test_padding_anywhere_in_the_file_is_trimmed(tmp_path: Path) -> None:
    """Whether ids need trimming is decided over every row, not the first few: one
    padded customer id far down the file must still match its account."""
    rows = [f"sub_{i},cus_{i},active,29.00,usd,2024-06-01 12:00,false\n" for i in range(1, 501)]
    rows[450] = "sub_451, cus_451 ,active,29.00,usd,2024-06-01 12:00,false\n"
    data = read(StripeCsvSource, csv(tmp_path, "".join(rows)))
    customers = data.subscriptions.column("customer_id").to_pylist()
    assert customers[450] == "cus_451"
    assert data.subscriptions.column("subscription_id").to_pylist()[450] == "sub_451"
    assert all(value == value.strip() for value in customers)


def test_cancel_at_period_end_reads_every_boolean_spelling(tmp_path: Path) -> None:
    """`true`/`false` as exports write them take a fast path; every other spelling is
    trimmed and lower-cased as before, and what is no boolean is still a skip (issue 17)."""
    values = ["true", "false", "TRUE", " False ", "True", "t", "0", "1", "maybe", "true ", ""]
    body = "".join(
        f"sub_{index},cus_{index},active,9.00,usd,2024-05-01 12:00,{value}\n"
        for index, value in enumerate(values)
    )
    data = read(StripeCsvSource, csv(tmp_path, body))
    flags = dict(
        zip(
            data.subscriptions.column("subscription_id").to_pylist(),
            data.subscriptions.column("cancel_at_period_end").to_pylist(),
            strict=True,
        )
    )
    assert flags == {
        "sub_0": True,
        "sub_1": False,
        "sub_2": True,
        "sub_3": False,
        "sub_4": True,
        "sub_5": True,
        "sub_6": False,
        "sub_7": True,
        "sub_9": True,
        "sub_10": None,
    }
    assert skips(data) == [("line 10", "Cancel At Period End")]
