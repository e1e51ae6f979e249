"""Arrow's fast path for plain CSV files: taken only when it cannot differ from DuckDB's.

Each source is read twice, once as it chooses and once with the fast path
refused, and the two results must be identical: same rows, same skips, same
notes. Files that are not plain (quotes, blank lines, ragged rows, stray
carriage returns, bad bytes) must not be read by Arrow at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from billdrift.config import AppConfig, BillingConfig
from billdrift.errors import SourceError
from billdrift.sources.app.csv_file import CsvAppSource
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from billdrift.sources.csv import plain as plain_csv
from billdrift.sources.csv import scan as csv_scan
from billdrift.sources.csv.plain import Layout, read_plain

BILLING_HEADER = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
)
BILLING_ROWS = [
    "sub_1,cus_1,a@example.com,active,price_pro,1,usd,month,29.00,2026-01-01 00:00,"
    "2026-02-01 00:00,false\n",
    # empty fields, odd spacing, non-ASCII text, an unknown status
    "sub_2,cus_2,,Past_Due , Pro Plan ,,EUR,year,,2026-01-01 00:00,,\n",
    "sub_3,cus_3,zoë@exämple.com,weird,price_x,2,jpy,month,500,,,true\n",
    # rows that fail a check are skips on either path
    "sub_4,cus_4,d@example.com,active,price_pro,1.5,usd,month,29.00,,,false\n",
    "sub_5,cus_5,e@example.com,active,price_pro,1,usd,fortnight,29.00,,,false\n",
    ",cus_6,f@example.com,active,price_pro,1,usd,month,29.00,not a date,,maybe\n",
]
APP_HEADER = "id,email,stripe_customer_id,has_paid_access,plan\n"
APP_ROWS = [
    "u1,a@example.com,cus_1,t,pro\n",
    "u2,,cus_2,  yes ,\n",
    "u3,zoë@exämple.com,,f,Free\n",
    "u4,d@example.com,cus_4,perhaps,pro\n",  # unrecognised flag: a skip
    ",e@example.com,cus_5,t,pro\n",  # empty id: a skip
    "u1,f@example.com,cus_6,t,pro\n",  # repeated id: a skip
    "u7, g@example.com ,cus_7,1,team\n",
]


def _read_app(path: Path) -> Any:
    return CsvAppSource(str(path), AppConfig()).read()


def _read_billing(path: Path) -> Any:
    return StripeCsvSource(str(path), BillingConfig()).read()


@pytest.fixture
def arrow_calls(monkeypatch: pytest.MonkeyPatch) -> list[pa.Table | None]:
    """Every result the fast path returned (None: it declined), for both sources."""
    calls: list[pa.Table | None] = []

    def spy(*args: Any, **kwargs: Any) -> pa.Table | None:
        result = read_plain(*args, **kwargs)
        calls.append(result)
        return result

    monkeypatch.setattr(csv_scan, "read_plain", spy)
    return calls


def _duckdb_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_scan, "read_plain", lambda *args, **kwargs: None)


def _same(first: Any, second: Any) -> None:
    for name in ("accounts", "signals", "subscriptions", "items"):
        if hasattr(first, name):
            assert getattr(first, name).equals(getattr(second, name)), name
    assert first.skips == second.skips
    assert first.notes == second.notes
    assert first.description == second.description


#: Both CSV sources, each with a fixture export (header and rows) of its own.
_EACH_SOURCE = pytest.mark.parametrize(
    ("reader", "header", "rows"),
    [(_read_billing, BILLING_HEADER, BILLING_ROWS), (_read_app, APP_HEADER, APP_ROWS)],
    ids=["billing", "app"],
)


@_EACH_SOURCE
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_plain_files_read_by_arrow_equal_duckdbs_reading(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arrow_calls: list[pa.Table | None],
    reader: Callable[[Path], Any],
    header: str,
    rows: list[str],
    ending: str,
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("".join([header, *rows]).replace("\n", ending).encode())
    fast = reader(path)
    assert len(arrow_calls) == 1 and arrow_calls[0] is not None, "the fast path was not taken"
    assert fast.skips, "the fixture is meant to hold rows that are skipped"
    _duckdb_only(monkeypatch)
    _same(fast, reader(path))


@_EACH_SOURCE
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text.replace("cus_1,", '"cus_1",', 1), id="quoted-value"),
        pytest.param(lambda text: text + '\nzz,"broken\n', id="quote-after-first-mb"),
        pytest.param(lambda text: text.replace("cus_2,", "cus_2,x,", 1), id="ragged-row"),
        pytest.param(
            lambda text: text.replace("\nsub_3", "\n\nsub_3").replace("\nu3", "\n\nu3"),
            id="blank-line",
        ),
        pytest.param(lambda text: text.replace("cus_2,", "cus\r_2,", 1), id="stray-cr"),
        pytest.param(lambda text: text.replace("\n", "\r\n", 2), id="mixed-endings"),
    ],
)
def test_files_that_are_not_plain_are_left_to_duckdb(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arrow_calls: list[pa.Table | None],
    reader: Callable[[Path], Any],
    header: str,
    rows: list[str],
    damage: Callable[[str], str],
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(damage("".join([header, *rows])).encode())
    chosen = _outcome(reader, path)
    _duckdb_only(monkeypatch)
    forced = _outcome(reader, path)
    if isinstance(chosen, str) or isinstance(forced, str):
        assert chosen == forced
    else:
        _same(chosen, forced)


def _outcome(reader: Callable[[Path], Any], path: Path) -> Any:
    """The data read, or the message of the error that stopped the read."""
    try:
        return reader(path)
    except SourceError as error:
        return str(error)


def test_a_quote_in_the_first_megabyte_skips_arrow_for_billing(
    tmp_path: Path, arrow_calls: list[pa.Table | None]
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(BILLING_HEADER + BILLING_ROWS[0].replace("cus_1", '"cus_1"'))
    data = _read_billing(path)
    assert arrow_calls == []
    assert data.subscriptions["customer_id"].to_pylist() == ["cus_1"]


def test_invalid_utf8_is_refused_on_either_path(
    tmp_path: Path, arrow_calls: list[pa.Table | None]
) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(
        APP_HEADER.encode() + b"u1,\xff@example.com,cus_1,t,pro\nu2,b@x.io,cus_2,f,pro\n"
    )
    with pytest.raises(SourceError, match=r"users.csv is not valid utf-8 text \(line 2\)"):
        _read_app(path)
    assert arrow_calls == [None]


# --------------------------------------------------------------------------- units


def test_read_plain_gives_text_columns_with_empty_fields_as_null(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a;b;c\n1; x ;\n;2;3\n")
    table = read_plain(path, ";", 3, [0, 2], lambda: Layout.of(path))
    assert table is not None
    assert table.column_names == ["c0", "c2"]
    assert table.to_pylist() == [{"c0": "1", "c2": None}, {"c0": None, "c2": "3"}]
    assert all(pa.types.is_string(kind) for kind in table.schema.types)


@pytest.mark.parametrize(
    ("content", "width"),
    [
        (b"a,b\n1,2,3\n", 2),  # too many fields
        (b"a,b\n1\n", 2),  # too few
        (b"a,b\n1,\xff\n", 2),  # not UTF-8
        (b"a\n1\n", 1),  # one column: a ragged row cannot show
    ],
)
def test_read_plain_declines_what_it_cannot_read_exactly(
    tmp_path: Path, content: bytes, width: int
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    assert read_plain(path, ",", width, range(width), lambda: Layout.of(path)) is None


@pytest.mark.parametrize("columns", [[0], [1], [0, 1]], ids=["clean", "bad", "both"])
def test_read_plain_declines_a_file_with_a_byte_not_utf8_whichever_columns_it_reads(
    tmp_path: Path, columns: list[int]
) -> None:
    """Arrow does not check the text it reads (the counting pass checks every byte of
    the file, a seventh of parsing a large export saved): so the table is declined
    when any byte is not UTF-8, in a column read or not, and nothing invalid leaves."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n3,\xff\n")
    assert read_plain(path, ",", 2, columns, lambda: Layout.of(path)) is None
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    assert read_plain(path, ",", 2, columns, lambda: Layout.of(path)) is not None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"h\n1\n2\n", Layout(3)),
        (b"h\n1\n2", Layout(3)),
        (b"h\n1\n2\n\n\n", Layout(3)),  # trailing line breaks are not lines
        (b"h\r\n1\r\n2\r\n", Layout(3)),
        (b'h\n"1"\n', Layout(2, quoted=True)),
        (b"h\r\n1\n", Layout(2, irregular_endings=True)),  # mixed
        (b"h\n1\r2\n", Layout(2, irregular_endings=True)),  # a carriage return inside a line
        (b"", Layout(1)),
    ],
)
def test_layout_counts_lines_quotes_and_endings(
    tmp_path: Path, content: bytes, expected: Layout
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    assert Layout.of(path) == expected
    assert Layout.of(path).plain is not (expected.quoted or expected.irregular_endings)


def test_layout_sees_a_crlf_split_across_two_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plain_csv, "_COUNT_CHUNK", 4)
    path = tmp_path / "t.csv"
    path.write_bytes(b"abc\r\nde\r\nf\r\n")  # the first CRLF straddles bytes 3 and 4
    assert Layout.of(path) == Layout(3)


@pytest.mark.parametrize(
    ("damaged", "clean"),
    [
        # Arrow skips the blank line: fewer records than lines
        (b"a,b\n1,2\n\n3,4\n", b"a,b\n1,2\n3,4\n"),
        # a quote: Arrow (quoting off) would keep it as text
        (b'a,b\n1,"2"\n', b"a,b\n1,2\n"),
    ],
)
def test_read_plain_declines_when_the_layout_disagrees(
    tmp_path: Path, damaged: bytes, clean: bytes
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(clean)
    assert read_plain(path, ",", 2, range(2), lambda: Layout.of(path)) is not None
    path.write_bytes(damaged)
    assert read_plain(path, ",", 2, range(2), lambda: Layout.of(path)) is None
