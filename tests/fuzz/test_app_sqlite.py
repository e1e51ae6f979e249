"""The app side as SQLite: tables of generated column types and values."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.apps import billing_file
from tests.fuzz.invariants import check
from tests.fuzz.settings import share
from tests.fuzz.values import EVIL_TEXT

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 2 test(s).
FUZZ = share(2)
COLUMNS = ("id", "email", "stripe_customer_id", "has_paid_access", "plan")
TYPES = ("TEXT", "INTEGER", "REAL", "BLOB", "NUMERIC", "BOOLEAN", "")
#: SQLite holds any value in any column: integers to 2**63-1, reals (NaN is stored as
#: NULL), text, blobs.
VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.sampled_from(EVIL_TEXT),
    st.text(max_size=20),
    st.binary(max_size=12),
)
GOOD = {
    "id": lambda n: f"u{n}",
    "email": lambda n: f"user{n}@example.com",
    "stripe_customer_id": lambda n: f"cus_{n}",
    "has_paid_access": lambda n: n % 2,
    "plan": lambda n: "pro",
}


@st.composite
def table(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    types = [draw(st.sampled_from(TYPES)) for _ in COLUMNS]
    rows = [
        [draw(st.one_of(st.just(GOOD[c](number)), VALUES)) for c in COLUMNS]
        for number in range(draw(st.integers(0, 6)))
    ]
    return types, rows


@FUZZ
@given(shape=table(), broken=st.booleans())
def test_generated_app_sqlite(
    tmp_path: Path, shape: tuple[list[str], list[list[Any]]], broken: bool
) -> None:
    types, rows = shape
    if broken:  # an account whose access flag no reader may take as true or false
        rows.append(["u_b", "b@example.com", "cus_0", "maybe", "pro"])
    database = tmp_path / "app.db"
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as db:
        columns = ", ".join(f'"{name}" {kind}' for name, kind in zip(COLUMNS, types, strict=True))
        db.execute(f"CREATE TABLE users ({columns})")
        db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", rows)
    db.close()
    billing = billing_file(tmp_path)
    check(
        ["--billing", str(billing), "--app", f"sqlite:///{database}"],
        named=["app.db"],
        broken=broken,
    )


@FUZZ
@given(
    statuses=st.lists(
        st.one_of(st.sampled_from(["active", "canceled", "past_due"]), VALUES),
        min_size=1,
        max_size=6,
    ),
    broken=st.booleans(),
)
def test_generated_app_sqlite_status_column(
    tmp_path: Path, statuses: list[Any], broken: bool
) -> None:
    """Access read from a text status column (app.status_fields) instead of a flag."""
    rows = [[f"u{n}", f"cus_{n}", status] for n, status in enumerate(statuses)]
    database = tmp_path / "status.db"
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE accounts (id, stripe_customer_id, subscription_status)")
        db.executemany("INSERT INTO accounts VALUES (?, ?, ?)", rows)
    db.close()
    billing = billing_file(tmp_path)
    config = tmp_path / "status.toml"
    config.write_text('[app]\nstatus_fields = ["subscription_status"]\n')
    args = ["--billing", str(billing), "--app", f"sqlite:///{database}", "--config", str(config)]
    check(args, named=["status.db", "status.toml"], broken=False)
