"""The app side as CSV: generated account rows and mutated user exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.apps import APP_CSV, billing_file
from tests.fuzz.invariants import check, write
from tests.fuzz.mutate import mutated
from tests.fuzz.settings import share
from tests.fuzz.values import EVIL_NUMBERS, EVIL_TEXT

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 2 test(s).
FUZZ = share(2)
HEADER = ["id", "email", "stripe_customer_id", "has_paid_access", "plan", "role"]
#: Access flags no reader may take as true or false.
BROKEN_FLAGS = ("maybe", "2", "yes please", "tru", "-1")


def cell(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    evil = st.one_of(
        st.sampled_from(EVIL_TEXT), st.sampled_from([str(n) for n in EVIL_NUMBERS]), st.text()
    )
    return st.one_of(good, good, good, evil)


@st.composite
def row(draw: st.DrawFn, number: int) -> list[str]:
    return [
        draw(cell(st.just(f"u{number}"))),
        draw(cell(st.just(f"user{number}@example.com"))),
        draw(cell(st.just(f"cus_{number}"))),
        draw(cell(st.sampled_from(["t", "f", "true", "false", "1", "0", ""]))),
        draw(cell(st.sampled_from(["pro", "free", ""]))),
        draw(cell(st.sampled_from(["", "admin", "member"]))),
    ]


@FUZZ
@given(data=st.data(), broken=st.booleans(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_generated_app_csv(
    tmp_path: Path, data: st.DataObject, broken: bool, delimiter: str
) -> None:
    rows = [data.draw(row(number)) for number in range(data.draw(st.integers(1, 6)))]
    if broken:
        flag = data.draw(st.sampled_from(BROKEN_FLAGS))
        rows.insert(
            data.draw(st.integers(0, len(rows))), ["u_b", "b@example.com", "cus_0", flag, "pro", ""]
        )
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows([HEADER, *rows])
    name = "users.tsv" if delimiter == "\t" else "users.csv"
    path = write(tmp_path / name, buffer.getvalue())
    billing = billing_file(tmp_path)
    check(["--billing", str(billing), "--app", str(path)], named=[name], broken=broken)


@FUZZ
@given(data=st.data())
def test_mutated_app_csv(tmp_path: Path, data: st.DataObject) -> None:
    path = write(tmp_path / "users.csv", data.draw(mutated(APP_CSV, max_mutations=3)))
    billing = billing_file(tmp_path)
    check(["--billing", str(billing), "--app", str(path)], named=["users.csv"])
