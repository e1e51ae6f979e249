"""Stripe-style subscriptions CSV exports (the Dashboard export and similar tools).

Exports run to millions of rows, so nothing here loops over rows in Python:
the file is read as text columns by :mod:`billdrift.sources.csv` (shared with
the app side: encoding, delimiter, quoting, Arrow or DuckDB, rows that cannot be
split, physical line numbers); DuckDB parses and validates each value in SQL
and hands back Arrow; labels with few distinct values (status, currency,
interval, plan) are normalised once per distinct value
(:mod:`billdrift.sources.billing.labels`). Python only looks at the few rows
that failed.

Reading rules:

* headers match case-insensitively, ignoring surrounding spaces, ``_`` versus
  space and a trailing ``(UTC)``; ``<key> (metadata)`` columns are ignored;
* a row that cannot be split into the header's columns (too many or too few
  fields, an unterminated quote) is a Skip at its physical line, worded as
  DuckDB words it; so is a row whose date, amount, quantity, interval or Cancel
  At Period End value does not parse, or whose subscription id is empty.
  Unknown statuses pass through lower-cased: deciding what they mean is the
  rules' job. Bytes that are not valid text stop the read: no row of an export
  is guessed at;
* ``Amount`` is the unit price. Its units (major "79.00" or minor "7900") follow
  ``billing.amount_units``; in ``auto`` mode the choice and its reason are
  always written to the notes (:mod:`billdrift.sources.billing.amounts`);
* ``Plan`` holding a ``price_``/``plan_`` id is a price id, anything else is a
  plan nickname;
* line numbers (in skips and ``source_number``) are physical lines of the file,
  the header being line 1, even after rejected rows, line breaks inside quoted
  values or blank lines (:mod:`billdrift.sources.csv.lines`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.config import BillingConfig
from billdrift.core.bounds import INTERVAL_COUNT, QUANTITY, UNIT_AMOUNT, Bound
from billdrift.core.instants import sql_instant, sql_not_acceptable
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, BillingData, Skip
from billdrift.core.refs import located
from billdrift.errors import SourceError
from billdrift.infra.ordinals import ordinals
from billdrift.sources.billing.amounts import unit_amounts
from billdrift.sources.billing.common import (
    check_encoding,
    conform,
    describe,
    looks_like_json,
    skip,
)
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.labels import LABELS, canonical_labels
from billdrift.sources.csv.dialect import Header as CsvHeader
from billdrift.sources.csv.dialect import is_tsv, parse_header, read_header
from billdrift.sources.csv.lines import locate
from billdrift.sources.csv.naming import Naming
from billdrift.sources.csv.padding import padded
from billdrift.sources.csv.scan import CsvFile, in_record_order, opened, scan

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


def normalise(header: str) -> str:
    text = " ".join(header.replace("\ufeff", "").replace("_", " ").lower().split())
    return re.sub(r"\s*\(utc\)$", "", text)


@dataclass(frozen=True)
class Header:
    """The export's CSV header and the column each role is read from."""

    csv: CsvHeader
    roles: dict[str, int]  # canonical role -> column index
    #: Some id or email carries surrounding spaces ("sub_1, cus_1"), so text is
    #: trimmed. Decided over every value once the file is scanned (see
    #: padding.padded): trimming every value costs real time.
    padded: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return self.csv.names

    def label(self, role: str) -> str:
        return self.names[self.roles[role]].strip()


def _with_roles(header: CsvHeader) -> Header:
    """The CSV header with the column of every role it names."""
    normalised = [normalise(name) for name in header.names]
    roles: dict[str, int] = {}
    for role, aliases in ALIASES.items():
        found = next((alias for alias in aliases if alias in normalised), None)
        if found is not None:
            roles[role] = normalised.index(found)
    return Header(header, roles)


def column_roles(header: CsvHeader) -> dict[str, str]:
    """Role -> the column it is read from, as a reader of this export will (for showing
    a person how a file is read, as the web app's audit page does)."""
    found = _with_roles(header)
    return {role: found.label(role) for role in found.roles}


class StripeCsvSource(BillingSource):
    kind = "stripe-csv"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        """A CSV whose header has a subscription id column and a status or customer column."""
        if looks_like_json(head):
            return False
        found = parse_header(head, "utf-8", is_tsv(path))
        roles = _with_roles(found).roles if found is not None else {}
        return "subscription_id" in roles and ("status" in roles or "customer_id" in roles)

    def read(self) -> BillingData:
        codec = check_encoding(self.options.encoding)
        naming = Naming("billing", self.location, self.options.encoding)
        header = self._header(naming, codec)
        missing = [role for role in REQUIRED if role not in header.roles]
        if missing:
            raise SourceError(_missing_message(self.location, header, missing))
        with opened(Path(self.location), codec, naming) as file:
            data = _read(file, header, self.options, self.kind)
            return dataclasses.replace(data, notes=(*data.notes, *file.notes))

    def _header(self, naming: Naming, codec: str) -> Header:
        """The header, read before the file: a file that is no subscriptions export
        fails at once, even when it is large or in another encoding."""
        path = Path(self.location)
        if not path.exists():
            raise SourceError(f"billing file not found: {self.location}")
        found = read_header(path, naming, codec)
        if found is None:
            raise SourceError(
                f"billing file {self.location} is empty; expected a subscriptions CSV export "
                "with a header row"
            )
        return _with_roles(found)


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


# --------------------------------------------------------------------------- SQL
#
# Written for speed as much as clarity: every function call below runs a
# million times on a big export, so text is only trimmed when the file needs
# it (see Header.padded), labels are left to canonical_labels(), timestamps take the
# cheap naive cast unless the text may carry an offset (core.instants), and the
# failure conditions test NULLs first so the costlier checks only run on the
# few rows that failed.

#: Roles whose text is kept as text (ids, names); the rest is parsed and checked.
_TEXT_ROLES = frozenset(
    {"subscription_id", "customer_id", "customer_email", "status", "plan", "product", "currency"}
)


@dataclass(frozen=True)
class _Query:
    """The parsing SQL of a read and what its results mean."""

    parse: str  # over the scan: typed columns, `_bad` and the record ordinal `_k`
    checked: tuple[str, ...]  # the role each `_bad` code names
    #: Output column -> scanned column taken as is (unpadded text needs no work in
    #: SQL, and copying a text column through DuckDB and back costs real time).
    passthrough: dict[str, str]


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


#: Text kept as read unless padded; labels are stripped per distinct value anyway.
_PADDABLE = ("subscription_id", "customer_id", "customer_email")


def _exactly_padded(header: Header, scanned: pa.Table) -> Header:
    """`header` with `padded` decided over every id and email of the scanned file."""
    roles = header.roles
    found = any(padded(scanned.column(f"c{roles[role]}")) for role in _PADDABLE if role in roles)
    return dataclasses.replace(header, padded=found)


def _parsed(roles: dict[str, int]) -> list[str]:
    parsed = [f"{sql_instant('r_' + role)} AS p_{role}" for role in TIMESTAMPS if role in roles]
    if "cancel_at_period_end" in roles:
        # Exports write `true`/`false`: only other text pays for trim and lower (at 1M
        # rows 0.07 -> 0.01 s of CPU). The normalised value is written once, in ELSE,
        # so DuckDB cannot hoist it out to every row (sources.app.booleans).
        parsed.append(
            "CASE r_cancel_at_period_end WHEN 'true' THEN true WHEN 'false' THEN false "
            "ELSE TRY_CAST(lower(trim(r_cancel_at_period_end)) AS BOOLEAN) END "
            "AS p_cancel_at_period_end"
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


def _outside(bound: Bound, parsed: str) -> str:
    """SQL (to append to a failure condition) true when `parsed` is outside `bound`
    (:mod:`billdrift.core.bounds`) or not finite."""
    finite = f" OR NOT isfinite({parsed})" if bound is UNIT_AMOUNT else ""
    return f"{finite} OR {parsed} < {int(bound.low)} OR {parsed} > {int(bound.high)}"


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
    for role in TIMESTAMPS:
        if role in roles:
            out.append(f"p_{role} AS {role}")
            not_instant = sql_not_acceptable(f"r_{role}", f"p_{role}")
            checks.append((role, _failed(role, f" OR {not_instant}")))
    if "cancel_at_period_end" in roles:
        out.append("p_cancel_at_period_end AS cancel_at_period_end")
        checks.append(("cancel_at_period_end", _failed("cancel_at_period_end")))
    if "quantity" in roles:
        out.append("coalesce(p_quantity, 1) AS quantity")
        checks.append(("quantity", _failed("quantity", _outside(QUANTITY, "p_quantity"))))
    else:
        out.append("1::BIGINT AS quantity")
    if "interval_count" in roles:
        out.append("coalesce(p_interval_count, 1) AS interval_count")
        checks.append(
            (
                "interval_count",
                _failed("interval_count", _outside(INTERVAL_COUNT, "p_interval_count")),
            )
        )
    else:
        out.append("1::BIGINT AS interval_count")
    if "amount" in roles:
        # Converted to minor units afterwards, once the units of the whole file are known.
        out += [
            "p_amount AS _amount",
            "CASE WHEN p_amount IS NOT NULL THEN contains(r_amount, '.') END AS _amount_dot",
        ]
        # Beyond the bound in minor units, and so in major units too.
        checks.append(("amount", _failed("amount", _outside(UNIT_AMOUNT, "p_amount"))))
    return texts, out, checks


# --------------------------------------------------------------------------- reading


def _read(file: CsvFile, header: Header, options: BillingConfig, kind: str) -> BillingData:
    """Scan the file, parse it in SQL, place every row on its line, pick amount
    units, split off skips."""
    location, name = file.naming.shown, file.naming.name
    con = file.connect()
    try:
        con.sql("SET TimeZone = 'UTC'")
        con.sql("SET preserve_insertion_order = true")  # result row k = data record k
        try:
            scanned = scan(file, con, header.csv, sorted(set(header.roles.values())))
            header = _exactly_padded(header, scanned.table)
            query = _build_query(header)
            ordinal = ordinals(scanned.table.num_rows)
            con.register("scanned_rows", scanned.table.append_column("_k", ordinal))
            table = in_record_order(con.sql(query.parse).to_arrow_table(), "_k", ordinal)
            table = table.drop_columns(["_k"])
            for output, column in query.passthrough.items():  # row k is record k in both
                table = table.append_column(output, scanned.table.column(column))
        except duckdb.Error as error:
            raise SourceError(f"cannot read billing file {location}: {error}") from None
        lines = locate(
            scanned.readable, header.csv, scanned.layout, table.num_rows, scanned.rejects
        )
    finally:
        con.close()
    for column, values in located(f"{name}:line ", lines.column(table.num_rows)).items():
        table = table.append_column(column, values)  # the text only for reported rows
    table = canonical_labels(
        table,
        header.roles,
        "plan" in header.roles and normalise(header.label("plan")) in ("plan id", "price id"),
        "product" in header.roles and normalise(header.label("product")) == "product id",
    )
    skips = [
        skip(
            name,
            f"line {line}",
            reject.verbatim_reason(),
            customer_id=_customer_in_row(reject.fields(header.csv.delimiter), header),
        )
        for reject, line in zip(scanned.rejects, lines.rejected, strict=True)
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
    notes = tuple(text for text in (note, lines.note(name)) if text is not None)
    return BillingData(
        subscriptions=conform(table, BILLING_SUBSCRIPTIONS),
        items=conform(table, BILLING_ITEMS),
        skips=tuple(skips),
        description=describe(kind, name, table.num_rows, len(skips)),
        notes=notes,
    )


def _customer_in_row(fields: list[str], header: Header) -> str | None:
    """The customer id of a broken row, if its customer column still holds one.

    Best effort: with a missing or surplus field the columns may have shifted,
    so only a value that looks like a customer id (cus_/ctm_) is trusted.
    """
    index = header.roles["customer_id"]
    value = fields[index].strip() if index < len(fields) else ""
    return value if value.startswith(("cus_", "ctm_")) else None


def _value_skips(
    table: pa.Table, bad: pa.ChunkedArray, header: Header, checked: tuple[str, ...], name: str
) -> list[Skip]:
    """A Skip per row that failed a check: in SQL, its interval, or its amount's units."""
    columns = ["_bad", "_bad_interval", "source_number", "customer_id"]
    columns += ["_interval"] if "interval" in header.roles else []
    skips = []
    for row in table.filter(bad).select(columns).to_pylist():
        line = row["source_number"]
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
        return (
            f"{shown} is not a date (expected e.g. 2024-05-01 12:00 or 2024-05-01T12:00:00Z, "
            "from 1970 to 9999)"
        )
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
