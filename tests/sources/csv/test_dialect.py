"""The header row and the dialect it shows, judged from the first bytes of a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.errors import SourceError
from billdrift.sources.csv.dialect import Header, parse_header, pick_delimiter, read_header
from billdrift.sources.csv.naming import Naming


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a,b,c", ","),
        ("a\tb\tc", "\t"),
        ("a;b;c", ";"),
        ("a|b|c", "|"),
        ("a;b,c;d", ";"),  # the commonest wins
        ("a,b;c", ","),  # a tie goes to the earlier in comma, tab, semicolon, pipe
        ("single", ","),
    ],
)
def test_the_header_lines_commonest_delimiter_wins(line: str, expected: str) -> None:
    assert pick_delimiter(line) == expected


def test_a_header_is_its_first_record() -> None:
    header = parse_header(b'\xef\xbb\xbfid,"two\nlines",c\r\n1,2,3\r\n')
    assert header == Header(("id", "two\nlines", "c"), ",", lines=2, quoted=True)


@pytest.mark.parametrize("head", [b"", b"  \n\n", b"\xef\xbb\xbf"])
def test_nothing_but_whitespace_is_no_header(head: bytes) -> None:
    assert parse_header(head) is None


def test_cr_only_endings_end_the_header_line() -> None:
    header = parse_header(b"a;b\r1;2\r")
    assert header is not None and header.names == ("a", "b") and header.delimiter == ";"


def test_a_tsv_file_is_tab_delimited() -> None:
    header = parse_header(b"a,b\tc,d\n", tsv=True)
    assert header is not None and header.names == ("a,b", "c,d")


def test_bytes_the_codec_cannot_decode_make_the_header_undecodable() -> None:
    header = parse_header("id,dépôt\n".encode("latin-1"))
    assert header is not None and not header.decodable
    assert parse_header("id,dépôt\n".encode("latin-1"), "latin-1") == Header(("id", "dépôt"), ",")
    # a replacement character written in the file is text like any other
    assert parse_header("id,\ufffd\n".encode()) == Header(("id", "\ufffd"), ",")
    # UTF-16 cut in the middle of a character after the header
    cut = "id,name\nr1,x\n".encode("utf-16")[:-1]
    assert parse_header(cut, "utf-16") == Header(("id", "name"), ",")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\nid,paid\n1,1\n", r"the first line of .*users\.csv is empty; expected a header row"),
        (b"id,pa\rid\n1,1\n", r"cannot parse the header of .*users\.csv: new-line character"),
        (
            "id,dépôt\n".encode("latin-1"),
            r"the header of .*users\.csv is not valid UTF-8 text \(line 1\)\. .*app\.encoding",
        ),
    ],
)
def test_a_header_that_cannot_be_read_is_a_source_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        read_header(path, Naming("app", str(path)))
