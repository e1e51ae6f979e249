"""The shared CSV reading seen through the billing reader: line numbers, quoting,
delimiters, encodings and line endings, as the billing side had them tested.

Each side's own tests keep what its columns mean; tests/sources/csv/test_both_sides.py
reads the same files through both readers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from billdrift.config import BillingConfig
from billdrift.errors import SourceError
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from tests.sources.billing.helpers import csv, read, skips, write


def test_broken_rows_keep_exact_line_numbers_after_multiline_values(tmp_path: Path) -> None:
    header = "id,Customer ID,Customer Name,Status,Current Period End (UTC)\n"
    body = (
        "sub_1,cus_1,Ann,active,2024-06-01\n"  # line 2
        'sub_2,cus_2,"Bob\nthe second\nof that name",active,2024-06-01\n'  # lines 3-5
        "sub_3,cus_3,Cy,active,2024-06-01,surplus\n"  # line 6: too many columns
        "sub_4,cus_4,Di,active,not-a-date\n"  # line 7
        "sub_5,cus_5\n"  # line 8: missing columns
        "\n"  # line 9: blank
        "sub_6,cus_6,Ed,active,2024-06-01\n"  # line 10
    )
    data = read(StripeCsvSource, csv(tmp_path, body, header=header))

    assert data.subscriptions.select(["subscription_id", "source_ref"]).to_pylist() == [
        {"subscription_id": "sub_1", "source_ref": "subs.csv:line 2"},
        {"subscription_id": "sub_2", "source_ref": "subs.csv:line 3"},
        {"subscription_id": "sub_6", "source_ref": "subs.csv:line 10"},
    ]
    assert skips(data) == [
        ("line 6", None),
        ("line 7", "Current Period End (UTC)"),
        ("line 8", None),
    ]
    assert data.skips[0].reason == ("too many columns: Expected Number of Columns: 5 Found: 6")
    assert data.skips[2].reason.startswith("missing columns: ")
    # Structurally broken rows still name their customer when the column shows one.
    assert [skip.customer_id for skip in data.skips] == ["cus_3", "cus_4", "cus_5"]


def test_rejected_rows_shift_later_line_numbers_in_a_plain_file(tmp_path: Path) -> None:
    body = (
        "".join(
            f"sub_{n},cus_{n},active,29.00,usd,2024-06-01,{'x,y' if n in (3, 4) else 'no'}\n"
            for n in range(1, 8)
        )
        + "sub_8,cus_8,active,29.00,usd,never,no\n"
    )
    data = read(StripeCsvSource, csv(tmp_path, body))

    assert data.subscriptions.column("source_ref").to_pylist() == [
        f"subs.csv:line {n + 1}" for n in (1, 2, 5, 6, 7)
    ]
    assert skips(data) == [
        ("line 4", None),
        ("line 5", None),
        ("line 9", "Current Period End (UTC)"),
    ]


ROW_KINDS = st.sampled_from(
    ["good", "quoted", "multiline", "too_many", "missing", "blank", "bad_date"]
)


@settings(max_examples=40, deadline=None)
@given(kinds=st.lists(ROW_KINDS, max_size=12), crlf=st.booleans())
def test_line_numbers_match_where_rows_were_written(kinds: list[str], crlf: bool) -> None:
    """Whatever mix of broken, multi-line and blank rows, every line number is exact."""
    end = "\r\n" if crlf else "\n"
    lines = ["id,Customer ID,Customer Name,Status,Current Period End (UTC)"]
    good: list[str] = []
    broken: list[tuple[str, str | None]] = []
    for n, kind in enumerate(kinds):
        where = f"line {len(lines) + 1}"
        row = {
            "good": f"sub_{n},cus_{n},Ann,active,2024-06-01",
            "quoted": f'sub_{n},cus_{n},"Ann ""the, first""",active,2024-06-01',
            "multiline": f'sub_{n},cus_{n},"Ann{end}Marie{end}Smith",active,2024-06-01',
            "too_many": f"sub_{n},cus_{n},Ann,active,2024-06-01,surplus",
            "missing": f"sub_{n},cus_{n}",
            "blank": "",
            "bad_date": f"sub_{n},cus_{n},Ann,active,someday",
        }[kind]
        if kind in ("good", "quoted", "multiline"):
            good.append(where)
        elif kind != "blank":
            broken.append((where, "Current Period End (UTC)" if kind == "bad_date" else None))
        lines.extend(row.split(end))
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "subs.csv", end.join(lines) + end)
        data = read(StripeCsvSource, path)

    refs = data.subscriptions.column("source_ref").to_pylist()
    assert refs == [f"subs.csv:{where}" for where in good]
    assert skips(data) == broken


def test_an_unterminated_quote_is_one_skip_for_the_rest_of_the_file(tmp_path: Path) -> None:
    body = (
        'sub_1,cus_1,active,29.00,usd,,\nsub_2,"cus_2,active,29.00,usd,,\nsub_3,cus_3,active,,,,\n'
    )
    data = read(StripeCsvSource, csv(tmp_path, body))

    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_1"]
    assert skips(data) == [("line 3", None)]
    assert "unquoted value" in data.skips[0].reason
    assert "the rest of the file, 2 lines, could not be read" in data.skips[0].reason


def test_semicolon_separated_export(tmp_path: Path) -> None:
    text = "id;Customer ID;Status;Amount;Currency\nsub_1;cus_1;active;49.90;eur\n"
    data = read(StripeCsvSource, write(tmp_path, "semi.csv", text))
    assert data.items.column("unit_amount_minor").to_pylist() == [4990]
    assert data.items.column("currency").to_pylist() == ["eur"]


def test_other_encodings_are_transcoded(tmp_path: Path) -> None:
    text = "id,Customer ID,Status,Plan\nsub_1,cus_1,active,Pro €\n"
    path = write(tmp_path, "cp1252.csv", text, encoding="cp1252")
    data = read(StripeCsvSource, path, encoding="cp1252")
    assert data.items.column("plan_name").to_pylist() == ["Pro €"]

    with pytest.raises(ValidationError, match="unknown text encoding 'klingon'"):
        read(StripeCsvSource, path, encoding="klingon")  # refused with the settings
    with pytest.raises(SourceError, match="unknown text encoding 'klingon'"):
        StripeCsvSource(str(path), BillingConfig.model_construct(encoding="klingon")).read()


def test_text_the_configured_encoding_cannot_decode_is_a_source_error(tmp_path: Path) -> None:
    path = write(tmp_path, "subs.csv", "id,Customer ID,Status,Plan\nsub_1,cus_1,active,Café\n")
    with pytest.raises(SourceError) as error:
        read(StripeCsvSource, path, encoding="ascii")
    assert str(error.value).startswith(f"billing file {path} is not valid ascii text (")
    assert 'billing.encoding = "latin-1"' in str(error.value)


def test_mixed_line_endings_are_read_as_lf_with_a_note(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "subs.csv",
        "id,Customer ID,Status\r\nsub_1,cus_1,active\nsub_2,cus_2,bogus\r\nsub_3,cus_3,active\n",
    )
    data = read(StripeCsvSource, path)
    assert data.subscriptions["subscription_id"].to_pylist() == ["sub_1", "sub_2", "sub_3"]
    assert data.subscriptions["source_ref"].to_pylist() == [
        "subs.csv:line 2",
        "subs.csv:line 3",
        "subs.csv:line 4",
    ]
    assert data.notes[-1] == "subs.csv: mixed CRLF/LF line endings were read as LF"


def test_a_stray_carriage_return_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "subs.csv", "id,Customer ID,Status\nsub_1,cus_1,active\nsub_2,cus\r_2,x\n"
    )
    with pytest.raises(SourceError, match=r"subs\.csv: line 3 has a carriage return"):
        read(StripeCsvSource, path)
