"""The header row of a CSV file and the dialect it shows: delimiter, quoting.

Both sides read the same dialects: a comma, tab, semicolon or pipe between
values (whichever the header line uses most; tab for a ``.tsv`` file), double
quotes around values that hold one of those, a line break or a quote (doubled).
The header is read from the first megabyte, in the file's encoding, so a
source can judge the columns before any of the file is parsed (the billing
side sniffs and checks them first); a header row that does not decode is an
error naming the setting to change, as is a blank first line over content.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from billdrift.errors import SourceError
from billdrift.sources.csv.endings import cr_only
from billdrift.sources.csv.naming import Naming

#: The delimiters both sides recognise, in order of preference on a tie.
DELIMITERS: Final = (",", "\t", ";", "|")
_DELIMITER_NAMES: Final = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
#: How much of the file the header (and the quoting check) looks at.
HEAD_BYTES: Final = 1 << 20
#: What the ``surrogateescape`` error handler makes of undecodable bytes.
_ESCAPES: Final = frozenset(chr(code) for code in range(0xDC80, 0xDD00))


@dataclass(frozen=True)
class Header:
    """The first record of a CSV file and the dialect it shows."""

    #: Column names as written (empty when the first line is blank).
    names: tuple[str, ...]
    delimiter: str
    #: Physical lines the header record spans (1 unless a name holds a line break).
    lines: int = 1
    #: A double quote within the first megabyte: Arrow's plain-file path is not tried.
    quoted: bool = False
    #: Every name decoded in the file's encoding.
    decodable: bool = True
    #: Why the csv module could not split the header line (the names are then the
    #: line split at each delimiter), if it could not.
    error: str | None = None


def delimiter_name(delimiter: str) -> str:
    """``comma``, ``tab``, ``semicolon`` or ``pipe``, for descriptions."""
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


def is_tsv(location: str | Path) -> bool:
    return Path(location).suffix.lower() == ".tsv"


def pick_delimiter(first_line: str) -> str:
    """The delimiter the header line uses most; a comma when it uses none."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def parse_header(head: bytes, codec: str = "utf-8", tsv: bool = False) -> Header | None:
    """The header of a file that starts with `head`, or None when `head` holds
    nothing but whitespace. Never raises: judging is the caller's part.

    Undecodable bytes are kept as escapes and make the header not `decodable`.
    CR-only line endings (classic Mac, old Excel) end the header line like LF.
    """
    text, undecodable = _decoded_head(head, codec)
    if not head.strip() or not text.strip():
        return None
    if cr_only(text):
        text = text.replace("\r", "\n")
    quoted = '"' in text
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        return Header((), ",", quoted=quoted)
    delimiter = "\t" if tsv else pick_delimiter(first_line)
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    error = None
    try:
        names = next(rows, [])
        lines = rows.line_num
    except csv.Error as problem:  # a stray carriage return: the header line as it stands
        names, lines, error = first_line.rstrip("\r").split(delimiter), 1, str(problem)
    decodable = not any(undecodable & set(name) for name in names)
    return Header(tuple(names), delimiter, lines, quoted, decodable, error)


def _decoded_head(head: bytes, codec: str) -> tuple[str, frozenset[str]]:
    """`head` as text (a byte order mark removed) and the characters that stand for
    bytes it could not decode: escapes (U+DC80-U+DCFF), or U+FFFD for the few
    codecs that cannot escape some bytes (UTF-16 cut mid-character)."""
    try:
        text, undecodable = head.decode(codec, errors="surrogateescape"), _ESCAPES
    except UnicodeError:
        text, undecodable = head.decode(codec, errors="replace"), frozenset("\ufffd")
    return text.removeprefix("\ufeff"), undecodable


def read_header(path: Path, naming: Naming, codec: str = "utf-8") -> Header | None:
    """The header of the file at `path` read in `codec`, or None when the file
    holds nothing but whitespace.

    A SourceError when the header does not decode or cannot be split, or the
    first line is blank while the file is not (a header row is expected there).
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise SourceError(f"cannot read {naming.file}: {error.strerror}") from None
    header = parse_header(head, codec, is_tsv(naming.shown))
    if header is None:
        return None
    if not header.decodable:
        raise SourceError(naming.undecodable_header(codec))
    if header.error is not None:
        raise SourceError(f"cannot parse the header of {naming.shown}: {header.error}")
    if not header.names:
        raise SourceError(f"the first line of {naming.shown} is empty; expected a header row")
    return header
