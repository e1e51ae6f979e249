"""One CSV reader for both sides: the same file reads alike through each.

Every test here writes one file that both sides can read (``id``, ``customer_id``
and ``status`` columns: an account or a subscription each) and reads it through
the app reader and the billing reader, which must agree on which rows there
are, the physical line each starts on, which lines were rejected, and how a
problem with the file is worded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from billdrift.config import AppConfig, BillingConfig
from billdrift.errors import SourceError
from billdrift.sources.app.csv_file import CsvAppSource
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from tests.builders import as_text

HEADER = ("id", "customer_id", "note", "status")


@dataclass(frozen=True)
class Read:
    """What a side made of a file: (id, customer id, source_ref) per row, skipped lines."""

    rows: list[tuple[str, str | None, str]]
    skipped: list[str]
    notes: tuple[str, ...]


def _read_app(path: Path, encoding: str) -> Read:
    data = CsvAppSource(str(path), AppConfig(encoding=encoding)).read()
    table = as_text(data.accounts).select(["account_id", "customer_id", "source_ref"])
    rows = [tuple(row.values()) for row in table.to_pylist()]
    return Read(rows, [skip.location for skip in data.skips], data.notes)  # type: ignore[arg-type]


def _read_billing(path: Path, encoding: str) -> Read:
    data = StripeCsvSource(str(path), BillingConfig(encoding=encoding)).read()
    table = as_text(data.subscriptions).select(["subscription_id", "customer_id", "source_ref"])
    rows = [tuple(row.values()) for row in table.to_pylist()]
    return Read(rows, [skip.location for skip in data.skips], data.notes)  # type: ignore[arg-type]


READERS: dict[str, Callable[[Path, str], Read]] = {"app": _read_app, "billing": _read_billing}
EACH_SIDE = pytest.mark.parametrize("side", list(READERS))


def _write(folder: Path, content: str | bytes, name: str = "export.csv") -> Path:
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _read(side: str, path: Path, encoding: str = "utf-8") -> Read:
    return READERS[side](path, encoding)


def _refs(name: str, *lines: int) -> list[str]:
    return [f"{name}:line {line}" for line in lines]


@EACH_SIDE
@pytest.mark.parametrize(
    "delimiter", [",", "\t", ";", "|"], ids=["comma", "tab", "semicolon", "pipe"]
)
def test_every_delimiter_reads_on_both_sides(tmp_path: Path, side: str, delimiter: str) -> None:
    """The header line's commonest delimiter wins; values holding the others stay whole."""
    others = "".join(mark for mark in ",\t;|" if mark != delimiter)
    text = delimiter.join(HEADER) + "\n"
    text += delimiter.join(["r1", "cus_1", f"a{others}b", "active"]) + "\n"
    text += delimiter.join(["r2", "cus_2", "", "active"]) + "\n"
    found = _read(side, _write(tmp_path, text))
    assert found.rows == [
        ("r1", "cus_1", "export.csv:line 2"),
        ("r2", "cus_2", "export.csv:line 3"),
    ]
    assert found.skipped == []


@EACH_SIDE
def test_a_tsv_file_is_tab_delimited_whatever_its_header_holds(tmp_path: Path, side: str) -> None:
    text = "id\tcustomer_id\tnote, with, commas\tstatus\nr1\tcus_1\tx,y\tactive\n"
    found = _read(side, _write(tmp_path, text, "export.tsv"))
    assert found.rows == [("r1", "cus_1", "export.tsv:line 2")]


@EACH_SIDE
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_rejected_rows_after_a_quoted_multiline_field_keep_their_physical_lines(
    tmp_path: Path, side: str, ending: str
) -> None:
    lines = [
        "id,customer_id,note,status",  # 1
        "r1,cus_1,plain,active",  # 2
        'r2,cus_2,"three',  # 3: a value over three lines ...
        "lines, quoted",  # 4
        'here",active',  # 5: ... ends here
        "r3,cus_3,x,active,surplus",  # 6: too many values
        "r4,cus_4,y,active",  # 7
        "r5,cus_5",  # 8: too few
        "",  # 9: blank
        'r6,cus_6,"a ""quoted"" word",active',  # 10
    ]
    found = _read(side, _write(tmp_path, ending.join(lines) + ending))
    assert [(ident, ref) for ident, _, ref in found.rows] == [
        ("r1", "export.csv:line 2"),
        ("r2", "export.csv:line 3"),
        ("r4", "export.csv:line 7"),
        ("r6", "export.csv:line 10"),
    ]
    assert found.skipped == ["line 6", "line 8"]


@EACH_SIDE
def test_a_stray_quote_in_an_unquoted_value_does_not_shift_line_numbers(
    tmp_path: Path, side: str
) -> None:
    """Quote parity is misled by a quote inside an unquoted value; the csv module
    re-reads the file and the numbers stay exact."""
    text = (
        "id,customer_id,note,status\n"  # 1
        'r1,cus_1,a"b,active\n'  # 2
        "\n"  # 3
        "r2,cus_2,c,active,surplus\n"  # 4
        "r3,cus_3,d,active\n"  # 5
    )
    found = _read(side, _write(tmp_path, text))
    assert [ref for _, _, ref in found.rows] == _refs("export.csv", 2, 5)
    assert found.skipped == ["line 4"]
    assert not any("approximate" in note for note in found.notes)


@EACH_SIDE
def test_text_the_configured_encoding_cannot_decode_names_the_file_line_and_setting(
    tmp_path: Path, side: str
) -> None:
    path = _write(
        tmp_path, b"id,customer_id,note,status\nr1,cus_1,x,active\nr2,cus_2,\x81,active\n"
    )
    with pytest.raises(SourceError) as error:
        _read(side, path, "cp1252")
    message = str(error.value)
    assert message.startswith(f"{side} file ")
    assert "export.csv is not valid cp1252 text (line 3)" in message
    assert f'set {side}.encoding = "latin-1"' in message


def _latin1_at(row: int, *, quoted: bool = False, column: int = 2, end: str = "\n") -> bytes:
    """200 records in UTF-8 but one accented value, written in latin-1, in record
    `row` (1-based; its physical line is row + 1 unless a quoted value spans lines)."""
    lines = ["id,customer_id,note,status"]
    for number in range(1, 201):
        values = [f"r{number}", f"cus_{number}", "plain", "active"]
        if number == row:
            values[column] = '"Zoë,\nand more"' if quoted else "Zoë"
        lines.append(",".join(values))
    return "\n".join(lines).encode("latin-1") + end.encode()


@EACH_SIDE
@pytest.mark.parametrize(
    ("content", "line"),
    [
        (_latin1_at(1), 2),
        (_latin1_at(150), 151),
        (_latin1_at(150, column=0), 151),  # the id: a column every side reads
        (_latin1_at(150, column=3), 151),  # a column the billing side reads as status
        (_latin1_at(200), 201),
        (_latin1_at(200, end=""), 201),  # the last line, with no line break after it
        (_latin1_at(150, quoted=True), 151),  # inside a quoted value: DuckDB's path
        (_latin1_at(180, quoted=True), 181),
        # UTF-8 cut short by the end of the file
        ("id,customer_id,note,status\nr1,cus_1,Zoë,active\nr2,cus_2,x,é".encode()[:-1], 3),
    ],
    ids=[
        "first-row",
        "row-150",
        "id",
        "status",
        "last-row",
        "last-no-break",
        "quoted",
        "quoted-later",
        "cut-short",
    ],
)
def test_a_file_not_in_the_configured_encoding_is_an_error_wherever_the_byte_is(
    tmp_path: Path, side: str, content: bytes, line: int
) -> None:
    """Not a row skipped and a WARN: the README promises an error that names the
    file, the line, the encoding and the setting, and the readers alone would
    not see a byte in a column they do not read."""
    path = _write(tmp_path, content)
    with pytest.raises(SourceError) as error:
        _read(side, path)
    assert str(error.value) == (
        f"{side} file {path.name if side == 'app' else path} is not valid utf-8 text "
        f"(line {line}). If it was saved by Excel or another tool in a legacy encoding, "
        f'set {side}.encoding = "latin-1" (or the file\'s real encoding) in the config file'
    )


@EACH_SIDE
def test_the_same_file_in_its_encoding_reads_whole(tmp_path: Path, side: str) -> None:
    found = _read(side, _write(tmp_path, _latin1_at(150)), "latin-1")
    assert len(found.rows) == 200 and found.skipped == []
    assert found.rows[149] == ("r150", "cus_150", "export.csv:line 151")


@EACH_SIDE
def test_a_header_the_configured_encoding_cannot_decode_names_the_setting(
    tmp_path: Path, side: str
) -> None:
    path = _write(tmp_path, "id,customer_id,dépôt,status\nr1,cus_1,x,active\n".encode("latin-1"))
    with pytest.raises(SourceError) as error:
        _read(side, path)
    message = str(error.value)
    assert "the header of " in message and "export.csv is not valid UTF-8 text" in message
    assert f"{side}.encoding" in message
    assert _read(side, path, "latin-1").rows == [("r1", "cus_1", "export.csv:line 2")]


@EACH_SIDE
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_other_encodings_are_read_alike(tmp_path: Path, side: str, encoding: str) -> None:
    text = "id,customer_id,note,status\nr1,cus_1,Zoë,active\nr2,cus_2,x,active\n"
    found = _read(side, _write(tmp_path, text.encode(encoding)), encoding)
    assert found.rows == [
        ("r1", "cus_1", "export.csv:line 2"),
        ("r2", "cus_2", "export.csv:line 3"),
    ]


@EACH_SIDE
@pytest.mark.parametrize(
    ("content", "note"),
    [
        (
            "id,customer_id,note,status\rr1,cus_1,x,active\rr2,cus_2,y,active,surplus\r"
            "r3,cus_3,z,active\r",
            "export.csv: CR line endings were read as line breaks",
        ),
        (
            "id,customer_id,note,status\r\nr1,cus_1,x,active\nr2,cus_2,y,active,surplus\r\n"
            "r3,cus_3,z,active\n",
            "export.csv: mixed CRLF/LF line endings were read as LF",
        ),
    ],
    ids=["cr-only", "mixed"],
)
def test_line_endings_are_read_alike(tmp_path: Path, side: str, content: str, note: str) -> None:
    found = _read(side, _write(tmp_path, content))
    assert [ref for _, _, ref in found.rows] == _refs("export.csv", 2, 4)
    assert found.skipped == ["line 3"]
    assert found.notes[-1] == note


@EACH_SIDE
def test_a_stray_carriage_return_names_its_line(tmp_path: Path, side: str) -> None:
    path = _write(tmp_path, "id,customer_id,note,status\nr1,cus_1,x,active\nr2,cus\r_2,y,active\n")
    with pytest.raises(SourceError, match=rf"cannot parse {side} file .*export\.csv: line 3 has"):
        _read(side, path)


@EACH_SIDE
def test_glob_characters_in_the_file_name(tmp_path: Path, side: str) -> None:
    path = _write(tmp_path, "id,customer_id,note,status\nr1,cus_1,x,active\n", "export[1]*.csv")
    assert _read(side, path).rows == [("r1", "cus_1", "export[1]*.csv:line 2")]


@EACH_SIDE
def test_a_name_with_glob_characters_never_reads_another_file(tmp_path: Path, side: str) -> None:
    """`subs[12].csv` once read `subs1.csv` when that existed (issue 13): the name went
    to DuckDB as a pattern. Quotes send the file down the DuckDB path."""
    _write(tmp_path, 'id,customer_id,note,status\n"zz","cus_9","decoy",active\n', "subs1.csv")
    path = _write(tmp_path, 'id,customer_id,note,status\n"r1","cus_1","x",active\n', "subs[12].csv")
    assert _read(side, path).rows == [("r1", "cus_1", "subs[12].csv:line 2")]
