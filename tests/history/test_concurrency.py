"""Overlapping runs and killed runs never corrupt the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from billdrift.core.model import Kind
from billdrift.history import (
    LOCKED_MESSAGE,
    HistoryLockedError,
    Lifecycle,
    fingerprint,
    open_store,
    record_run,
)
from tests.history.helpers import at, finding, report

ROOT = Path(__file__).resolve().parents[2]
FIRST = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", "sub_1")
SECOND = finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2", "sub_2")


class Holder(threading.Thread):
    """Records a run in a thread and holds its transaction open until released."""

    def __init__(self, location: str) -> None:
        super().__init__(daemon=True)
        self.location = location
        self.inside = threading.Event()
        self.release = threading.Event()
        self.result: Lifecycle | BaseException | None = None

    def _hold(self) -> None:
        self.inside.set()
        self.release.wait(30)

    def run(self) -> None:
        try:
            with open_store(self.location) as store:
                self.result = record_run(
                    store, report(FIRST), at(0), at(0.1), before_commit=self._hold
                )
        except BaseException as error:
            self.result = error


def test_a_run_that_cannot_get_the_lock_in_time_is_refused_clearly(store_location: str) -> None:
    open_store(store_location).close()
    holder = Holder(store_location)
    holder.start()
    assert holder.inside.wait(30)
    try:
        with open_store(store_location, lock_timeout=0.3) as store:
            started = time.monotonic()
            with pytest.raises(HistoryLockedError, match=LOCKED_MESSAGE):
                record_run(store, report(FIRST, SECOND), at(1), at(1.1))
            assert time.monotonic() - started < 10
            # Reading is not blocked by a run that is recording.
            assert store.recent_runs() == []
    finally:
        holder.release.set()
        holder.join(30)
    assert isinstance(holder.result, Lifecycle)
    with open_store(store_location) as store:
        assert [run.run_id for run in store.recent_runs()] == [holder.result.run_id]
        assert [s.fingerprint for s in store.open_findings()] == [fingerprint(FIRST)]


def test_a_second_run_waits_for_the_first_and_both_are_recorded_in_order(
    store_location: str,
) -> None:
    open_store(store_location).close()
    holder = Holder(store_location)
    holder.start()
    assert holder.inside.wait(30)
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with open_store(store_location, lock_timeout=30) as store:
                outcome["result"] = record_run(store, report(FIRST, SECOND), at(1), at(1.1))
        except BaseException as error:
            outcome["result"] = error

    waiter = threading.Thread(target=second, daemon=True)
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive(), "the second run should be waiting for the lock"
    holder.release.set()
    holder.join(30)
    waiter.join(30)
    first, later = holder.result, outcome["result"]
    assert isinstance(first, Lifecycle), first
    assert isinstance(later, Lifecycle), later
    assert later.run_id > first.run_id
    assert later.status(FIRST) == "ongoing"  # it saw the first run's commit
    assert later.status(SECOND) == "new"
    with open_store(store_location) as store:
        assert len(store.recent_runs()) == 2
        assert len(store.observations(fingerprint(FIRST))) == 2


# A run in another process that stops inside its transaction, just before COMMIT.
_HANG = """
import sys, time
from billdrift.history import open_store, record_run
from billdrift.core.model import Kind
from tests.history.helpers import at, finding, report

def hang():
    print("inside", flush=True)
    time.sleep(120)

with open_store(sys.argv[1]) as store:
    record_run(
        store,
        report(finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2", "sub_2")),
        at(1),
        at(1.1),
        before_commit=hang,
    )
"""


def _wait_for_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            return proc.stdout.readline()
        if proc.poll() is not None:
            break
    proc.kill()
    _, err = proc.communicate(timeout=30)
    pytest.fail(f"the recording process never got inside its transaction:\n{err}")


def test_a_run_killed_before_commit_leaves_the_previous_state(store_location: str) -> None:
    with open_store(store_location) as store:
        record_run(store, report(FIRST), at(0), at(0.1))

    proc = subprocess.Popen(
        [sys.executable, "-c", _HANG, store_location],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for_line(proc, 60).strip() == "inside"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    if not store_location.startswith("postgresql://"):
        with sqlite3.connect(store_location) as con:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []

    # The killed run left nothing: one run, FIRST open, SECOND never seen.
    with open_store(store_location, lock_timeout=30) as store:
        assert len(store.recent_runs()) == 1
        assert [s.fingerprint for s in store.open_findings()] == [fingerprint(FIRST)]
        assert store.finding(fingerprint(SECOND)) is None
        assert len(store.observations(fingerprint(FIRST))) == 1
        # And the next run works (the lock was released with the dead process).
        result = record_run(store, report(SECOND), at(2), at(2.1))
        assert result.status(SECOND) == "new"
        assert [r.fingerprint for r in result.resolved] == [fingerprint(FIRST)]
        assert len(store.recent_runs()) == 2
