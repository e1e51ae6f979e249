"""Stripe-style CSV exports: generated rows and mutated Dashboard and other-tool exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.apps import app_file, app_for
from tests.fuzz.invariants import check, write
from tests.fuzz.mutate import mutated
from tests.fuzz.settings import share
from tests.fuzz.values import BROKEN_DATES, EVIL_NUMBERS, EVIL_TEXT, iso_instant

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 3 test(s).
FUZZ = share(3)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "billing"
HEADER = [
    "id",
    "Customer ID",
    "Customer Email",
    "Status",
    "Quantity",
    "Currency",
    "Interval",
    "Interval Count",
    "Amount",
    "Current Period Start (UTC)",
    "Current Period End (UTC)",
    "Cancel At Period End",
]
#: Column -> values that column must never accept.
BREAKS = {
    "Current Period End (UTC)": BROKEN_DATES,
    "Current Period Start (UTC)": BROKEN_DATES,
    "Quantity": ("4611686018427387904", "-1", "1.5", "lots"),
    "Interval Count": ("4611686018427387904", "0", "10001"),
    "Amount": ("1e308", "inf", "nan", "-1e13", "twenty"),
    "Cancel At Period End": ("maybe", "2"),
}


def cell(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    evil = st.one_of(
        st.sampled_from(EVIL_TEXT), st.sampled_from([str(n) for n in EVIL_NUMBERS]), st.text()
    )
    return st.one_of(good, good, good, evil, st.sampled_from(BROKEN_DATES))


@st.composite
def row(draw: st.DrawFn, number: int) -> list[str]:
    dates = iso_instant().map(lambda text: text.replace("T", " ")[:16])
    return [
        draw(cell(st.just(f"sub_{number}"))),
        draw(cell(st.just(f"cus_{number}"))),
        draw(cell(st.just(f"user{number}@example.com"))),
        draw(cell(st.sampled_from(["active", "canceled", "past_due", "trialing"]))),
        draw(cell(st.integers(0, 9).map(str))),
        draw(cell(st.sampled_from(["usd", "eur", "jpy", "kwd", "USD"]))),
        draw(cell(st.sampled_from(["month", "year", "quarterly", "week"]))),
        draw(cell(st.integers(1, 12).map(str))),
        draw(cell(st.sampled_from(["29.00", "2900", "0", "1.234", "79.999"]))),
        draw(cell(dates)),
        draw(cell(dates)),
        draw(cell(st.sampled_from(["true", "false", "yes", "0", ""]))),
    ]


@FUZZ
@given(data=st.data(), broken=st.booleans(), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_generated_stripe_csv(
    tmp_path: Path, data: st.DataObject, broken: bool, delimiter: str
) -> None:
    rows = [data.draw(row(number)) for number in range(data.draw(st.integers(1, 5)))]
    if broken:  # a row whose id and customer read, with one field no reader may accept
        column = data.draw(st.sampled_from(sorted(BREAKS)))
        planted = [
            "sub_b",
            "cus_b",
            "b@example.com",
            "active",
            "1",
            "usd",
            "month",
            "1",
            "29.00",
            "2026-11-01 00:00",
            "2026-12-01 00:00",
            "true",
        ]
        planted[HEADER.index(column)] = data.draw(st.sampled_from(BREAKS[column]))
        rows.insert(data.draw(st.integers(0, len(rows))), planted)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerows([HEADER, *rows])
    name = "subs.tsv" if delimiter == "\t" else "subs.csv"
    path = write(tmp_path / name, buffer.getvalue())
    app = app_file(tmp_path)
    check(["--billing", f"stripe-csv:{path}", "--app", str(app)], named=[name], broken=broken)


#: The rest of a live, cancelling subscription row after its id and customer.
_IN_SYNC = [
    "x@example.com",
    "active",
    "1",
    "usd",
    "month",
    "1",
    "29.00",
    "2026-11-01 00:00",
    "2026-12-01 00:00",
    "true",
]


@FUZZ
@given(data=st.data(), others=st.integers(0, 3))
def test_planted_broken_field_in_stripe_csv_is_never_a_pass(
    tmp_path: Path, data: st.DataObject, others: int
) -> None:
    """Everything in sync but one field no reader may accept: the verdict cannot be PASS."""
    rows = [
        [
            f"sub_{n}",
            f"cus_{n}",
            f"user{n}@example.com",
            "active",
            "1",
            "usd",
            "month",
            "1",
            "29.00",
            "2026-11-01 00:00",
            "2026-12-01 00:00",
            "true",
        ]
        for n in range(others + 1)
    ]
    column = data.draw(st.sampled_from(sorted(BREAKS)))
    rows[data.draw(st.integers(0, others))][HEADER.index(column)] = data.draw(
        st.sampled_from(BREAKS[column])
    )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *rows])
    path = write(tmp_path / "subs.csv", buffer.getvalue())
    app = app_for(tmp_path, [f"cus_{n}" for n in range(others + 1)])
    check(["--billing", f"stripe-csv:{path}", "--app", str(app)], named=["subs.csv"], broken=True)


@FUZZ
@given(data=st.data(), fixture=st.sampled_from(["stripe_dashboard.csv", "other_tool.csv"]))
def test_mutated_stripe_csv(tmp_path: Path, data: st.DataObject, fixture: str) -> None:
    text = data.draw(mutated((FIXTURES / fixture).read_text(), max_mutations=3))
    path = write(tmp_path / fixture, text)
    app = app_file(tmp_path)
    check(["--billing", f"stripe-csv:{path}", "--app", str(app)], named=[fixture])
