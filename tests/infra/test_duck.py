"""Connections opened while several inputs are read at once share the cores."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

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
