"""Helpers shared by the billing file sources.

Each file source turns provider records into rows of the canonical relations.
What they share lives here so that every source reads timestamps, decodes
files, names records and reports skips the same way: a user who learns how one
source words a problem has learnt them all.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from billdrift.core.bounds import Bound
from billdrift.core.instants import RANGE, InstantError, acceptable, from_unix
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, Skip
from billdrift.core.refs import ref_schema
from billdrift.errors import SourceError
from billdrift.infra.encodings import known_encoding
from billdrift.sources.csv.naming import Naming

#: Skip.side for everything read here.
SIDE = "billing"

_ISO_FRACTION = re.compile(r"(\.\d{6})\d+")


class RecordError(ValueError):
    """One record (or one of its fields) cannot be read; it becomes a Skip."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def display_name(location: str) -> str:
    """The short file name used in source_ref and Skip.source."""
    return Path(location).name or location


def skip(
    source: str,
    location: str,
    reason: str,
    field: str | None = None,
    customer_id: str | None = None,
) -> Skip:
    """A billing-side Skip; `customer_id` whenever it could still be read, so the rules
    hold back judgement on that customer instead of reporting a false orphan."""
    return Skip(SIDE, source, location, reason, field, customer_id)


_CUSTOMER_IN_TEXT = re.compile(r'"customer(?:_id)?"\s*:\s*"((?:cus|ctm)_[^"]+)"')


def customer_in_text(text: str) -> str | None:
    """A customer id spotted in raw text that could not be parsed (best effort)."""
    found = _CUSTOMER_IN_TEXT.search(text)
    return found.group(1) if found else None


def describe(kind: str, name: str, rows: int, skipped: int, mode: str | None = None) -> str:
    """One line saying what was read, e.g. ``stripe-json subs.json: 120 subscriptions``,
    ending ``(test mode)`` or ``(live mode)`` when the data says which (`mode`): dashboard
    links are built from that (billdrift.outputs.links.mode_of)."""
    noun = "subscription" if rows == 1 else "subscriptions"
    text = f"{kind} {name}: {rows} {noun}"
    text = f"{text}, {skipped} skipped" if skipped else text
    return f"{text} ({mode})" if mode else text


@dataclass
class StripeModes:
    """How many subscriptions read said ``"livemode": true`` and how many false.

    Stripe puts ``livemode`` on every object; a JSON export or a mirror keeps it, and
    it is the only way to know that a file's customers live in the dashboard's test
    mode (its links then go to ``/test/``). Absent everywhere, the mode is unknown.
    """

    live: int = 0
    test: int = 0

    def count(self, record: Mapping[str, Any]) -> None:
        value = record.get("livemode")
        if value is True:
            self.live += 1
        elif value is False:
            self.test += 1

    @property
    def mode(self) -> str | None:
        """ "live mode" or "test mode" when every subscription that says agrees, else None."""
        if self.test and not self.live:
            return "test mode"
        if self.live and not self.test:
            return "live mode"
        return None

    def notes(self, name: str) -> list[str]:
        if not (self.live and self.test):
            return []
        return [
            f"{name} holds {self.live} live-mode and {self.test} test-mode subscription(s); "
            "dashboard links use the live form (test-mode customers open from the "
            "dashboard's test-mode toggle)"
        ]


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; a bad `billing.encoding` is a SourceError, not a crash."""
    try:
        return codecs.lookup(known_encoding(encoding)).name
    except (LookupError, ValueError):
        raise SourceError(
            f"unknown text encoding {encoding!r} in billing.encoding "
            '(try "utf-8", "latin-1" or "cp1252")'
        ) from None


def encoding_hint(location: str, encoding: str, detail: str) -> str:
    """The message for a file that does not decode, with the setting that fixes it
    (worded as for CSV files on either side)."""
    return Naming("billing", location, encoding).undecodable(detail)


def read_text(location: str, encoding: str) -> str:
    """Whole file as text, a UTF-8 byte order mark removed; undecodable -> SourceError."""
    codec = check_encoding(encoding)
    try:
        data = Path(location).read_bytes()
    except FileNotFoundError:
        raise SourceError(f"billing file not found: {location}") from None
    except IsADirectoryError:
        raise SourceError(f"billing input {location} is a directory; expected a file") from None
    except OSError as error:
        raise SourceError(f"cannot read billing file {location}: {error.strerror}") from None
    if codec == "utf-8":
        codec = "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        detail = f"line {line}: byte 0x{data[error.start]:02x} cannot be decoded"
        raise SourceError(encoding_hint(location, encoding, detail)) from None


def parse_timestamp(value: object) -> datetime | None:
    """A UTC datetime from unix seconds (Stripe) or ISO 8601 text (Paddle); None stays None.

    Naive ISO text is taken as UTC: both providers only ever emit UTC, and a
    guess about local time would shift every period end by hours. Only
    acceptable instants pass (:mod:`billdrift.core.instants`): ``Infinity``,
    year 10000 or an offset of +99:00 raise ValueError like any other non-date.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        return from_unix(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.isascii() and text.isdigit():
            if len(text) > _UNIX_DIGITS:
                raise InstantError(f"unix timestamp {shown_value(text)} is outside {RANGE}")
            return from_unix(int(text))
        try:
            parsed = datetime.fromisoformat(_ISO_FRACTION.sub(r"\1", text))
        except ValueError:
            raise ValueError(f"expected an ISO 8601 timestamp, got {shown_value(value)}") from None
        return acceptable(parsed)
    raise ValueError(f"expected a timestamp, got {type(value).__name__} {shown_value(value)}")


#: More digits than any acceptable unix timestamp has (12): not converted to an int at all.
_UNIX_DIGITS = 20


def shown_value(value: object, limit: int = 80) -> str:
    """`value`'s repr, cut short: a fuzzed or corrupt field can be megabytes long."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def timestamp_field(
    record: Mapping[str, Any], key: str, label: str | None = None
) -> datetime | None:
    """`record[key]` as a timestamp; a bad value raises RecordError naming the field."""
    try:
        return parse_timestamp(record.get(key))
    except ValueError as error:
        raise RecordError(str(error), label or key) from None


def text_field(record: Mapping[str, Any], key: str, label: str | None = None) -> str | None:
    """A string field, stripped; empty is None; a number is accepted as its text."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise RecordError(f"expected text, got {type(value).__name__}", label or key)


def int_field(value: object, label: str, bound: Bound, *, text_ok: bool = False) -> int | None:
    """An integer amount or count within `bound`; integral floats pass, fractions, junk
    and values out of bounds (:mod:`billdrift.core.bounds`) raise RecordError.

    `text_ok` admits digit strings, which is how Paddle sends amounts.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordError(f"expected an integer, got {value!r}", label)
    number: int | float | None = None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        number = value
    elif text_ok and isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INTEGER_TEXT.fullmatch(text):
            # Past 20 digits no bound holds it; int() of 5,000 digits even raises.
            number = int(text) if len(text) <= _INTEGER_DIGITS else math.inf
    if number is None:
        raise RecordError(f"expected a whole number (minor units), got {shown_value(value)}", label)
    if not bound.holds(number):
        raise RecordError(bound.problem(value), label)
    return int(number)


_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_INTEGER_DIGITS = 20


def bool_field(record: Mapping[str, Any], key: str) -> bool | None:
    value = record.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(f"expected true or false, got {shown_value(value)}", key)


def as_object(value: object) -> dict[str, Any] | None:
    """`value` when it is a JSON object, else None (for optional nested objects)."""
    return value if isinstance(value, dict) else None


def object_id(value: object) -> str | None:
    """An id given either as a string or as an expanded object with an ``id``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        inner = value.get("id")
        return inner.strip() or None if isinstance(inner, str) else None
    return None


def lower(value: str | None) -> str | None:
    return value.strip().lower() or None if value is not None else None


# --------------------------------------------------------------------------- JSON


def looks_like_json(head: bytes) -> bool:
    """The first bytes open a JSON object or array (a byte order mark allowed)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


@dataclass
class JsonRecords:
    """Every candidate record in a JSON file, in file order, with where it came from.

    `containers` are the top-level objects (list objects, pages) the records were
    found in, so a source can pick up side data such as a ``customers`` list.
    """

    records: list[tuple[str, object]] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)
    #: (location, reason, customer id if one could be spotted) of unreadable parts.
    skips: list[tuple[str, str, str | None]] = field(default_factory=list)


def load_json_records(location: str, encoding: str, expected: str) -> JsonRecords:
    """Read a JSON document, a JSON array or JSON Lines into candidate records.

    Accepted shapes: an object with a ``data`` array (Stripe list object, Paddle
    page), a plain array, a single record object, or JSON Lines where each line
    is a record or a page. A document that is none of these raises SourceError
    naming the file and `expected`; a single bad line of a JSON Lines file is
    only a skip, because a log-style export that was cut short is still useful.
    """
    text = read_text(location, encoding)
    if not text.strip():
        raise SourceError(f"billing file {location} is empty; expected {expected}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return _json_lines(location, text, expected, error)
    except (ValueError, RecursionError) as error:
        raise SourceError(
            f"billing file {location} {_unreadable_json(error)}; expected {expected}"
        ) from None
    found = JsonRecords()
    _collect(document, "", found, location, expected, top=True)
    return found


def _json_lines(
    location: str, text: str, expected: str, whole: json.JSONDecodeError
) -> JsonRecords:
    found = JsonRecords()
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    first = lines[0][1] if lines else ""
    if not _is_json(first):
        raise SourceError(
            f"billing file {location} is not valid JSON (line {whole.lineno} column "
            f"{whole.colno}: {whole.msg}); expected {expected}"
        )
    for number, line in lines:
        where = f"line {number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            reason = f"not valid JSON ({error.msg} at column {error.colno})"
            found.skips.append((where, reason, customer_in_text(line)))
            continue
        except (ValueError, RecursionError) as error:
            found.skips.append((where, _unreadable_json(error), customer_in_text(line)))
            continue
        _collect(value, f"{where} ", found, location, expected, top=False)
    return found


def _is_json(text: str) -> bool:
    """`text` is JSON, even JSON too deep or with numbers too long to read."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    except (ValueError, RecursionError):
        return True
    return True


def _unreadable_json(error: ValueError | RecursionError) -> str:
    """Why valid JSON could not be read: Python's parser refuses integers of thousands
    of digits and nesting deeper than its recursion limit."""
    if isinstance(error, RecursionError):
        return "holds JSON nested too deeply to read (arrays or objects nested about 1,000 levels)"
    return "holds a number with too many digits to read (over 4,300)"


def _collect(
    value: object, prefix: str, found: JsonRecords, location: str, expected: str, *, top: bool
) -> None:
    if isinstance(value, list):
        if not top:
            found.skips.append((prefix.strip(), "a JSON array where an object was expected", None))
            return
        found.records.extend((f"[{index}]", item) for index, item in enumerate(value))
        return
    if isinstance(value, dict):
        data = value.get("data")
        if isinstance(data, list):
            found.containers.append(value)
            found.records.extend(
                (f"{prefix}data[{index}]", item) for index, item in enumerate(data)
            )
            return
        if "data" in value and top:
            raise SourceError(
                f"billing file {location}: 'data' is {type(data).__name__}, not an array; "
                f"expected {expected}"
            )
        if top and "id" not in value:
            keys = ", ".join(sorted(value)[:8]) or "none"
            raise SourceError(
                f"billing file {location} is a JSON object without a 'data' array "
                f"(keys: {keys}); expected {expected}"
            )
        found.records.append((prefix.strip() or "record", value))
        return
    if top:
        raise SourceError(
            f"billing file {location} holds a JSON {type(value).__name__}; expected {expected}"
        )
    found.skips.append((prefix.strip(), f"a JSON {type(value).__name__}, not an object", None))


def iter_objects(found: JsonRecords) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Records in order; non-objects come back as None so the caller can skip them."""
    for location, record in found.records:
        yield location, record if isinstance(record, dict) else None


# --------------------------------------------------------------------------- Arrow


def subscriptions_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (dicts keyed by canonical column) as a BILLING_SUBSCRIPTIONS table."""
    return pa.Table.from_pylist(rows, schema=BILLING_SUBSCRIPTIONS)


def items_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=BILLING_ITEMS)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly `schema`'s columns, in order and types (missing ones null).

    Missing columns of one type share one all-null array: an export without five
    of the timestamps would otherwise allocate five identical zeroed buffers.
    """
    schema = ref_schema(schema, table)  # a locator's labels stay dictionary-encoded
    columns = []
    nulls: dict[pa.DataType, pa.Array] = {}
    for target in schema:
        if target.name in table.column_names:
            columns.append(table.column(target.name).cast(target.type))
        else:
            if target.type not in nulls:
                nulls[target.type] = pa.nulls(table.num_rows, target.type)
            columns.append(nulls[target.type])
    return pa.Table.from_arrays(columns, schema=schema)
