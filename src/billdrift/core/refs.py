"""Where a canonical row was read: ``source_ref`` and ``source_number`` (issue 17).

A row's place takes one of two forms, both accepted by the canonical schemas
(:data:`billdrift.core.model.BILLING_SUBSCRIPTIONS`, ``APP_ACCOUNTS``) and by
:func:`billdrift.core.load.load`:

* text: ``source_ref`` is the whole place (``"data.json:item 12"``,
  ``"users id=abc"``) and ``source_number`` is null;
* locator: ``source_ref`` is the label the number follows (``"billing.csv:line "``),
  the same on every row of one read, so a reader gives it dictionary-encoded
  (:data:`LABEL`: held once, each row an index), and ``source_number`` is the number
  (``198``).

Only the reported rows' places are ever shown (the evidence's ``source``), a few
thousand of a million: a CSV reader that wrote ``"billing.csv:line 198"`` for every
row spent 0.06-0.11 s of CPU a side on strings (about 30 MB each) that loading and
the stages then carried. So the readers that number their rows give the locator,
and the text is made in SQL for the reported rows only (:func:`ref_text`), exactly
the text the reader used to write. Readers whose places are not a label and a number
(ids of database rows, Stripe mirror ids) keep giving the text.
"""

from __future__ import annotations

import pyarrow as pa

from billdrift.core.sql import sql

#: The type of a locator's labels: one string per read, an index per row.
LABEL = pa.dictionary(pa.int32(), pa.string())

#: The locator's number column, null for rows whose ``source_ref`` is the whole text.
NUMBER = "source_number"


def located(label: str, numbers: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
    """The ``source_ref`` and ``source_number`` columns of rows numbered `numbers`,
    every one read from `label` (``"billing.csv:line "``)."""
    count = len(numbers)
    indices = pa.repeat(pa.scalar(0, pa.int32()), count)
    labels = pa.DictionaryArray.from_arrays(indices, pa.array([label], pa.string()))
    return {"source_ref": labels, NUMBER: numbers.cast(pa.int64())}


def ref_text(alias: str) -> str:
    """SQL for the place of row `alias` as text, in either form: what a reader that
    writes text would have written. Portable (DuckDB, PostgreSQL, Spark, the
    warehouses): a CASE rather than ``concat``, whose NULL handling differs."""
    return sql(
        "CASE WHEN {row}.source_number IS NULL THEN {row}.source_ref "
        "ELSE {row}.source_ref || CAST({row}.source_number AS VARCHAR) END",
        row=alias,
    )


def text_places(schema: pa.Schema, quote: str = "") -> str:
    """The select list of a relation with `schema` defined over a target's own table
    (a warehouse's, a Spark catalog's): its places are text, ``source_number`` null,
    so a table laid out before the locator existed needs no new column."""
    return ", ".join(
        "CAST(NULL AS BIGINT) AS source_number" if name == NUMBER else f"{quote}{name}{quote}"
        for name in schema.names
    )


def canonical_refs(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly `schema`'s columns and types, a missing ``source_number``
    null (the text form), and a locator's dictionary-encoded labels kept as they are
    (cast to strings they would be written out once per row again). Any other missing
    column is the caller's to refuse or fill."""
    if NUMBER in schema.names and NUMBER not in table.column_names:
        table = table.append_column(NUMBER, pa.nulls(table.num_rows, pa.int64()))
    return table.select(schema.names).cast(ref_schema(schema, table))


def ref_schema(schema: pa.Schema, table: pa.Table) -> pa.Schema:
    """`schema`, with ``source_ref`` as `table` has it when that is dictionary-encoded."""
    if "source_ref" not in schema.names or "source_ref" not in table.column_names:
        return schema
    kind = table.schema.field("source_ref").type
    if not pa.types.is_dictionary(kind) or not pa.types.is_string(kind.value_type):
        return schema
    index = schema.get_field_index("source_ref")
    return schema.set(index, schema.field(index).with_type(kind))


def same_types(tables: list[pa.Table]) -> list[pa.Table]:
    """`tables` made concatenable: when their ``source_ref`` types differ (a CSV
    export's labels beside a JSON export's texts), the labels become plain strings;
    the forms themselves are unchanged."""
    kinds = {table.schema.field("source_ref").type for table in tables}
    if len(kinds) <= 1:
        return tables
    return [
        table.set_column(
            table.schema.get_field_index("source_ref"),
            "source_ref",
            table.column("source_ref").cast(pa.string()),
        )
        for table in tables
    ]
