"""What each dropped file is, and how its columns would be read, before anything runs.

A person auditing two exports by hand wants to see, first, that billdrift read
them the way they meant: "this is a Stripe subscriptions CSV, this is the users
table, ``paying_customer`` is the access column". Recognition therefore reuses
exactly what ``check``, ``init`` and ``doctor`` decide (the billing registry's
sniffing, onboarding's table survey and column detection), and adds only what a
screen needs on top: a few sample values per column, read from the start of the
file, never the whole of it.

Unlike ``init``, an app file whose account id or access column cannot be found is
not an error here: the mapping comes back incomplete (see
:func:`~billdrift.sources.app.columns.detect_columns`'s ``partial``) for the
person to complete, and the file's columns are all listed to choose from.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from billdrift.config import AppConfig, BillingConfig
from billdrift.errors import BilldriftError, ConfigError
from billdrift.infra.db.interface import Table
from billdrift.infra.quoting import quote_identifier as quoted
from billdrift.onboarding.accounts import survey
from billdrift.onboarding.catalog import Catalog, app_kind
from billdrift.onboarding.init import read_catalog
from billdrift.sources.app.columns import ColumnMapping, detect_columns
from billdrift.sources.app.sqlite import open_sqlite
from billdrift.sources.billing.stripe_csv import column_roles
from billdrift.sources.csv.dialect import HEAD_BYTES, is_tsv, parse_header
from billdrift.sources.registry import open_billing

#: Sample values shown per column, and how many leading rows they are picked from.
SAMPLES: Final = 3
SAMPLE_ROWS: Final = 200
#: A person's words for each recognized format.
KIND_LABELS: Final = {
    "stripe-csv": "Stripe subscriptions CSV export",
    "stripe-json": "Stripe subscriptions JSON",
    "paddle-json": "Paddle Billing subscriptions JSON",
    "csv": "app accounts CSV",
    "sqlite": "app accounts SQLite database",
}


@dataclass(frozen=True)
class ColumnSample:
    """One column of a file and a few of its first distinct non-empty values."""

    name: str
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class BillingFile:
    """One billing file: its recognized format, or why it was not recognized."""

    path: Path
    #: The name to show (the uploaded file's own name, not the temporary one).
    name: str
    size: int
    #: The registry's kind ("stripe-csv"), or "" when not recognized.
    kind: str = ""
    #: For a CSV export: (role, column) as the reader takes them.
    roles: tuple[tuple[str, str], ...] = ()
    columns: tuple[ColumnSample, ...] = ()
    error: str | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind or "not recognized")


@dataclass(frozen=True)
class AppFile:
    """The app file: its kind, the table chosen, every column and the detected mapping."""

    path: Path
    name: str
    size: int
    kind: str = ""
    #: ``app.table`` (empty for a CSV file).
    table: str = ""
    #: Every table that looks like accounts, best first (SQLite), to switch to.
    tables: tuple[str, ...] = ()
    columns: tuple[ColumnSample, ...] = ()
    #: May be incomplete: ``account_id`` or ``primary_access_field`` empty.
    mapping: ColumnMapping | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind or "not recognized")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@dataclass(frozen=True)
class Recognition:
    """Every file of one audit, as recognized."""

    billing: tuple[BillingFile, ...]
    app: AppFile
    problems: tuple[str, ...] = field(default=())

    @property
    def ready(self) -> bool:
        """Every file recognized and the mapping complete: the audit can run."""
        return not self.problems


def recognize(
    billing: Sequence[tuple[Path, str]], app: tuple[Path, str], app_table: str | None = None
) -> Recognition:
    """Recognize `billing` and `app` files, each given as (path, name to show).

    Never raises for a file it cannot read: the reason is kept on the file and
    listed in ``problems``, so a page can show every file's state at once.
    """
    files = tuple(recognize_billing(path, name) for path, name in billing)
    app_file = recognize_app(app[0], app[1], app_table)
    return Recognition(files, app_file, problems_of(files, app_file))


def problems_of(billing: Sequence[BillingFile], app: AppFile) -> tuple[str, ...]:
    """What keeps the audit from running, one sentence each."""
    problems = [f"{file.name}: {file.error}" for file in billing if file.error]
    if not billing:
        problems.append("no billing file: add at least one billing export")
    if app.error:
        problems.append(f"{app.name}: {app.error}")
    elif app.mapping is not None:
        if not app.mapping.account_id:
            problems.append(f"{app.name}: choose the column that identifies an account")
        if not app.mapping.primary_access_field:
            problems.append(
                f"{app.name}: choose the column that grants access (a yes/no flag or a "
                "subscription status)"
            )
    return tuple(problems)


def recognize_billing(path: Path, name: str) -> BillingFile:
    size = path.stat().st_size
    try:
        kind = open_billing(str(path), BillingConfig()).kind
    except BilldriftError as error:
        return BillingFile(path, name, size, error=_named(str(error), path, name))
    if kind != "stripe-csv":
        return BillingFile(path, name, size, kind)
    head = _head(path)
    header = parse_header(head, "utf-8", is_tsv(name))
    if header is None:  # the registry accepted it, so it has a header
        return BillingFile(path, name, size, kind)
    return BillingFile(
        path,
        name,
        size,
        kind,
        tuple(column_roles(header).items()),
        _csv_samples(head, header.names, header.delimiter, header.lines),
    )


def recognize_app(path: Path, name: str, app_table: str | None = None) -> AppFile:
    size = path.stat().st_size
    try:
        kind = app_kind(str(path))
        catalog = read_catalog(str(path))
    except BilldriftError as error:
        return AppFile(path, name, size, error=_named(str(error), path, name))
    fits, _ = survey(catalog, AppConfig())
    tables = tuple(candidate.name for candidate in fits)
    try:
        table = _chosen_table(catalog, fits[0].name if fits else None, app_table)
    except BilldriftError as error:
        return AppFile(path, name, size, kind, tables=tables, error=str(error))
    names = [column.name for column in table.columns]
    table_name = catalog.table_name(table)
    mapping = detect_columns(names, AppConfig(), name, partial=True)
    if kind == "csv":
        head = _head(path)
        header = parse_header(head, "utf-8", is_tsv(name))
        columns = (
            _csv_samples(head, header.names, header.delimiter, header.lines)
            if header is not None
            else tuple(ColumnSample(column) for column in names)
        )
    else:
        columns = _sqlite_samples(path, table, names)
    return AppFile(path, name, size, kind, table_name, tables, columns, mapping)


def _chosen_table(catalog: Catalog, best: str | None, wanted: str | None) -> Table:
    if wanted:
        return catalog.find(wanted)
    if best is not None:
        return catalog.find(best) if catalog.kind != "csv" else catalog.tables[0]
    if catalog.kind == "csv" or len(catalog.tables) == 1:
        return catalog.tables[0]
    raise ConfigError(f"no table looks like app accounts; choose one ({catalog.listing()})")


def _named(message: str, path: Path, name: str) -> str:
    """An error about the temporary copy, naming the file as the person knows it."""
    return message.replace(str(path), name).replace(path.name, name)


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def _csv_samples(
    head: bytes, names: Sequence[str], delimiter: str, header_lines: int
) -> tuple[ColumnSample, ...]:
    """Sample values from the whole records within the first megabyte."""
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if len(head) >= HEAD_BYTES:  # the last line may be cut: leave it out
        text = text[: text.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for _ in range(header_lines):
            next(reader, None)
        for row in reader:
            rows.append(row)
            if len(rows) >= SAMPLE_ROWS:
                break
    except csv.Error:  # samples are a courtesy: what was read so far is shown
        pass
    return tuple(
        ColumnSample(column, _distinct(row[index] for row in rows if index < len(row)))
        for index, column in enumerate(names)
    )


def _sqlite_samples(path: Path, table: Table, names: Sequence[str]) -> tuple[ColumnSample, ...]:
    _, con = open_sqlite(str(path))
    try:
        selected = ", ".join(quoted(name) for name in names)
        target = f"{quoted(table.schema or 'main')}.{quoted(table.name)}"
        rows = con.execute(f"SELECT {selected} FROM {target} LIMIT {SAMPLE_ROWS}").fetchall()
    except sqlite3.DatabaseError:
        rows = []
    finally:
        con.close()
    return tuple(
        ColumnSample(name, _distinct(row[index] for row in rows))
        for index, name in enumerate(names)
    )


def _distinct(values: Iterable[object]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        text = "" if value is None else str(value).strip()
        if text and text not in seen:
            seen.append(text[:60])
            if len(seen) >= SAMPLES:
                break
    return tuple(seen)
