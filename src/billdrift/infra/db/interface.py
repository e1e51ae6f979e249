"""The one interface every database dialect implements (PostgreSQL, MySQL/MariaDB).

A :class:`ReadOnlyConnection` is read-only *at the server* from the moment it
exists (a read-only session or transaction), so neither a custom query nor a
bug in billdrift can change the user's data. Small results (introspection) come
back as Python tuples; big ones stream as Arrow record batches so memory stays
bounded however many rows the table has. Every driver error leaves as a
:class:`~billdrift.errors.SourceError` whose text has been scrubbed of the
password and the raw URL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

import pyarrow as pa

from billdrift.errors import SourceError
from billdrift.infra.db.deadline import Deadline, unwatched
from billdrift.infra.db.urls import DatabaseUrl

#: The schema a PostgreSQL history store keeps its tables in, beside the app's: never a
#: candidate for the app's accounts or a billing mirror.
OWN_SCHEMA = "billdrift"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the database's own type name, lower case ("text", "tinyint(1)", "boolean")


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]
    kind: str = "table"  # table | view

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


class ReadOnlyConnection(ABC):
    """An open, read-only connection to one database."""

    dialect: ClassVar[str]
    #: Identifier quote character of the dialect (doubled inside a name).
    quote_char: ClassVar[str] = '"'

    def __init__(self, url: DatabaseUrl, deadline: Deadline | None = None) -> None:
        self.url = url
        #: Bounds the connect, the statements and the socket (see infra.db.deadline).
        self.deadline = deadline or unwatched()

    # -------------------------------------------------------------- identifiers
    def quote(self, identifier: str) -> str:
        """One identifier, quoted so that no name can break out of it."""
        if "\x00" in identifier:
            raise SourceError(f"identifier {identifier!r} contains a NUL character")
        q = self.quote_char
        return q + identifier.replace(q, q + q) + q

    def qualify(self, name: str) -> str:
        """``table`` or ``schema.table`` as quoted SQL (each part quoted on its own)."""
        parts = name.split(".", 1) if "." in name else [name]
        return ".".join(self.quote(part) for part in parts)

    # ------------------------------------------------------------------ queries
    @abstractmethod
    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a small query and return every row."""

    @abstractmethod
    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[pa.RecordBatch]:
        """Run a query and yield its rows as Arrow record batches, bounded in memory.
        `params` are bound to the query's :meth:`placeholder` markers."""

    @abstractmethod
    def placeholder(self, number: int) -> str:
        """The marker of the `number`-th (from 1) bound parameter in this dialect."""

    @abstractmethod
    def query_columns(self, sql: str) -> list[Column]:
        """The columns a SELECT returns, without reading its rows."""

    # ------------------------------------------------------------ introspection
    @abstractmethod
    def tables(self) -> list[Table]:
        """User tables and views (system schemas left out), with their columns."""

    @abstractmethod
    def read_only(self) -> bool:
        """Whether the server confirms this session cannot write."""

    @abstractmethod
    def write_access(self, tables: Sequence[str]) -> list[str]:
        """What these credentials could change (``"INSERT, UPDATE on public.users"``,
        ``"superuser"``): billdrift never writes, so any entry deserves a warning."""

    def escape_hatches(self) -> list[str]:
        """Ways these credentials could change something that a read-only, rolled-back
        transaction does not undo (a second connection, files or programs on the
        server). A custom query may call functions, so it is refused while any exists
        unless the user opts in (``app.allow_writable_role``)."""
        return []

    @abstractmethod
    def read_only_role_sql(self, tables: Sequence[str]) -> str:
        """SQL an administrator can run to create a role that can only read `tables`."""

    def server_version(self) -> str:
        return ""

    # ---------------------------------------------------------------- lifecycle
    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> ReadOnlyConnection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def error(self, doing: str, error: BaseException) -> SourceError:
        """A SourceError for a failed `doing`, naming the database, never the password."""
        text = " ".join(str(error).split()) or type(error).__name__
        return SourceError(f"{doing} on {self.url.shown} failed: {self.url.scrub(text)}")
