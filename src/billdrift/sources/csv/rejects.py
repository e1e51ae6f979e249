"""Records DuckDB could not split into the header's columns, and why.

DuckDB keeps each such record in a rejects table (``store_rejects``) with its
logical line, error type, message and raw text, instead of stopping the read.
Here they become one :class:`Reject` per record, in file order, for both sides:
the raw text tells how many physical lines the record took and, split
best-effort, which values it still shows.

The two sides word the reason differently, and their tests pin both wordings:
the app side in plain words (:meth:`Reject.reason`), the billing side in
DuckDB's own (:meth:`Reject.verbatim_reason`). A byte that is not UTF-8 is never
a reject a side sees: it stops the read (:attr:`billdrift.sources.csv.scan.Scan.layout`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Final

import duckdb

_FOUND: Final = re.compile(r"Found:\s*(\d+)")


@dataclass(frozen=True)
class Reject:
    """One record DuckDB rejected."""

    #: DuckDB's number: header = 1, then records and blank lines (line breaks
    #: inside quoted values not counted).
    record: int
    #: DuckDB's error type, e.g. ``TOO MANY COLUMNS``.
    kind: str
    message: str
    #: The record as DuckDB saw it (blank lines before it may be included).
    raw: str

    @property
    def span(self) -> int:
        """Physical lines the record covers."""
        return 1 + self.raw.strip("\r\n").count("\n")

    def fields(self, delimiter: str) -> list[str]:
        """The values the raw record shows (they may have shifted: a value is missing or extra)."""
        return next(csv.reader(io.StringIO(self.raw), delimiter=delimiter), [])

    def reason(self, width: int) -> str:
        """Why the record was skipped, in plain words (`width`: the header's columns)."""
        kind = self.kind
        if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
            found = _FOUND.search(self.message)
            got = f"found {found.group(1)}" if found else kind.lower()
            return f"expected {width} columns as in the header, {got}"
        if kind == "UNQUOTED VALUE":
            return "a quoted value is not closed properly (unterminated quote, or text after it)"
        if "LINE SIZE" in kind:
            return "the line is longer than the CSV reader's maximum line size"
        return f"unreadable row: {self.message}"

    def verbatim_reason(self) -> str:
        """Why the record was skipped, in DuckDB's words."""
        reason = f"{self.kind.lower()}: {self.message}"
        if self.kind == "UNQUOTED VALUE" and self.span > 1:
            reason += f" (the rest of the file, {self.span} lines, could not be read)"
        return reason


def read_rejects(con: duckdb.DuckDBPyConnection, table: str) -> tuple[Reject, ...]:
    """The records in DuckDB's rejects `table`, one per record (its first error), by line."""
    rows = con.execute(
        f"SELECT line, error_type::VARCHAR, error_message, csv_line FROM {table} "
        "ORDER BY line, byte_position"
    ).fetchall()
    found: dict[int, Reject] = {}
    for line, kind, message, raw in rows:
        found.setdefault(int(line), Reject(int(line), str(kind), str(message), raw or ""))
    return tuple(found.values())
