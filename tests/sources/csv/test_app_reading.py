"""The shared CSV reading seen through the app reader: line numbers, quoting,
delimiters, encodings and line endings, as the app side had them tested.

Each side's own tests keep what its columns mean; tests/sources/csv/test_both_sides.py
reads the same files through both readers.
"""

from __future__ import annotations

import pytest

from billdrift.config import AppConfig
from billdrift.errors import SourceError
from billdrift.sources.app.csv_file import CsvAppSource
from tests.sources.app.helpers import accounts, skips
from tests.sources.conftest import ReadCsv, WriteCsv


def test_lines_after_quoted_newlines_are_physical_lines(read_csv: ReadCsv) -> None:
    data = read_csv(
        "id,note,paid\n"  # 1
        'a1,"line one\n'  # 2  a1 starts here ...
        'line two",true\n'  # 3  ... and ends here
        "a2,x,junk\n"  # 4
        'a3,"multi\n'  # 5
        "\n"  # 6  (inside quotes: not a blank line)
        'line",yes\n'  # 7
        "a4,y\n"  # 8  rejected: too few columns
        "a5,z,1\n"  # 9
    )
    assert accounts(data, "account_id", "source_ref") == [
        ("a1", "users.csv:line 2"),
        ("a3", "users.csv:line 5"),
        ("a5", "users.csv:line 9"),
    ]
    assert [(location, field) for location, field, _ in skips(data)] == [
        ("line 4", "paid"),
        ("line 8", None),
    ]


def test_blank_lines_crlf_and_no_final_newline(read_csv: ReadCsv) -> None:
    data = read_csv("id,paid\r\na1,1\r\n\r\na2,0\r\n\r\n\r\na3,x\r\na4,1")
    assert accounts(data, "account_id", "source_ref") == [
        ("a1", "users.csv:line 2"),
        ("a2", "users.csv:line 4"),
        ("a4", "users.csv:line 8"),
    ]
    assert [location for location, _, _ in skips(data)] == ["line 7"]


@pytest.mark.parametrize("multiline", [False, True])
def test_line_numbers_hold_across_a_large_parallel_read(read_csv: ReadCsv, multiline: bool) -> None:
    rows = [f"{i},n,true" for i in range(1, 100_001)]
    rows[29_999] = "30000,n,true,extra"  # physical line 30001
    rows[59_999] = "60000,n,maybe"  # physical line 60001
    if multiline:
        rows[89_999] = '90000,"a\nb",true'  # physical lines 90001-90002
    data = read_csv("id,note,paid\n" + "\n".join(rows) + "\n")
    shift = 1 if multiline else 0
    found = dict(accounts(data, "account_id", "source_ref"))
    assert found["29999"] == "users.csv:line 30000"
    assert found["30001"] == "users.csv:line 30002"
    assert found["90000"] == "users.csv:line 90001"
    assert found["90001"] == f"users.csv:line {90002 + shift}"
    assert found["100000"] == f"users.csv:line {100001 + shift}"
    assert [location for location, _, _ in skips(data)] == ["line 30001", "line 60001"]
    assert data.accounts.num_rows == 99_998


def test_many_irregular_lines_make_many_line_number_segments(read_csv: ReadCsv) -> None:
    # 150 rejected rows: 151 line-number segments.
    rows = []
    for index in range(300):
        rows.append(f"a{index},1,extra" if index % 2 else f"a{index},1")
    data = read_csv("id,paid\n" + "\n".join(rows) + "\n")
    assert accounts(data, "account_id", "source_ref") == [
        (f"a{index}", f"users.csv:line {index + 2}") for index in range(0, 300, 2)
    ]
    assert [location for location, _, _ in skips(data)] == [
        f"line {index + 2}" for index in range(1, 300, 2)
    ]


def test_many_multiline_records_and_blank_lines(read_csv: ReadCsv) -> None:
    rows = []
    expected = []
    line = 2
    for index in range(100):
        expected.append((f"a{index}", f"users.csv:line {line}"))
        if index % 3 == 0:
            rows.append(f'a{index},"two\nlines",1')
            line += 2
        else:
            rows.append(f"a{index},x,0\n")  # followed by a blank line
            line += 2
    data = read_csv("id,note,paid\n" + "\n".join(rows) + "\n")
    assert accounts(data, "account_id", "source_ref") == expected
    assert data.skips == ()


def test_a_stray_quote_and_a_blank_line_fall_back_to_the_csv_module(read_csv: ReadCsv) -> None:
    data = read_csv('id,name,paid\n1,a"b,1\n\n2,x,0\n3,y,z\n')
    assert accounts(data, "account_id", "source_ref") == [
        ("1", "users.csv:line 2"),
        ("2", "users.csv:line 4"),
    ]
    assert [location for location, _, _ in skips(data)] == ["line 5"]


def test_an_unterminated_quote_is_one_skip(read_csv: ReadCsv) -> None:
    # Everything after an unterminated quote belongs to that value, as in any CSV reader.
    data = read_csv('id,email,paid\n1,a@x,1\n2,"open,1\n3,c@x,0\n')
    assert accounts(data, "account_id") == [("1",)]
    assert skips(data) == [
        (
            "line 3",
            None,
            "a quoted value is not closed properly (unterminated quote, or text after it)",
        )
    ]


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("users.tsv", "id\temail\tpaid\n1\ta,b@x\tyes\n", "tab"),
        ("users.csv", "id;email;paid\n1;a,b@x;yes\n", "semicolon"),
    ],
)
def test_other_delimiters(read_csv: ReadCsv, name: str, text: str, kind: str) -> None:
    data = read_csv(text, name=name)
    assert accounts(data, "account_id", "email") == [("1", "a,b@x")]
    assert f"{kind}-delimited" in data.description


def test_utf8_bom_is_ignored(read_csv: ReadCsv) -> None:
    data = read_csv("\ufeffid,paid\r\n1,true\r\n")
    assert data.mapping["account_id"] == "id"
    assert accounts(data, "account_id", "source_ref") == [("1", "users.csv:line 2")]


def test_a_non_utf8_header_is_a_source_error(write_csv: WriteCsv) -> None:
    path = write_csv("id,dépôt,paid\n1,x,1\n", encoding="latin-1")
    with pytest.raises(SourceError, match=r"header of users.csv is not valid UTF-8.*app.encoding"):
        CsvAppSource(str(path), AppConfig()).read()


def test_undecodable_bytes_in_the_declared_encoding(write_csv: WriteCsv) -> None:
    path = write_csv(b"id,paid\n1,1\n2,\x81\n")
    with pytest.raises(SourceError, match=r"not valid cp1252 text \(line 3\)"):
        CsvAppSource(str(path), AppConfig(encoding="cp1252")).read()


def test_glob_characters_in_the_file_name(read_csv: ReadCsv) -> None:
    data = read_csv("id,paid\n1,1\n", name="users[1]*.csv")
    assert accounts(data, "account_id", "source_ref") == [("1", "users[1]*.csv:line 2")]


def test_mixed_line_endings_are_read_with_a_note(read_csv: ReadCsv) -> None:
    data = read_csv("id,paid\r\n1,1\n2,0\r\n3,x\n4,1\r\n")
    assert accounts(data, "account_id", "source_ref") == [
        ("1", "users.csv:line 2"),
        ("2", "users.csv:line 3"),
        ("4", "users.csv:line 5"),
    ]
    assert [location for location, _, _ in skips(data)] == ["line 4"]
    assert data.notes[-1] == "users.csv: mixed CRLF/LF line endings were read as LF"


def test_cr_only_line_endings(read_csv: ReadCsv) -> None:
    data = read_csv("id,paid\r1,1\r2,maybe\r3,0\r")
    assert accounts(data, "account_id", "source_ref") == [
        ("1", "users.csv:line 2"),
        ("3", "users.csv:line 4"),
    ]
    assert [location for location, _, _ in skips(data)] == ["line 3"]
    assert data.notes[-1] == "users.csv: CR line endings were read as line breaks"


def test_a_stray_carriage_return_names_its_line(read_csv: ReadCsv) -> None:
    with pytest.raises(SourceError, match=r"line 3 has a carriage return"):
        read_csv("id,paid\n1,1\n2,a\rb\n3,1\n")
