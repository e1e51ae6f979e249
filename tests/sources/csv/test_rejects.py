"""Rejected records: the lines they take, the values they show, and their reasons."""

from __future__ import annotations

from billdrift.sources.csv.rejects import Reject


def test_a_record_spans_the_lines_of_its_raw_text() -> None:
    assert Reject(3, "TOO MANY COLUMNS", "", "a,b,c\r\n").span == 1
    assert Reject(3, "UNQUOTED VALUE", "", '"open,1\n3,c,0\n').span == 2
    assert Reject(3, "MISSING COLUMNS", "", "\n\na\n").span == 1  # blank lines DuckDB prepended


def test_values_are_read_from_the_raw_record() -> None:
    assert Reject(2, "TOO MANY COLUMNS", "", 'sub_3,"cus, 3",x,y').fields(",") == [
        "sub_3",
        "cus, 3",
        "x",
        "y",
    ]


def test_each_side_words_the_reason_its_own_way() -> None:
    surplus = Reject(2, "TOO MANY COLUMNS", "Expected Number of Columns: 3 Found: 4", "a,b,c,d")
    assert surplus.reason(3) == ("expected 3 columns as in the header, found 4")
    assert surplus.verbatim_reason() == ("too many columns: Expected Number of Columns: 3 Found: 4")
