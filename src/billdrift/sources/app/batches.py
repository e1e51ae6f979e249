"""Canonical app relations from Arrow record batches of mapped columns.

Live databases hand rows over as Arrow batches (ADBC for PostgreSQL, arrays
built per batch for MySQL). Each batch is cleaned the moment it arrives, with
Arrow kernels only: ids trimmed, blank text made NULL, statuses lower-cased,
flags parsed per *distinct* value with the shared rules of
:mod:`billdrift.sources.app.booleans`. Only the canonical columns are kept, so
memory follows the size of the result, not of the rows read. Rows that cannot
be used (empty id, unrecognized flag, text that is not UTF-8, a repeated id)
become :class:`~billdrift.core.model.Skip` entries; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.model import APP_ACCOUNTS, AppData, Skip
from billdrift.core.refs import canonical_refs
from billdrift.sources.app.booleans import parse_boolean_values, unrecognized_reason
from billdrift.sources.app.columns import ROLES, ColumnMapping
from billdrift.sources.app.repeats import repeated_reason, repeated_rows
from billdrift.sources.app.signals import access_signals
from billdrift.sources.app.text import clean_text

_ID_ROLES = frozenset({"account_id", "customer_id", "subscription_id"})


def alias(index: int) -> str:
    """The result-column name for the mapping's `index`-th column: user column names
    never reach the SELECT list as output names, only as quoted inputs."""
    return f"c{index}"


@dataclass
class _Collected:
    roles: dict[str, list[pa.Array]] = field(default_factory=dict)
    raws: list[list[pa.Array]] = field(default_factory=list)
    flags: list[list[pa.Array]] = field(default_factory=list)
    #: row position -> [(column, value or reason)] for rows that must be skipped.
    bad_flags: dict[int, list[tuple[str, object]]] = field(default_factory=dict)
    bad_text: dict[int, str] = field(default_factory=dict)
    rows: int = 0


@dataclass(frozen=True)
class Origin:
    """Where rows come from, for skips and ``source_ref``."""

    source: str  # the redacted URL (or env:NAME), as reports show it
    label: str  # "public.users" or "query"
    description: str  # e.g. "PostgreSQL 16.2"


class BatchReader:
    """Consumes batches whose columns are named :func:`alias` (i) for ``mapping.columns()[i]``."""

    def __init__(self, mapping: ColumnMapping, origin: Origin) -> None:
        self.mapping = mapping
        self.origin = origin
        self.position = {name: alias(i) for i, name in enumerate(mapping.columns())}
        self.roles = {role: column for role in ROLES if (column := mapping.role_column(role))}
        self.fields = mapping.fields()
        self.collected = _Collected(
            roles={role: [] for role in self.roles},
            raws=[[] for _ in self.fields],
            flags=[[] for _ in self.fields],
        )

    def read(self, batches: Iterable[pa.RecordBatch], notes: Iterable[str] = ()) -> AppData:
        for batch in batches:
            self._take(batch)
        return self._result(tuple(notes))

    # ------------------------------------------------------------------ per batch
    def _take(self, batch: pa.RecordBatch) -> None:
        got = self.collected
        start = got.rows
        got.rows += batch.num_rows
        for role, column in self.roles.items():
            text = self._text(batch, column, start)
            got.roles[role].append(clean_text(text, "id" if role in _ID_ROLES else "text"))
        for index, (column, kind) in enumerate(self.fields):
            values = batch.column(self.position[column])
            if kind == "status":
                got.raws[index].append(clean_text(self._text(batch, column, start), "status"))
                continue
            flags, raws = self._flags(values, column, start)
            got.flags[index].append(flags)
            got.raws[index].append(raws)

    def _text(self, batch: pa.RecordBatch, column: str, start: int) -> pa.Array:
        """A column as UTF-8 text; values that are not valid UTF-8 mark their row."""
        values = batch.column(self.position[column])
        if pa.types.is_string(values.type):
            return values
        if pa.types.is_large_string(values.type):
            return pc.cast(values, pa.string())
        if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
            try:
                return pc.cast(values, pa.string())
            except pa.ArrowInvalid:
                return self._decoded(values, column, start)
        if pa.types.is_null(values.type):
            return pa.nulls(len(values), pa.string())
        try:
            return pc.cast(values, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.array(
                [None if v is None else str(v) for v in values.to_pylist()], pa.string()
            )

    def _decoded(self, values: pa.Array, column: str, start: int) -> pa.Array:
        """Per-value decoding, only for a batch that holds invalid UTF-8."""
        decoded: list[str | None] = []
        for offset, raw in enumerate(values.to_pylist()):
            if raw is None:
                decoded.append(None)
                continue
            try:
                decoded.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append(raw.decode("utf-8", errors="replace"))
                self.collected.bad_text.setdefault(
                    start + offset, f"{column!r} holds text that is not valid UTF-8 ({raw[:40]!r})"
                )
        return pa.array(decoded, pa.string())

    def _flags(self, values: pa.Array, column: str, start: int) -> tuple[pa.Array, pa.Array]:
        """(parsed flags, raw text) for one flag column of a batch."""
        if pa.types.is_boolean(values.type):
            return values, pc.cast(values, pa.string())
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            encoded = values.dictionary_encode()
            distinct = encoded.dictionary.to_pylist()
        else:
            text = self._text_of(values, column, start)
            encoded = text.dictionary_encode()
            distinct = encoded.dictionary.to_pylist()
            values = text
        parsed, bad = parse_boolean_values(distinct)
        flags = pc.take(pa.array(parsed, pa.bool_()), encoded.indices)
        raws = pc.take(pa.array([_shown(v) for v in distinct], pa.string()), encoded.indices)
        if bad:
            positions = pc.indices_nonzero(
                pc.is_in(encoded.indices, pa.array(bad, encoded.indices.type))
            ).to_pylist()
            for position in positions:
                value = distinct[encoded.indices[position].as_py()]
                self.collected.bad_flags.setdefault(start + position, []).append((column, value))
        return flags, raws

    def _text_of(self, values: pa.Array, column: str, start: int) -> pa.Array:
        batch = pa.record_batch([values], names=[self.position[column]])
        return self._text(batch, column, start)

    # ------------------------------------------------------------------- at end
    def _result(self, notes: tuple[str, ...]) -> AppData:
        got = self.collected
        columns = {
            role: pa.chunked_array(got.roles[role], pa.string())
            if role in got.roles
            else pa.chunked_array([pa.nulls(got.rows, pa.string())])
            for role in ROLES
        }
        ids = columns["account_id"]
        skips, skipped = self._skips(ids, columns["customer_id"])
        prefix = f"{self.origin.label} {self.mapping.account_id}="
        table = pa.table(
            {
                **columns,
                "source_ref": pc.binary_join_element_wise(prefix, pc.fill_null(ids, "?"), ""),
                **{
                    f"raw{i}": pa.chunked_array(got.raws[i], pa.string())
                    for i in range(len(self.fields))
                },
                **{
                    f"flag{i}": pa.chunked_array(got.flags[i], pa.bool_())
                    for i, (_, kind) in enumerate(self.fields)
                    if kind == "flag"
                },
            }
        )
        if skipped:
            keep = pc.invert(
                pc.is_in(pa.array(range(got.rows), pa.int64()), pa.array(skipped, pa.int64()))
            )
            table = table.filter(keep)
        return AppData(
            accounts=canonical_refs(table, APP_ACCOUNTS),  # places as text
            signals=self._signals(table),
            skips=tuple(skips),
            description=(
                f"{self.origin.source} ({self.origin.description}, {self.origin.label}): "
                f"{got.rows:,} rows, {table.num_rows:,} accounts, {len(skips):,} skipped"
            ),
            mapping=self.mapping.as_dict(),
            notes=notes,
        )

    def _skips(
        self, ids: pa.ChunkedArray, customers: pa.ChunkedArray
    ) -> tuple[list[Skip], list[int]]:
        """Skips for empty ids, bad flags, bad text and repeated ids.

        Every row of a repeated id is skipped (:mod:`billdrift.sources.app.repeats`).
        Clean data is proven with vectorized checks and never reaches the loop.
        """
        got = self.collected
        repeats = repeated_rows(ids)
        if not ids.null_count and not got.bad_flags and not got.bad_text and not repeats:
            return [], []
        id_column = self.mapping.account_id
        id_list = ids.to_pylist()
        skips: list[Skip] = []
        skipped: list[int] = []
        customer_list = customers.to_pylist()
        for row, account_id in enumerate(id_list):
            location = f"row {row + 1}" if account_id is None else f"{id_column}={account_id}"
            if account_id is None:
                reason, column = "the account id is empty", id_column
            elif row in got.bad_text:
                reason, column = got.bad_text[row], id_column
            elif row in got.bad_flags:
                problems = got.bad_flags[row]
                reason, column = unrecognized_reason(problems), str(problems[0][0])
            elif copies := repeats.of(account_id):  # rows have no place to name
                reason, column = repeated_reason(account_id, copies, None), id_column
            else:
                continue
            skips.append(
                Skip(
                    "app",
                    f"{self.origin.source} ({self.origin.label})",
                    location,
                    reason,
                    column,
                    customer_id=customer_list[row],
                )
            )
            skipped.append(row)
        skips.sort(key=lambda skip: (skip.location, skip.reason, skip.customer_id or ""))
        return skips, skipped

    def _signals(self, table: pa.Table) -> pa.Table:
        return access_signals(
            table["account_id"],
            self.mapping,
            lambda index: table[f"raw{index}"],
            lambda index: table[f"flag{index}"],
        )


def _shown(value: object) -> str | None:
    """A flag's raw value as evidence text: 1.0 -> "1", True -> "true"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
