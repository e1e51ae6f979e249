"""One rule for an account id that appears on more than one row, for every app source.

A database returns rows in no fixed order, and even a file's order says nothing
about which copy is true, so "the first row wins" would name a plan, a flag or a
customer that the next run (or a re-sorted export) contradicts. Every copy of a
repeated id is skipped instead, each listed with the others' places, and the
rules then hold back on the customers those rows name (a skipped row's customer
is never called orphaned). A copy skipped for a reason of its own (a flag value
that is not a boolean) still counts as a copy: it makes the id just as ambiguous.

The sources call :func:`repeated_rows` on the id column as read (before any row
is dropped) and word each skip with :func:`repeated_reason`; only where a row is
(``line 7``, ``rowid=7``; a database result has no such place) is theirs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Final

import duckdb
import pyarrow as pa

from billdrift.infra import duck
from billdrift.infra.ordinals import ordinals

#: Places a reason lists before it says "and N more".
_SHOWN: Final = 5


@dataclass(frozen=True)
class Repeats:
    """The rows whose id repeats, in read order."""

    #: Row positions (0-based, ascending) of every copy of every repeated id.
    rows: tuple[int, ...] = ()
    #: The repeated id -> the positions of its copies, ascending.
    copies: dict[str, tuple[int, ...]] | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)

    def of(self, account_id: str) -> tuple[int, ...]:
        """The positions of every copy of `account_id` (empty if it does not repeat)."""
        return (self.copies or {}).get(account_id, ())


def repeated_rows(
    ids: pa.Array | pa.ChunkedArray, con: duckdb.DuckDBPyConnection | None = None
) -> Repeats:
    """Every row whose (non-empty) id appears more than once in `ids`.

    Asked first with a bare count, in DuckDB (a parallel hash count, several
    times Arrow's): repeats are rare, and listing them costs more than the
    question on a million rows. A source that already has a DuckDB connection
    passes it (`con`): a fresh in-memory database costs about 15 ms of CPU, a
    twentieth of a small check after its imports. Row positions are attached
    only once an id is known to repeat (a million-row column otherwise).
    """
    if con is None:
        with closing(duck.connect()) as own:
            return _repeated_rows(own, ids)
    return _repeated_rows(con, ids)


def _repeated_rows(con: duckdb.DuckDBPyConnection, ids: pa.Array | pa.ChunkedArray) -> Repeats:
    name = f"billdrift_ids_{uuid.uuid4().hex}"  # the caller's relations are left alone
    try:
        con.register(name, pa.table({"id": ids}))
        extra = con.execute(f"SELECT count(id) - count(DISTINCT id) FROM {name}").fetchall()[0][0]
        if not extra:
            return Repeats()
        # Positions attached in Arrow: DuckDB's row_number() need not follow scan order.
        con.register(name, pa.table({"id": ids, "k": ordinals(len(ids))}))
        found = con.execute(
            f"SELECT id, list(k ORDER BY k) FROM {name} WHERE id IS NOT NULL "
            "GROUP BY id HAVING count(*) > 1"
        ).fetchall()
    finally:
        con.unregister(name)
    copies = {str(account_id): tuple(int(k) for k in ks) for account_id, ks in found}
    rows = tuple(sorted(k for ks in copies.values() for k in ks))
    return Repeats(rows, copies)


def repeated_reason(
    account_id: str, copies: Sequence[int], place: Callable[[int], str] | None
) -> str:
    """Why a copy of a repeated `account_id` is skipped: how many `copies` (their row
    positions) there are and, when rows have places (`place` of a position:
    ``line 2``, ``rowid=2``), where the first few are."""
    where = ""
    if place is not None:
        shown = ", ".join(place(k) for k in copies[:_SHOWN])
        more = len(copies) - _SHOWN
        where = f" ({shown}{f' and {more} more' if more > 0 else ''})"
    return (
        f"account id {account_id!r} appears {len(copies)} times{where}; every copy is "
        "skipped, since which one holds cannot be told"
    )
