"""Connections opened while several inputs are read at once share the cores."""

from __future__ import annotations

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import duckdb
import pyarrow as pa
import pytest

from billdrift.infra import duck


def _threads() -> int:
    con = duck.connect()
    try:
        row = con.execute("SELECT current_setting('threads')").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_a_lone_connection_uses_every_core() -> None:
    with mock.patch.object(os, "cpu_count", return_value=8):
        assert _threads() == 8


def test_concurrent_readers_split_the_cores_and_never_get_none() -> None:
    with mock.patch.object(os, "cpu_count", return_value=8), ThreadPoolExecutor(2) as pool:
        assert pool.submit(duck.sharing_cores(2, _threads)).result() == 4
        assert pool.submit(duck.sharing_cores(3, _threads)).result() == 2
        assert pool.submit(duck.sharing_cores(16, _threads)).result() == 1
        assert pool.submit(_threads).result() == 8  # the share stays with the work it wraps


def _two_readers_apart(shared: duck.SharedDatabase) -> Path:
    """Two readers' cursors of `shared` keep their relations and time zones apart;
    returns the database's spill directory."""
    first = duck.sharing_cores(2, duck.connect, shared)()
    second = duck.sharing_cores(2, duck.connect, shared)()
    try:
        first.register("rows", pa.table({"n": [1]}))
        first.execute("SET TimeZone = 'America/New_York'")
        with pytest.raises(duckdb.CatalogException):
            second.execute("SELECT * FROM rows")
        zone = second.execute("SELECT current_setting('TimeZone')").fetchall()
        assert zone != [("America/New_York",)]
        row = second.execute("SELECT current_setting('temp_directory')").fetchone()
        assert row is not None
        return Path(row[0])
    finally:
        first.close()
        second.close()


def test_readers_sharing_a_database_keep_their_relations_and_settings_apart() -> None:
    """Cursors of one SharedDatabase: what one reader registers and its time zone are
    its own; the database spills to a private directory (never the working
    directory), removed with the database (issue 17)."""
    shared = duck.SharedDatabase()
    scratch = _two_readers_apart(shared)
    assert scratch.is_dir() and scratch.is_absolute() and scratch.parent != Path.cwd()
    alone = duck.connect()  # outside sharing_cores: a database of its own
    assert alone.execute("SELECT current_setting('temp_directory')").fetchall() != [(str(scratch),)]
    alone.close()
    del shared
    gc.collect()
    assert not scratch.exists()


def test_readers_sharing_a_database_share_every_core() -> None:
    """One database, one pool of workers for every reader's queries: the reader still
    typing its rows gets the cores of one that has finished (issue 17)."""
    with mock.patch.object(os, "cpu_count", return_value=8):
        shared = duck.SharedDatabase()
        con = duck.sharing_cores(2, duck.connect, shared)()
    try:
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(8,)]
    finally:
        con.close()
