"""Masking the engine's findings as columns: ``--mask`` on a million-account run (issue 17).

:func:`billdrift.outputs.mask.mask_report` masks finding objects one at a time: it
builds every finding (words included), re-renders each message and fix with its ids
and emails replaced, and walks each evidence. At 1M x 1M that added about 2 s to a
check's 2.5 s. A report from the engine holds its findings as columns
(:class:`~billdrift.core.found.Found`), so here the same masking is done on them:

* the id fields are mapped once per distinct id;
* message and fix are worded again from the declaration the engine worded them from,
  over each rule's reported rows with the columns the words name as ids and emails
  masked: a Ref of the words is exactly a value of such a column, so this gives what
  re-rendering the words gives. What looks like an email in the plain parts is masked
  as the words' plain parts are (in SQL by the same expression:
  :func:`~billdrift.outputs.email_mask.sql_mask_emails`). A rule with many rows is worded in SQL
  (:func:`~billdrift.core.rules.wording.to_sql`; a row SQL cannot word exactly is
  worded in Python, as the engine does), a rule with few in Python;
* the evidence is masked by key as for an object, and written back as text.

A rule whose words read one column both as an id or email and as plain text could not
be masked this way: the report's findings are then masked as objects
(:func:`maskable` is checked for every rule in ``tests/outputs/test_mask_found.py``).
The result is a :class:`Found` without parts, whose objects (for the text and HTML
reports) are made from its columns, with no words, as masked objects have none.

Ids named only in words or evidence are masked on first use, as for objects; the
order of first use differs between the two ways, so where two such ids share the
first digits of their keyed hash the digits each shows may differ between them
(each is still its own): the masked report is the same either way otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.found import Found, rows_of
from billdrift.core.rules.base import Rule
from billdrift.core.rules.wording import (
    Capital,
    Choice,
    Fields,
    Id,
    IdList,
    Joined,
    Quoted,
    Template,
    Text,
    When,
    to_sql,
    to_words,
)
from billdrift.core.words import Ref
from billdrift.infra import duck
from billdrift.outputs.email_mask import sql_mask_emails

if TYPE_CHECKING:
    from billdrift.outputs.mask import Masker

#: The findings' id fields.
_ID_FIELDS = ("account_id", "customer_id", "subscription_id")

#: A rule's rows are worded again in SQL from this many on (fewer: in Python, one row at
#: a time, cheaper than starting a database and planning a statement).
WORDED_IN_SQL_FROM = 1000

#: What a rule's words read a column as: an id, an email, ids in a list or in ", "-joined
#: text, or plain text (shown as it is).
_ID, _EMAIL, _ID_LIST, _ID_TEXT, _PLAIN = "id", "email", "id list", "id text", "plain"


def maskable(rule: Rule) -> bool:
    """Whether the rule's words read each column one way only (see the module doc)."""
    return _roles(rule) is not None


def mask_found(found: Found, masker: Masker) -> Found | None:
    """`found` masked as `masker` masks a finding, as columns; None when a rule's words
    cannot be masked so (the caller then masks the objects)."""
    if masker.mode == "none":
        return found
    if len(found) and not found.parts:
        return None  # columns alone, no rows to word again
    roles = [_roles(rule) for rule, _ in found.parts]
    if any(role is None for role in roles):
        return None
    table = found.table
    for name in _ID_FIELDS:
        column = _mapped(table.column(name), masker.field)
        table = table.set_column(table.column_names.index(name), name, column)
    message, fix = _words(found, masker, [role or {} for role in roles])
    evidence = [orjson.dumps(masker.evidence(value)).decode() for value in found.evidence()]
    for name, values in (("message", message), ("fix", fix), ("evidence", evidence)):
        column = pa.array(values, pa.string()) if isinstance(values, list) else values
        table = table.set_column(table.column_names.index(name), name, column)
    # the review notes are in the masked evidence now: the tracking adds them no more
    tracking = None if found.tracking is None else dataclasses.replace(found.tracking, notes={})
    return Found(table, (), tracking)


def _roles(rule: Rule) -> dict[str, str] | None:
    """Each column the rule's words read, by how; None when one is read two ways."""
    roles: dict[str, str] = {}
    for column, role in (*_parts(rule.message), *_parts(rule.fix)):
        if roles.setdefault(column, role) != role:
            return None
    return {column: role for column, role in roles.items() if role != _PLAIN}


def _parts(template: Template) -> Iterator[tuple[str, str]]:
    for part in template:
        if isinstance(part, Id):
            yield from ((column, _EMAIL if part.email else _ID) for column in part.columns)
        elif isinstance(part, IdList):
            yield part.column, _ID_TEXT if part.split else _ID_LIST
        elif isinstance(part, Text):
            yield from ((column, _PLAIN) for column in part.columns)
        elif isinstance(part, Capital):
            yield from ((column, _PLAIN) for column in part.text.columns)
        elif isinstance(part, Choice):
            yield part.column, _PLAIN
            for _, then in part.cases:
                yield from _parts(then)
            yield from _parts(part.default)
        elif isinstance(part, When):
            # only whether the value is empty matters, and masking keeps that
            yield from _parts(part.then)
            yield from _parts(part.otherwise)
        elif isinstance(part, Quoted | Joined | Fields):
            yield part.column, _PLAIN


def _words(found: Found, masker: Masker, roles: list[dict[str, str]]) -> tuple[pa.Array, pa.Array]:
    """Every finding's message and fix, worded over its rule's rows with the columns
    the words name as ids and emails masked, in report order."""
    messages: list[pa.Array] = []
    fixes: list[pa.Array] = []
    with ExitStack() as stack:
        con: duckdb.DuckDBPyConnection | None = None
        for (rule, rows), named in zip(found.parts, roles, strict=True):
            masked = _masked_rows(rows, named, masker)
            if masked.num_rows < WORDED_IN_SQL_FROM:
                rows_as_dicts = rows_of(masked)
                messages.append(_texts(rule.message, rows_as_dicts, masker))
                fixes.append(_texts(rule.fix, rows_as_dicts, masker))
                continue
            if con is None:  # a database only for a rule with many rows
                con = stack.enter_context(closing(duck.connect()))
            messages.append(_worded(con, masked, rule.message, masker))
            fixes.append(_worded(con, masked, rule.fix, masker))
    counts = [rows.num_rows for _, rows in found.parts]
    starts = pa.array([sum(counts[:index]) for index in range(len(counts))], pa.int64())
    at = pc.add(
        pc.take(starts, found.table.column("_part")), found.table.column("_row").cast(pa.int64())
    )
    return (
        pc.take(pa.concat_arrays(messages) if messages else pa.array([], pa.string()), at),
        pc.take(pa.concat_arrays(fixes) if fixes else pa.array([], pa.string()), at),
    )


def _masked_rows(rows: pa.Table, roles: dict[str, str], masker: Masker) -> pa.Table:
    """`rows` with each column the words name as ids or emails masked."""

    def each_id(text: str) -> str:
        return ", ".join(masker.id(one) for one in text.split(", "))

    show: dict[str, Callable[[str], str]] = {
        _ID: masker.id,
        _EMAIL: masker.email,
        _ID_TEXT: each_id,
        _ID_LIST: masker.id,
    }
    for name, role in roles.items():
        if name not in rows.column_names:
            continue
        column = rows.column(name)
        if role == _ID_LIST and pa.types.is_list(column.type):
            column = _mapped_items(column, show[role])
        elif pa.types.is_string(column.type) and role != _ID_LIST:
            column = _mapped(column, show[role])
        else:
            continue  # not text: the words show it as it is (a Ref is always text)
        rows = rows.set_column(rows.column_names.index(name), name, column)
    return rows


def _mapped(column: pa.ChunkedArray | pa.Array, show: Callable[[str], Any]) -> pa.Array:
    """`show` of each non-empty text of `column`, called once per distinct one; nulls and
    empty texts as they are (the words name no value there)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    distinct = pc.unique(column)
    shown = [value if not value else show(value) for value in distinct.to_pylist()]
    return pc.take(pa.array(shown, column.type), pc.index_in(column, value_set=distinct))


def _mapped_items(column: pa.ChunkedArray, show: Callable[[str], Any]) -> pa.Array:
    """A list column with `show` of each non-empty text item (see :func:`_mapped`)."""
    lists = column.combine_chunks()
    items = _mapped(lists.values, show)
    return type(lists).from_arrays(lists.offsets, items, type=lists.type, mask=lists.is_null())


def _texts(template: Template, rows: list[dict[str, Any]], masker: Masker) -> pa.Array:
    """The template's text for each of `rows` (their ids and emails masked already), with
    what looks like an email in the plain parts masked, as masking the words does."""
    return pa.array(
        [
            "".join(
                part.value if isinstance(part, Ref) else masker.text(part)
                for part in to_words(template, row)
            )
            for row in rows
        ],
        pa.string(),
    )


def _worded(
    con: duckdb.DuckDBPyConnection, rows: pa.Table, template: Template, masker: Masker
) -> pa.Array:
    """:func:`_texts` of every row, in SQL (emails in plain parts masked by
    :func:`~billdrift.outputs.mask.sql_mask_emails`); a row SQL leaves NULL (a text only
    Python gives exactly) worded in Python."""
    name = "billdrift_masked_rows"
    con.register(name, rows)
    try:
        expression = to_sql(template, frozenset(rows.column_names), name, plain=sql_mask_emails)
        texts = con.sql(f"SELECT {expression} AS text FROM {name}").to_arrow_table()
    finally:
        con.unregister(name)
    column = texts.column("text").combine_chunks()
    if not column.null_count:
        return column
    missing = pc.is_null(column)
    worded = _texts(template, rows_of(rows.filter(missing)), masker)
    return pc.replace_with_mask(column, missing, worded)
