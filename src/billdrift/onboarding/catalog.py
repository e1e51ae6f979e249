"""What an app location holds: its tables and their columns, or a CSV file's header.

``init`` and ``doctor`` look before they read. Every kind of app input becomes
one :class:`Catalog` of :class:`~billdrift.infra.db.interface.Table` entries, so
choosing the accounts table and checking columns is the same code for a CSV
file (one "table", no types), a SQLite file (declared types) and a live
database (the server's types).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.interface import Column, ReadOnlyConnection, Table
from billdrift.infra.db.urls import is_database_url, redact
from billdrift.sources.app.csv_file import CsvAppSource
from billdrift.sources.app.sqlite import SqliteAppSource
from billdrift.sources.csv.dialect import read_header
from billdrift.sources.csv.encoding import codec_name
from billdrift.sources.csv.naming import Naming
from billdrift.sources.csv.scan import opened

AppKind = Literal["csv", "sqlite", "database"]

_SQLITE_TABLES: Final = (
    "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
)


def app_kind(location: str) -> AppKind:
    """Which kind of app input `location` names; SourceError when none fits."""
    if location.startswith("sqlite:"):
        return "sqlite"
    if is_database_url(location):
        return "database"
    if "://" not in location and not Path(location).exists():
        raise SourceError(f"app file not found: {location}")
    if SqliteAppSource.accepts(location):
        return "sqlite"
    if CsvAppSource.accepts(location):
        return "csv"
    raise SourceError(
        f"cannot read app data from {redact(location)}: expected a CSV file, a SQLite "
        "database file, a sqlite:/// URL or a database URL (postgresql://, mysql://, "
        "mariadb://, or env:NAME naming a variable that holds one)"
    )


@dataclass(frozen=True)
class Catalog:
    """The tables of one app location, and how to name them."""

    kind: AppKind
    #: How messages name the location (a file name, or a redacted URL).
    shown: str
    tables: tuple[Table, ...]
    #: Tables in this schema are named without it (``users``, not ``public.users``).
    default_schema: str = ""
    #: The server and its version, for databases ("PostgreSQL 16.4").
    server: str = ""

    def table_name(self, table: Table) -> str:
        """The name to write as ``app.table`` (empty for a CSV file, which has none).

        The bare name when the table is in the default schema and no other schema
        has a table of that name (a bare name must be unambiguous to be read back),
        else ``schema.table``.
        """
        if self.kind == "csv":
            return ""
        if not table.schema or (table.schema == self.default_schema and self._unique(table.name)):
            return table.name
        return table.qualified

    def find(self, name: str) -> Table:
        """The table a configured ``app.table`` names, as the app sources resolve it:
        ``table`` or ``schema.table``, exactly, then ignoring case if unambiguous.

        ConfigError lists the tables there are (or the ones a bare name matches).
        """
        whole = [t for t in self.tables if t.name == name]  # a name with a dot in it
        if len(whole) == 1:
            return whole[0]
        schema, _, bare = name.rpartition(".")
        found = [t for t in self.tables if t.name == bare and (not schema or t.schema == schema)]
        if not found:
            found = [
                t
                for t in self.tables
                if t.name.lower() == bare.lower()
                and (not schema or t.schema.lower() == schema.lower())
            ]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(table.qualified for table in found)
            raise ConfigError(
                f"app.table {name!r} is ambiguous in {self.shown} ({names}); add the schema"
            )
        raise ConfigError(f"app.table {name!r} does not exist in {self.shown}; {self.listing()}")

    def listing(self, limit: int = 20) -> str:
        """``tables: 'a', 'b', ...`` for messages."""
        names = [repr(self.table_name(table)) for table in self.tables]
        more = f" and {len(names) - limit} more" if len(names) > limit else ""
        return f"tables: {', '.join(names[:limit]) or '(none)'}{more}"

    def _unique(self, name: str) -> bool:
        return sum(1 for table in self.tables if table.name == name) == 1


def csv_catalog(location: str, encoding: str = "utf-8") -> Catalog:
    """A CSV file as a one-table catalog: the header's columns, untyped."""
    path = Path(location)
    if not path.exists():
        raise SourceError(f"app file not found: {location}")
    if path.is_dir():
        raise SourceError(f"app input {location} is a directory; expected a CSV file")
    naming = Naming("app", path.name, encoding)
    with opened(path, codec_name(encoding, "app.encoding"), naming) as file:
        header = read_header(file.readable, naming)
    if header is None:
        raise SourceError(f"{path.name} is empty: no header row to detect columns from")
    columns = tuple(Column(name, "") for name in header.names)
    return Catalog("csv", path.name, (Table("", path.name, columns),))


def sqlite_catalog(con: sqlite3.Connection, name: str) -> Catalog:
    """Tables and views of a SQLite database's main schema, with declared column types."""
    try:
        entries = con.execute(_SQLITE_TABLES).fetchall()
        tables = []
        for table, kind in entries:
            rows = con.execute(
                "SELECT name, type FROM pragma_table_info(?, 'main') ORDER BY cid", (table,)
            ).fetchall()
            columns = tuple(Column(str(column), str(type_ or "").lower()) for column, type_ in rows)
            tables.append(Table("main", str(table), columns, str(kind)))
    except sqlite3.DatabaseError as error:
        raise SourceError(f"cannot read SQLite database {name}: {error}") from None
    return Catalog("sqlite", name, tuple(tables), default_schema="main", server="SQLite")


def database_catalog(conn: ReadOnlyConnection) -> Catalog:
    """Every user table and view a live database shows these credentials."""
    default = conn.url.database or ""
    if conn.dialect == "postgresql":
        rows = conn.fetch("SELECT current_schema()")
        default = str(rows[0][0]) if rows and rows[0][0] else "public"
    return Catalog(
        "database",
        conn.url.shown,
        tuple(conn.tables()),
        default_schema=default,
        server=conn.server_version(),
    )
