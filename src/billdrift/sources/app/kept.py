"""Slices of a live app database read on connections kept between reads.

Why: ``billdrift listen`` reads a few customers' accounts many times a minute.
Opening a PostgreSQL or MariaDB connection, checking that the session is
read-only and introspecting the tables (which table, which columns, their types)
cost more than the slice query itself, so a :class:`SliceReader` does that once
per connection and keeps the connection and its plan for the next read.

Each read is still bounded by ``app.timeout_seconds``: the statement limits set
when the connection opened apply to every statement, and a watchdog cuts the
connection's sockets if one read as a whole takes longer. A read that fails for
any reason closes its connection (a server restarted, a network cut, a deadline
passed); the read is tried once more on a fresh connection, so a connection that
went stale while idle costs one reconnect, not a failed check. Other locations
(a SQLite file, ``sqlite:///`` URLs) are read as before, opened per read: that is
cheap for a local file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from billdrift.config import AppConfig
from billdrift.core.model import AppData
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Deadline, Timeouts
from billdrift.infra.db.interface import ReadOnlyConnection
from billdrift.infra.db.urls import DatabaseUrl, is_database_url, resolve
from billdrift.infra.watchdog import watchdog
from billdrift.sources.app.batches import BatchReader, Origin
from billdrift.sources.app.columns import ColumnMapping, detection_note
from billdrift.sources.app.database import plan_read, select_sql
from billdrift.sources.app.interface import AppSource, Slice
from billdrift.sources.app.slicing import slice_where

#: How a location that is not a live database is opened (``sources.registry.open_app``,
#: passed in: the registry lists the sources, so this module cannot import it).
OpenSource = Callable[[str, AppConfig], AppSource]


@dataclass(frozen=True)
class _Kept:
    """One open connection and what its reads need, worked out once."""

    con: ReadOnlyConnection
    deadline: Deadline
    mapping: ColumnMapping
    origin: Origin
    select: str
    notes: tuple[str, ...]


class SliceReader:
    """Reads slices of the app at `location`; share one between threads (each read
    takes an idle connection, or opens one, and gives it back when it is done)."""

    def __init__(self, location: str, options: AppConfig, open_source: OpenSource) -> None:
        self.location = location
        self.options = options
        self.open_source = open_source
        self._idle: list[_Kept] = []
        self._lock = threading.Lock()
        #: Connections opened so far (the tests and the benchmark count reconnects).
        self.opened = 0
        self._url: DatabaseUrl | None = None
        try:
            url = resolve(location) if is_database_url(location) or location[:4] == "env:" else None
        except ConfigError:
            url = None  # opened per read, which says what is wrong at each check
        self._url = url if url is not None and url.dialect != "sqlite" else None

    def read(self, only: Slice) -> AppData:
        """The accounts `only` names; SourceError when the database cannot be read."""
        if self._url is None:
            source = self.open_source(self.location, self.options)
            source.only = only
            return source.read()
        kept = self._take()
        try:
            data = self._read(kept, only)
        except SourceError:
            kept.con.close()
            kept = self._connect()  # once more, on a fresh connection
            try:
                data = self._read(kept, only)
            except BaseException:
                kept.con.close()
                raise
        except BaseException:
            kept.con.close()
            raise
        with self._lock:
            self._idle.append(kept)
        return data

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for kept in idle:
            kept.con.close()

    def _take(self) -> _Kept:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _limits(self) -> Timeouts:
        return Timeouts(self.options.timeout_seconds, "app.timeout_seconds")

    def _connect(self) -> _Kept:
        assert self._url is not None
        url = self._url
        deadline = Deadline(self._limits())
        with watchdog(deadline.timeouts.total, deadline.cut) as watch:
            try:
                con = connect(url, deadline)
                try:
                    plan = plan_read(con, self.options)
                    origin = Origin(url.shown, plan.label, con.server_version())
                except BaseException:
                    con.close()
                    raise
            except Exception:
                if not watch.fired:
                    raise
                raise SourceError(deadline.message(url.shown)) from None
        with self._lock:
            self.opened += 1
        notes = list(plan.notes)
        if note := detection_note(plan.mapping, f"{url.shown} ({plan.label})"):
            notes.append(note)
        select = select_sql(con, plan)
        return _Kept(con, deadline, plan.mapping, origin, select, tuple(notes))

    def _read(self, kept: _Kept, only: Slice) -> AppData:
        con = kept.con
        where, params = slice_where(kept.mapping, only, con.quote, con.placeholder)
        rows = con.stream(kept.select + where, params)
        with watchdog(self._limits().total, kept.deadline.cut) as watch:
            try:
                return BatchReader(kept.mapping, kept.origin).read(rows, kept.notes)
            except Exception:
                if not watch.fired:
                    raise
                raise SourceError(kept.deadline.message(con.url.shown)) from None
