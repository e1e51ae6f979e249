"""Rows of a Stripe mirror as canonical billing data, through the Stripe JSON parser.

Rows arrive in Arrow batches and each batch is turned into Arrow tables before the
next is read, so memory holds one batch of Python objects, not the whole mirror.

Each row becomes the Stripe subscription object it mirrors (the whole-object
column when there is one, completed by the field columns) and goes through the
same parser as a JSON export. A row that cannot be read is a Skip naming the
table and the subscription id, with its customer when that much can be told;
what could not be read in otherwise good rows (discounts given by id only,
truncated items, unreadable customer records) is counted for the notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from billdrift.core.model import BillingData, Skip
from billdrift.infra.db.interface import ReadOnlyConnection
from billdrift.sources.billing.common import (
    RecordError,
    StripeModes,
    customer_in_text,
    describe,
    items_table,
    object_id,
    skip,
    subscriptions_table,
)
from billdrift.sources.billing.stripe_json import parse_subscription
from billdrift.sources.billing.stripe_mirror_query import (
    CUSTOMER_OBJECT,
    DJ_STRIPE,
    EMAIL,
    OBJECT,
    MirrorQuery,
)


@dataclass
class _Counts:
    """What the notes report once the rows are read."""

    unexpanded: int = 0  # discounts given only by id
    foreign: int = 0  # amount-off coupons in another currency
    truncated: int = 0  # items lists cut off (has_more)
    bad_customers: int = 0  # customer rows whose email could not be read


def read_mirror(conn: ReadOnlyConnection, query: MirrorQuery, kind: str) -> BillingData:
    table = query.table.qualified
    database = conn.url.shown  # redacted: never the password
    name = f"{table} in {database}"
    # Each batch's rows become Arrow tables before the next batch is read: one batch of
    # Python dicts at a time, not a million (2.2 GB at 1,000,000 mirror rows before).
    sub_tables: list[pa.Table] = [subscriptions_table([])]
    item_tables: list[pa.Table] = [items_table([])]
    skips: list[Skip] = []
    counts = _Counts()
    modes = StripeModes()
    number = read = 0
    for batch in conn.stream(query.sql):
        subs: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        for row in batch.to_pylist():
            number += 1
            ident = _label_id(row.get("id"))
            record: dict[str, Any] | None = None
            try:
                record = _record(query, row)
                ident = ident or object_id(record.get("id"))
                ref = f"{table}:{ident or f'row {number}'}"
                sub, sub_items, discount, more = parse_subscription(record, ref)
            except RecordError as error:
                where = f"{table} id={ident}" if ident else f"{table} row {number}"
                customer = _customer_hint(query, row, record)
                skips.append(skip(database, where, error.reason, error.field, customer))
                continue
            if sub["customer_email"] is None:
                sub["customer_email"] = _email(query, row, counts)
            subs.append(sub)
            items.extend(sub_items)
            modes.count(record)
            counts.unexpanded += discount.unexpanded
            counts.foreign += discount.foreign
            counts.truncated += more
        sub_tables.append(subscriptions_table(subs))
        item_tables.append(items_table(items))
        read += len(subs)
    return BillingData(
        subscriptions=pa.concat_tables(sub_tables),
        items=pa.concat_tables(item_tables),
        skips=tuple(skips),
        description=describe(kind, name, read, len(skips), modes.mode),
        notes=tuple(_notes(query, counts) + modes.notes(table)),
    )


def _record(query: MirrorQuery, row: Mapping[str, Any]) -> dict[str, Any]:
    """The Stripe subscription object of one row: the whole-object column when there is
    one (it wins), completed by the field columns."""
    record: dict[str, Any] = {}
    column = query.object_column
    if column is not None:
        whole = _cell(row.get(OBJECT), column, is_json=True)
        if isinstance(whole, dict):
            record = whole
        elif whole is not None:
            raise RecordError(f"{column} holds a JSON {_json_type(whole)}, not an object", column)
        elif query.layout == DJ_STRIPE:  # the columns beside it say nothing of the state
            raise RecordError(f"{column} is empty (NULL)", column)
    for name, source in query.fields.items():
        value = _cell(row.get(name), source, is_json=name in query.json)
        if value is not None:
            record.setdefault(name, value)
    return record


def _cell(value: object, column: str, *, is_json: bool) -> object:
    """One value as the parser wants it: MySQL's bytes decoded, JSON text parsed."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"{column} is not valid UTF-8 text (byte {error.start})"
            raise RecordError(reason, column) from None
    if is_json and isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as error:
            raise RecordError(f"{column} is not valid JSON ({error})", column) from None
    return value


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def _label_id(value: object) -> str | None:
    """The subscription id column's value, for naming a row (never fails)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _customer_hint(
    query: MirrorQuery, row: Mapping[str, Any], record: dict[str, Any] | None
) -> str | None:
    """The customer of a row that could not be read, when that much can be told, so the
    rules hold back judgement on that customer."""
    if record is not None and (found := object_id(record.get("customer"))):
        return found
    if "customer" in query.fields and (found := _label_id(row.get("customer"))):
        return found
    whole = row.get(OBJECT)
    if isinstance(whole, bytes):
        whole = whole.decode("utf-8", errors="replace")
    return customer_in_text(whole) if isinstance(whole, str) else None


def _email(query: MirrorQuery, row: Mapping[str, Any], counts: _Counts) -> str | None:
    """The joined customer email; an unreadable one is counted for a note, not guessed."""
    if query.email is None:
        return None
    raw = row.get(EMAIL if query.email == "text" else CUSTOMER_OBJECT)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        value = orjson.loads(text).get("email") if query.email == "json" else text
    except (UnicodeDecodeError, orjson.JSONDecodeError, AttributeError):
        counts.bad_customers += 1
        return None
    return value.strip() or None if isinstance(value, str) else None


def _notes(query: MirrorQuery, counts: _Counts) -> list[str]:
    table = query.table.qualified
    notes = [f"{table}: {note}" for note in query.notes]
    if counts.unexpanded:
        notes.append(
            f"{table}: {counts.unexpanded} subscription(s) list discounts only by id, so "
            "their discount is unknown (left empty)"
        )
    if counts.foreign:
        notes.append(
            f"{table}: {counts.foreign} subscription(s) carry an amount-off coupon in another "
            "currency than the subscription; it was left out of discount_amount_off_minor"
        )
    if counts.truncated:
        notes.append(
            f"{table}: {counts.truncated} subscription(s) have more items than the mirrored "
            "items list holds (items.has_more); only the mirrored items were read"
        )
    if counts.bad_customers:
        notes.append(
            f"{table}: the customer record of {counts.bad_customers} subscription(s) in "
            f"{query.customers} could not be read, so their customer email is left empty"
        )
    return notes
