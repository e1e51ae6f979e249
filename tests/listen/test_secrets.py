"""A listener's failed check names nothing secret: not in its log (a ``warning`` for
an expected failure, a traceback for a crash) and not in the outcome its queue file
keeps. The listener installs the log scrubbing at start (``serve``); here the worker
runs on a real queue file with checks that fail naming a planted secret."""

from __future__ import annotations

import io
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from billdrift.errors import SourceError
from billdrift.infra.event_queue import EventQueue
from billdrift.infra.failures import scrub_log_records
from billdrift.usecases.listening import Worker
from billdrift.usecases.targeted import BatchResult

ENV_KEY = "opaqueQ7xListenKey"
PASTED = "sk_live_51ListenPastedQ7x"


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    before = logging.getLogRecordFactory()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("billdrift.listen")
    logger.addHandler(handler)
    scrub_log_records()
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logging.setLogRecordFactory(before)


def test_a_failed_or_crashed_check_logs_and_keeps_no_secret(
    tmp_path: Path, log_text: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", ENV_KEY)

    def check(provider: str, customers: Sequence[str]) -> BatchResult:
        if list(customers) == ["cus_A"]:
            raise SourceError(f"cannot read {PASTED} with key {ENV_KEY}")
        raise RuntimeError(f"bug near {ENV_KEY}")

    queue = EventQueue(tmp_path / "queue.sqlite", window=0)
    queue.put("stripe", "evt_1", "cus_A", "customer.subscription.updated")
    queue.put("stripe", "evt_2", "cus_B", "customer.subscription.updated")
    worker = Worker(queue, check, threads=1, batch=1, max_attempts=1, poll=0.05)
    worker.start()
    deadline = time.monotonic() + 30
    with sqlite3.connect(tmp_path / "queue.sqlite") as con:
        while time.monotonic() < deadline:
            outcomes = [row[0] for row in con.execute("SELECT outcome FROM batches")]
            if len(outcomes) == 2 and all(outcomes):
                break
            time.sleep(0.05)
    worker.stop(5)
    queue.close()
    logged = log_text.getvalue()
    assert sorted(outcomes) == [
        "crash: internal error: RuntimeError: bug near ***",
        "error: cannot read sk_live_*** with key ***",
    ]
    assert "sk_live_***" in logged and "Traceback" in logged
    assert "Q7x" not in logged, logged
