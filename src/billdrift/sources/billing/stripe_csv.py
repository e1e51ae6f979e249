"""Stripe-style subscriptions CSV exports (the Dashboard export and similar tools).

Exports run to millions of rows, so nothing here loops over rows in Python:
DuckDB reads the file (every column as text), parses and validates each value
in SQL and hands back Arrow; labels with few distinct values (status, currency,
interval, plan) are normalised once per distinct value through Arrow
dictionaries. Python only looks at the few rows that failed.

Reading rules:

* headers match case-insensitively, ignoring surrounding spaces, ``_`` versus
  space and a trailing ``(UTC)``; ``<key> (metadata)`` columns are ignored;
* a row DuckDB cannot split into the header's columns (too many or too few
  fields, an unterminated quote) is a Skip at its physical line; so is a row
  whose date, amount, quantity, interval or Cancel At Period End value does not
  parse, or whose subscription id is empty. Unknown statuses pass through
  lower-cased: deciding what they mean is the rules' job;
* ``Amount`` is the unit price. Its units (major "79.00" or minor "7900") follow
  ``billing.amount_units``; in ``auto`` mode the choice and its reason are
  always written to the notes;
* ``Plan`` holding a ``price_``/``plan_`` id is a price id, anything else is a
  plan nickname;
* line numbers (in skips and ``source_ref``) are physical lines of the file,
  the header being line 1, even after rejected rows, line breaks inside quoted
  values or blank lines. A count of the file's line breaks (taken while DuckDB
  parses) tells whether records and lines line up; only when they do not is
  the file walked a second time to find where each record starts.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.config import BillingConfig
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, BillingData, Skip
from billdrift.errors import SourceError
from billdrift.infra import duck
from billdrift.infra.ordinals import ordinals
from billdrift.sources.billing.amounts import unit_amounts
from billdrift.sources.billing.common import (
    check_encoding,
    conform,
    describe,
    display_name,
    encoding_hint,
    looks_like_json,
    skip,
)
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.labels import LABELS, canonical_labels
from billdrift.sources.csv.endings import lf_only_copy, stray_return_message
from billdrift.sources.csv.padding import padded
from billdrift.sources.csv.plain import Layout, read_plain

#: Canonical role -> header names (normalised: lower case, single spaces, no "(utc)").
ALIASES: dict[str, tuple[str, ...]] = {
    # "Subscription ID" first: other tools put their own row id in an "id" column.
    "subscription_id": ("subscription id", "id", "subscription"),
    "customer_id": ("customer id", "customer"),
    "customer_email": ("customer email", "email"),
    "status": ("status", "subscription status"),
    "plan": ("plan", "plan id", "price id"),
    "product": ("product", "product id"),
    "quantity": ("quantity",),
    "currency": ("currency",),
    "interval": ("interval", "billing interval", "plan interval"),
    "interval_count": ("interval count",),
    "amount": ("amount", "unit amount", "plan amount"),
    # Stripe's start date is the creation date unless backdated: only used without Created.
    "created": ("created", "created at", "start", "start date"),
    "current_period_start": ("current period start",),
    "current_period_end": ("current period end",),
    "trial_end": ("trial end",),
    "canceled_at": ("canceled at", "cancelled at"),
    "ended_at": ("ended at",),
    "cancel_at": ("cancel at",),
    "cancel_at_period_end": ("cancel at period end",),
}
REQUIRED = ("subscription_id", "customer_id", "status")
TIMESTAMPS = (
    "created",
    "current_period_start",
    "current_period_end",
    "trial_end",
    "canceled_at",
    "ended_at",
    "cancel_at",
)
#: Encodings DuckDB decodes itself; anything else is transcoded to UTF-8 first.
_NATIVE = {"utf-8": "utf-8", "iso8859-1": "latin-1"}
_HEAD_BYTES = 1 << 20
_DELIMITERS = (",", ";", "\t")


def normalise(header: str) -> str:
    text = " ".join(header.replace("\ufeff", "").replace("_", " ").lower().split())
    return re.sub(r"\s*\(utc\)$", "", text)


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]  # as written in the file
    delimiter: str
    lines: int  # physical lines the header takes (1 unless a name holds a line break)
    roles: dict[str, int]  # canonical role -> column index
    #: Some id or email carries surrounding spaces ("sub_1, cus_1"), so text is
    #: trimmed. Decided over every value once the file is scanned (see
    #: padding.padded): trimming every value costs real time.
    padded: bool = False
    #: A quote character in the first megabyte: Arrow's plain-file path is not tried.
    quoted: bool = False

    def label(self, role: str) -> str:
        return self.names[self.roles[role]].strip()


def parse_header(head: str) -> Header:
    """The first record of the file (names, delimiter, roles), judged with a few rows after it."""
    first_line = head.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    rows = csv.reader(io.StringIO(head), delimiter=delimiter)
    try:
        names = next(rows, [])
    except csv.Error:  # a stray carriage return: the header line as it stands
        names = first_line.rstrip("\r").split(delimiter)
    normalised = [normalise(name) for name in names]
    roles: dict[str, int] = {}
    for role, aliases in ALIASES.items():
        found = next((alias for alias in aliases if alias in normalised), None)
        if found is not None:
            roles[role] = normalised.index(found)
    lines = 1 + sum(name.count("\n") for name in names)
    return Header(tuple(names), delimiter, lines, roles, quoted='"' in head)


class StripeCsvSource(BillingSource):
    kind = "stripe-csv"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        """A CSV whose header has a subscription id column and a status or customer column."""
        if looks_like_json(head):
            return False
        header = parse_header(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
        roles = header.roles
        return "subscription_id" in roles and ("status" in roles or "customer_id" in roles)

    def read(self) -> BillingData:
        codec = check_encoding(self.options.encoding)
        header = self._header(codec)
        missing = [role for role in REQUIRED if role not in header.roles]
        if missing:
            raise SourceError(_missing_message(self.location, header, missing))
        with _duckdb_readable(self.location, self.options.encoding, codec) as (path, encoding):
            try:
                return _read(path, encoding, header, self.location, self.options, self.kind)
            except _StrayReturn:
                pass
            return self._read_lf_only(Path(path), encoding, header)

    def _read_lf_only(self, path: Path, encoding: str, header: Header) -> BillingData:
        """Mixed CRLF/LF endings (a file edited by hand) read as LF, with a note; a
        carriage return that ends no line is named by its line."""
        name = display_name(self.location)
        with tempfile.TemporaryDirectory(prefix="billdrift-") as tmp:
            fixed = lf_only_copy(path, Path(tmp) / "lf.csv", lone_cr=False)
            try:
                data = _read(str(fixed), encoding, header, self.location, self.options, self.kind)
            except _StrayReturn as again:
                message = stray_return_message(fixed, f"billing file {self.location}")
                raise SourceError(
                    message or f"cannot read billing file {self.location}: {again}"
                ) from None
        note = f"{name}: mixed CRLF/LF line endings were read as LF"
        return dataclasses.replace(data, notes=(*data.notes, note))

    def _header(self, codec: str) -> Header:
        try:
            with open(self.location, "rb") as handle:
                head = handle.read(_HEAD_BYTES)
        except FileNotFoundError:
            raise SourceError(f"billing file not found: {self.location}") from None
        except OSError as error:
            raise SourceError(f"cannot read billing file {self.location}: {error}") from None
        if codec == "utf-8" and head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        if not head.strip():
            raise SourceError(
                f"billing file {self.location} is empty; expected a subscriptions CSV export "
                "with a header row"
            )
        text = head.decode(codec, errors="replace")
        header = parse_header(text)
        if any("\ufffd" in name for name in header.names):
            raise SourceError(
                encoding_hint(self.location, self.options.encoding, "line 1: the header")
            )
        return header


def _missing_message(location: str, header: Header, missing: list[str]) -> str:
    wanted = "; ".join(
        f"{role.replace('_', ' ')} (one of {', '.join(repr(a) for a in ALIASES[role])})"
        for role in missing
    )
    found = ", ".join(repr(name) for name in header.names) or "none"
    return (
        f"billing file {location} is not a subscriptions export billdrift can read: missing "
        f"{wanted}. Headers found: {found}. Expected a Stripe Dashboard subscriptions export "
        "(id, Customer ID, Status, ...) or a similar export with Subscription ID, Customer ID "
        "and Status columns"
    )


@contextmanager
def _duckdb_readable(location: str, configured: str, codec: str) -> Iterator[tuple[str, str]]:
    """The file and the encoding name DuckDB should read it with.

    DuckDB decodes UTF-8 and Latin-1 itself; any other configured encoding is
    transcoded to a temporary UTF-8 copy first (streaming, in C).
    """
    if codec in _NATIVE:
        yield location, _NATIVE[codec]
        return
    with tempfile.TemporaryDirectory(prefix="billdrift-") as tmp:
        target = Path(tmp) / "utf8.csv"
        try:
            with (
                open(location, encoding=codec, newline="") as source,
                open(target, "w", encoding="utf-8", newline="") as sink,
            ):
                shutil.copyfileobj(source, sink, 1 << 20)
        except UnicodeDecodeError as error:
            raise SourceError(encoding_hint(location, configured, str(error.reason))) from None
        yield str(target), "utf-8"


# --------------------------------------------------------------------------- SQL
#
# Written for speed as much as clarity: every function call below runs a
# million times on a big export, so text is only trimmed when the file needs
# it (see Header.padded), labels are left to canonical_labels(), timestamps take the
# cheap naive cast unless the text is long enough to carry an offset, and the
# failure conditions test NULLs first so the costlier checks only run on the
# few rows that failed.

#: Roles whose text is kept as text (ids, names); the rest is parsed and checked.
_TEXT_ROLES = frozenset(
    {"subscription_id", "customer_id", "customer_email", "status", "plan", "product", "currency"}
)


def _scan(path: str, encoding: str, header: Header, rejects: str) -> str:
    """DuckDB's CSV reader with nothing left to guess: names, types and dialect are given."""
    columns = ", ".join(f"'c{index}': 'VARCHAR'" for index in range(len(header.names)))
    literal = path.replace("'", "''")
    delim = header.delimiter.replace("'", "''")
    return (
        f"read_csv('{literal}', header = true, auto_detect = false, columns = {{{columns}}}, "
        f"delim = '{delim}', quote = '\"', escape = '\"', encoding = '{encoding}', "
        f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{rejects}_scan')"
    )


@dataclass(frozen=True)
class _Query:
    """The parsing SQL of a read and what its results mean."""

    parse: str  # over the scan: typed columns, `_bad` and the record ordinal `_k`
    checked: tuple[str, ...]  # the role each `_bad` code names
    #: Output column -> scanned column taken as is (unpadded text needs no work in
    #: SQL, and copying a text column through DuckDB and back costs real time).
    passthrough: dict[str, str]


def _scan_select(path: str, encoding: str, header: Header, rejects: str) -> str:
    """The bare CSV scan: raw text columns c<i> of the roles, in record order.

    It runs first and each record gets its ordinal `_k` before any expression
    runs: DuckDB 2.0 can reorder a parallel CSV scan under a projection of
    expressions, and row k must stay record k (line numbers).
    """
    columns = sorted(set(header.roles.values()))
    return (
        f"SELECT {', '.join(f'c{index}' for index in columns)} "
        f"FROM {_scan(path, encoding, header, rejects)}"
    )


def _build_query(header: Header) -> _Query:
    """One streaming SELECT over the scan (`scanned_rows`): raw text -> typed
    columns, plus what failed on each row.

    Two layers so each value is parsed once: ``r_*`` raw text and ``p_*``
    parsed values. ``_bad`` is NULL on good rows, else ``"<i>|<text>"`` for the
    first failed check (i indexes the returned roles).
    """
    roles = header.roles
    raw = [
        f"NULLIF(TRIM(c{index}), '') AS r_{role}"
        if role in _TEXT_ROLES and header.padded
        else f"c{index} AS r_{role}"
        for role, index in roles.items()
    ]
    texts, outputs, checks = _outputs(header)
    passthrough: dict[str, str] = {}
    if header.padded:
        outputs = [f"r_{role} AS {name}" for name, role in texts.items()] + outputs
    else:
        passthrough = {name: f"c{roles[role]}" for name, role in texts.items()}
    # "<check index>|<raw text>" for the first failed check; THEN runs only on failed rows.
    bad = " ".join(
        f"WHEN {condition} THEN '{code}|' || coalesce(r_{role}, '')"
        for code, (role, condition) in enumerate(checks)
    )
    query = (
        f"WITH raw AS (SELECT {', '.join(raw)}, _k FROM scanned_rows), "
        f"parsed AS (SELECT *{''.join(', ' + item for item in _parsed(roles))} FROM raw) "
        f"SELECT {''.join(item + ', ' for item in outputs)}CASE {bad} END AS _bad, _k FROM parsed"
    )
    return _Query(query, tuple(role for role, _ in checks), passthrough)


def _plain_scan(
    path: str, encoding: str, header: Header, layout: Future[Layout]
) -> pa.Table | None:
    """The scan's columns read by Arrow when the file is plain (see
    :mod:`billdrift.sources.csv.plain`), else None: DuckDB scans it."""
    if encoding != "utf-8" or header.quoted:
        return None
    columns = sorted(set(header.roles.values()))
    return read_plain(path, header.delimiter, len(header.names), columns, layout.result)


#: Text kept as read unless padded; labels are stripped per distinct value anyway.
_PADDABLE = ("subscription_id", "customer_id", "customer_email")


def _exactly_padded(header: Header, scanned: pa.Table) -> Header:
    """`header` with `padded` decided over every id and email of the scanned file."""
    roles = header.roles
    found = any(padded(scanned.column(f"c{roles[role]}")) for role in _PADDABLE if role in roles)
    return dataclasses.replace(header, padded=found)


def _timestamp(raw: str) -> str:
    """Naive cast for plain ``2024-05-01 12:00``; the offset-aware one for longer text."""
    return (
        f"CASE WHEN strlen({raw}) > 19 THEN TRY_CAST({raw} AS TIMESTAMPTZ)::TIMESTAMP "
        f"ELSE TRY_CAST({raw} AS TIMESTAMP) END"
    )


def _parsed(roles: dict[str, int]) -> list[str]:
    parsed = [f"{_timestamp('r_' + role)} AS p_{role}" for role in TIMESTAMPS if role in roles]
    if "cancel_at_period_end" in roles:
        parsed.append(
            "TRY_CAST(lower(trim(r_cancel_at_period_end)) AS BOOLEAN) AS p_cancel_at_period_end"
        )
    for role in ("quantity", "interval_count"):
        if role in roles:  # TRY_CAST alone would round "1.5" to 2
            parsed.append(
                f"CASE WHEN NOT contains(r_{role}, '.') THEN TRY_CAST(r_{role} AS BIGINT) END "
                f"AS p_{role}"
            )
    if "amount" in roles:
        parsed.append("TRY_CAST(r_amount AS DOUBLE) AS p_amount")
    return parsed


def _failed(role: str, extra: str = "") -> str:
    """Text was given (not just spaces) but did not parse."""
    return f"r_{role} IS NOT NULL AND (p_{role} IS NULL{extra}) AND trim(r_{role}) <> ''"


def _outputs(
    header: Header,
) -> tuple[dict[str, str], list[str], list[tuple[str, str]]]:
    """Text outputs (name -> role, kept as read), parsed output expressions, and
    (role, failure condition) pairs in column order.

    Labels (status, currency, interval, plan, product) leave as raw text: they
    have few distinct values, so canonical_labels() normalises each distinct value once
    instead of DuckDB doing it per row.
    """
    roles = header.roles
    texts = {"subscription_id": "subscription_id", "customer_id": "customer_id"}
    texts |= {f"_{role}": role for role in LABELS if role in roles}
    # `< '!'` is a cheap prefix test for text starting with a space or tab.
    blank_id = "r_subscription_id < '!' AND trim(r_subscription_id) = ''"
    checks = [("subscription_id", f"r_subscription_id IS NULL OR ({blank_id})")]
    if "customer_email" in roles:
        texts["customer_email"] = "customer_email"
    out: list[str] = []
    for role in (*TIMESTAMPS, "cancel_at_period_end"):
        if role in roles:
            out.append(f"p_{role} AS {role}")
            checks.append((role, _failed(role)))
    if "quantity" in roles:
        out.append("coalesce(p_quantity, 1) AS quantity")
        checks.append(("quantity", _failed("quantity", " OR p_quantity < 0")))
    else:
        out.append("1::BIGINT AS quantity")
    if "interval_count" in roles:
        out.append("coalesce(p_interval_count, 1) AS interval_count")
        checks.append(("interval_count", _failed("interval_count", " OR p_interval_count < 1")))
    else:
        out.append("1::BIGINT AS interval_count")
    if "amount" in roles:
        # Converted to minor units afterwards, once the units of the whole file are known.
        out += [
            "p_amount AS _amount",
            "CASE WHEN p_amount IS NOT NULL THEN contains(r_amount, '.') END AS _amount_dot",
        ]
        checks.append(("amount", _failed("amount", " OR NOT isfinite(p_amount)")))
    return texts, out, checks


# --------------------------------------------------------------------------- reading


class _StrayReturn(Exception):
    """DuckDB's strict parser met a carriage return that ends no line (or mixed
    CRLF/LF endings); :meth:`StripeCsvSource.read` handles it."""


@dataclass(frozen=True)
class _Reject:
    """A row DuckDB could not split into the header's columns."""

    record: int  # DuckDB's number: header = 1, then records and blank lines
    span: int  # physical lines the raw row covers
    reason: str
    customer_id: str | None  # when the raw row still shows one where it belongs


def _read(
    path: str, encoding: str, header: Header, location: str, options: BillingConfig, kind: str
) -> BillingData:
    """Run the query, place every row on its line, pick amount units, split off skips.

    `path` is what DuckDB reads (a UTF-8 copy for transcoded files), `location`
    what the user named, for messages.
    """
    name = display_name(location)
    rejects_table = f"billdrift_rejects_{uuid.uuid4().hex}"
    con = duck.connect()
    try:
        con.sql("SET TimeZone = 'UTC'")
        con.sql("SET preserve_insertion_order = true")  # result row k = data record k
        with ThreadPoolExecutor(1) as pool:
            # Counting the file's line breaks runs while the file is parsed (Arrow and
            # DuckDB both release the GIL).
            layout = pool.submit(Layout.of, path)
            try:
                scanned = _plain_scan(path, encoding, header, layout)
                plain = scanned is not None
                if scanned is None:
                    scan = _scan_select(path, encoding, header, rejects_table)
                    scanned = con.sql(scan).to_arrow_table()
                header = _exactly_padded(header, scanned)
                query = _build_query(header)
                ordinal = ordinals(scanned.num_rows)
                con.register("scanned_rows", scanned.append_column("_k", ordinal))
                table = con.sql(query.parse).to_arrow_table()
                if not pc.all(pc.equal(table.column("_k"), ordinal)).as_py():
                    table = table.sort_by("_k")
                table = table.drop_columns(["_k"])
                for output, column in query.passthrough.items():  # row k is record k in both
                    table = table.append_column(output, scanned.column(column))
                rejects = [] if plain else _rejects(con, rejects_table, location, options, header)
            except duckdb.Error as error:
                if "invalid state" in str(error):
                    raise _StrayReturn(str(error)) from None
                raise SourceError(f"cannot read billing file {location}: {error}") from None
            lines, reject_lines = _line_numbers(
                path, layout.result(), header.lines, table.num_rows, rejects
            )
        refs = _source_refs(con, name, header.lines + 1, table.num_rows, lines)
    finally:
        con.close()
    table = canonical_labels(
        table.append_column("source_ref", refs),
        header.roles,
        "plan" in header.roles and normalise(header.label("plan")) in ("plan id", "price id"),
        "product" in header.roles and normalise(header.label("product")) == "product id",
    )
    skips = [
        skip(name, f"line {line}", reject.reason, customer_id=reject.customer_id)
        for reject, line in zip(rejects, reject_lines, strict=True)
    ]
    label = header.label("amount") if "amount" in header.roles else None
    amounts, misfit, note = unit_amounts(table, label, options, name)
    table = table.append_column("unit_amount_minor", amounts).append_column("_misfit", misfit)
    bad = pc.or_(pc.is_valid(table.column("_bad")), table.column("_bad_interval"))
    bad = pc.or_(bad, misfit)
    if pc.any(bad).as_py():
        skips += _value_skips(table, bad, header, query.checked, name)
        table = table.filter(pc.invert(bad))
    skips.sort(key=lambda item: int(item.location.split()[-1]))
    table = table.append_column("provider", pa.repeat(_provider(table), table.num_rows))
    return BillingData(
        subscriptions=conform(table, BILLING_SUBSCRIPTIONS),
        items=conform(table, BILLING_ITEMS),
        skips=tuple(skips),
        description=describe(kind, name, table.num_rows, len(skips)),
        notes=(note,) if note else (),
    )


def _rejects(
    con: duckdb.DuckDBPyConnection,
    table: str,
    location: str,
    options: BillingConfig,
    header: Header,
) -> list[_Reject]:
    """Rows DuckDB rejected, one per record; undecodable text stops the read instead."""
    rows = con.sql(
        f"SELECT line, any_value(error_type::VARCHAR), "
        f"any_value(error_message), any_value(csv_line) FROM {table} GROUP BY line ORDER BY line"
    ).fetchall()
    found = []
    for record, error_type, message, raw in rows:
        if error_type == "INVALID ENCODING":
            detail = f"around line {record}: bytes that are not {options.encoding}"
            raise SourceError(encoding_hint(location, options.encoding, detail))
        span = 1 + (raw or "").strip("\r\n").count("\n")  # DuckDB may prepend blank lines
        reason = f"{str(error_type).lower()}: {message}"
        if error_type == "UNQUOTED VALUE" and span > 1:
            reason += f" (the rest of the file, {span} lines, could not be read)"
        found.append(_Reject(int(record), span, reason, _customer_in_row(raw or "", header)))
    return found


def _customer_in_row(raw: str, header: Header) -> str | None:
    """The customer id of a broken row, if its customer column still holds one.

    Best effort: with a missing or surplus field the columns may have shifted,
    so only a value that looks like a customer id (cus_/ctm_) is trusted.
    """
    fields = next(csv.reader(io.StringIO(raw), delimiter=header.delimiter), [])
    index = header.roles["customer_id"]
    value = fields[index].strip() if index < len(fields) else ""
    return value if value.startswith(("cus_", "ctm_")) else None


def _line_numbers(
    path: str, layout: Layout, header_lines: int, count: int, rejects: list[_Reject]
) -> tuple[pa.Array | None, list[int]]:
    """Physical line of every result row (None: simply row + header + 1) and of each reject.

    When the file has exactly one line per record, DuckDB's record numbers are
    line numbers and only rejected rows shift the good ones. Otherwise (line
    breaks inside quoted values, blank lines) the file is walked once more to
    find where each record starts; that is the rare case.
    """
    if layout.lines == header_lines + count + sum(reject.span for reject in rejects):
        if not rejects:
            return None, []
        shifted = _shifted_by_rejects(header_lines, count, rejects)
        if shifted is not None:
            return shifted
    return _walked(path, header_lines, count, rejects)


def _shifted_by_rejects(
    header_lines: int, count: int, rejects: list[_Reject]
) -> tuple[pa.Array, list[int]] | None:
    """Line numbers when records are lines: each reject pushes the rows after it down."""
    segments, lines, before, spans = [], [], 0, 0
    for index, reject in enumerate(rejects):
        good_before = reject.record - 2 - index  # records before it, less header and rejects
        if not before <= good_before <= count:
            return None  # not the simple layout after all
        segments.append(pa.repeat(pa.scalar(spans, pa.int64()), good_before - before))
        lines.append(header_lines + 1 + good_before + spans)
        before, spans = good_before, spans + reject.span
    segments.append(pa.repeat(pa.scalar(spans, pa.int64()), count - before))
    ordinal = ordinals(count)
    shift = pa.concat_arrays(segments)
    return pc.add(pc.add(ordinal, shift), header_lines + 1), lines


def _walked(
    path: str, header_lines: int, count: int, rejects: list[_Reject]
) -> tuple[pa.Array, list[int]]:
    """Line numbers from where each record starts, matched to DuckDB's record numbers."""
    records, lines = _record_starts(path)
    rejected = pa.array([reject.record for reject in rejects], pa.int64())
    keep = pc.and_(pc.greater(records, 1), pc.invert(pc.is_in(records, value_set=rejected)))
    good = lines.filter(keep)
    if len(good) < count:  # defensive: should the walk and DuckDB disagree, keep counting
        last = good[-1].as_py() if len(good) else header_lines
        good = pa.concat_arrays([good, pa.array(range(last + 1, last + 1 + count - len(good)))])
    found = pc.index_in(rejected, value_set=records).to_pylist()
    reject_lines = [
        reject.record if where is None else lines[where].as_py()
        for reject, where in zip(rejects, found, strict=True)
    ]
    return good.slice(0, count), reject_lines


def _record_starts(path: str) -> tuple[pa.Array, pa.Array]:
    """(DuckDB record number, physical line) for every record of the file, header included.

    DuckDB numbers records and blank lines together (the header is 1) but not
    line breaks inside quoted values. A line break is inside a value when an
    odd number of quote characters came before it in the record (RFC 4180
    doubles quotes inside values, so the parity is exact). Only per-line counts
    are taken in Python (C-level map); the bookkeeping is Arrow.
    """
    lines = Path(path).read_bytes().split(b"\n")
    quotes = pa.array(list(map(bytes.count, lines, itertools.repeat(b'"'))), pa.int64())
    lengths = pa.array(list(map(len, lines)), pa.int64())
    short = pc.indices_nonzero(pc.less_equal(lengths, 1)).to_pylist()
    blank = pa.array([False] * len(lines))
    if short:
        empty = [index for index in short if lines[index] in (b"", b"\r")]
        blank = pc.is_in(
            pa.array(range(len(lines)), pa.int64()), value_set=pa.array(empty, pa.int64())
        )
    odd = pc.bit_wise_and(quotes, 1)
    outside = pc.equal(pc.bit_wise_and(pc.subtract(pc.cumulative_sum(odd), odd), 1), 0)
    numbers = pc.cumulative_sum(pc.cast(outside, pa.int64()))
    starts = pc.indices_nonzero(pc.and_(outside, pc.invert(blank)))
    return pc.take(numbers, starts), pc.add(starts, 1)


def _source_refs(
    con: duckdb.DuckDBPyConnection, name: str, first: int, count: int, lines: pa.Array | None
) -> pa.ChunkedArray:
    """``"<file>:line N"`` for every row, built in DuckDB (several times faster than Arrow)."""
    prefix = f"{name}:line ".replace("'", "''")
    if lines is None:
        query = f"SELECT '{prefix}' || (range + {first}) AS ref FROM range({count})"
    else:
        numbers = pa.table({"line": lines})  # noqa: F841 - DuckDB scans it by name
        query = f"SELECT '{prefix}' || line AS ref FROM numbers"
    return con.sql(query).to_arrow_table().column("ref")


def _value_skips(
    table: pa.Table, bad: pa.ChunkedArray, header: Header, checked: tuple[str, ...], name: str
) -> list[Skip]:
    """A Skip per row that failed a check: in SQL, its interval, or its amount's units."""
    columns = ["_bad", "_bad_interval", "source_ref", "customer_id"]
    columns += ["_interval"] if "interval" in header.roles else []
    skips = []
    for row in table.filter(bad).select(columns).to_pylist():
        line = str(row["source_ref"]).rsplit(" ", 1)[-1]
        if row["_bad"] is not None:
            code, value = str(row["_bad"]).split("|", 1)
            role: str = checked[int(code)]
        elif row["_bad_interval"]:
            role, value = "interval", row["_interval"]
        else:
            role, value = "amount", None
        reason = _reason(role, value)
        skips.append(skip(name, f"line {line}", reason, header.label(role), row["customer_id"]))
    return skips


def _reason(role: str, value: str | None) -> str:
    shown = repr(value)
    if role == "subscription_id":
        return "empty subscription id"
    if role in TIMESTAMPS:
        return f"{shown} is not a date (expected e.g. 2024-05-01 12:00 or 2024-05-01T12:00:00Z)"
    if role == "cancel_at_period_end":
        return f"{shown} is not a boolean (expected true/false, yes/no, 1/0)"
    if role == "interval":
        return f"{shown} is not a billing interval (expected day, week, month or year)"
    if role in ("quantity", "interval_count"):
        return f"{shown} is not a whole number"
    if value is None:
        return "amount has more decimal places than its currency's minor unit allows"
    return f"{shown} is not an amount (expected e.g. 79.00 or 7900)"


def _provider(table: pa.Table) -> str:
    """Paddle ids in a Stripe-style export mean the rows are Paddle's."""
    customers = table.column("customer_id")
    if table.num_rows and pc.all(pc.starts_with(customers, "ctm_")).as_py():
        return "paddle"
    return "stripe"
