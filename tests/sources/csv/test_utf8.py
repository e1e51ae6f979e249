"""The UTF-8 check the line count makes: exact lines, whatever the chunk boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.sources.csv import plain
from billdrift.sources.csv.plain import Layout
from billdrift.sources.csv.utf8 import Utf8Check


def _check(data: bytes, size: int) -> int | None:
    """The bad line `Utf8Check` finds when `data` is fed in chunks of `size` bytes."""
    check, line = Utf8Check(), 1
    for start in range(0, len(data), size):
        buffer = bytearray(data[start : start + size])
        check.feed(buffer, len(buffer), line)
        line += buffer.count(b"\n")
    return check.finish(line)


TEXT = "a,b\nZoë,日本\n€,x\n".encode()


@pytest.mark.parametrize("size", range(1, len(TEXT) + 1))
def test_characters_cut_by_a_chunk_boundary_are_valid(size: int) -> None:
    assert _check(TEXT, size) is None


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"a,b\n\xe9,x\n", 2),  # latin-1
        (b"a,b\nc,d\ne,\xff", 3),  # last line, no break
        (TEXT + b"x,\xc3(\n", 4),  # a lead byte without its continuation
        (TEXT + b"\xed\xa0\x80\n", 4),  # an encoded surrogate
        (b"\xc0\xaf\n", 1),  # an overlong form
        (TEXT + b"\xe2\x82", 4),  # cut short by the end of the file
        (b"a\n" + "é".encode() + b"\n\xe9", 3),  # after a character split across chunks
    ],
)
def test_the_first_bad_byte_is_found_on_its_line(data: bytes, line: int, size: int) -> None:
    assert _check(data, size) == line


def test_the_line_count_reports_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plain, "_COUNT_CHUNK", 5)  # boundaries everywhere
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT * 3 + b"x,\xe9\n" + TEXT)
    assert Layout.of(path).undecodable == 10
    path.write_bytes(TEXT * 3)
    assert Layout.of(path).undecodable is None
