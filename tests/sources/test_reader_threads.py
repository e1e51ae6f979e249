"""Native libraries start on the thread that starts the readers, before the readers.

A full test run once crashed natively in ``duckdb.connect`` on a reader thread
while another thread was inside ``ssl.create_default_context``: each library's
one-time start-up is global state. :func:`read_sources` now makes DuckDB's first
connection (and OpenSSL's first context, when a source talks TLS) itself, before
any reader thread exists. The crash was never reproduced on demand (hundreds of
fresh processes racing the two start-ups all ended cleanly), so the tests check the
mechanism (which thread started each library) and run the racing shape in fresh
processes, where a crash would show as a signal.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from billdrift.config import AppConfig, BillingConfig
from billdrift.infra import runtime
from billdrift.sources.registry import read_sources
from tests.fakes.stripe_fake import FakeStripe, make_customer, make_subscription
from tests.sources.test_read_sources import FIXTURES, _app_csv

pytest_plugins = ["tests.fakes.fixtures"]


def recording(calls: list[str], function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, noting the name of the thread of each call in `calls`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        return function(*args, **kwargs)

    return call


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if nothing had started DuckDB or OpenSSL in this process yet."""
    monkeypatch.setattr(runtime, "_STARTED", set())


@pytest.mark.usefixtures("fresh_process")
def test_duckdb_first_connects_on_the_thread_that_starts_the_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(duckdb, "connect", recording(calls, duckdb.connect))
    specs = [str(FIXTURES / "stripe_subscriptions.json"), str(FIXTURES / "stripe_dashboard.csv")]
    billing, _ = read_sources(specs, _app_csv(tmp_path), BillingConfig(), AppConfig())
    assert [data.subscriptions.num_rows for data in billing] == [5, 5]
    # The readers' shared database is that first connection (no throwaway one: a
    # DuckDB database costs about 17 ms of CPU), and the readers take cursors of it.
    assert calls == [threading.current_thread().name], calls
    calls.clear()
    read_sources(specs, _app_csv(tmp_path), BillingConfig(), AppConfig())
    assert calls and all(name.startswith("read") for name in calls), calls  # once a process


@pytest.mark.usefixtures("fresh_process")
def test_a_source_talking_tls_gets_openssl_started_before_the_readers(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.store.add_customers([make_customer("cus_A", "ann@example.com")])
    fake_stripe.store.add_subscriptions([make_subscription("sub_1", "cus_A", "active", 1)])
    monkeypatch.setenv("STRIPE_API_KEY", FakeStripe.DEFAULT_KEY)
    options = BillingConfig.model_validate(
        {"stripe": {"api_base": fake_stripe.url, "snapshot_dir": str(tmp_path / "snap")}}
    )
    contexts: list[str] = []
    monkeypatch.setattr(
        ssl, "create_default_context", recording(contexts, ssl.create_default_context)
    )
    (billing,), _ = read_sources(["stripe"], _app_csv(tmp_path), options, AppConfig())
    assert billing.subscriptions.num_rows == 1
    assert contexts[0] == threading.current_thread().name, contexts
    assert any(name.startswith("read") for name in contexts[1:]), contexts  # the API client's


@pytest.mark.usefixtures("fresh_process")
def test_files_alone_never_start_openssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A default context loads the trust store: a check of files must not pay for it."""
    contexts: list[str] = []
    monkeypatch.setattr(
        ssl, "create_default_context", recording(contexts, ssl.create_default_context)
    )
    read_sources(
        [str(FIXTURES / "stripe_dashboard.csv")], _app_csv(tmp_path), BillingConfig(), AppConfig()
    )
    assert contexts == []


#: Readers started again and again while another thread creates SSL contexts: the
#: shape of the crash, in a process where neither library has started yet.
RACE = textwrap.dedent(
    """
    import ssl, sys, threading
    from billdrift.config import AppConfig, BillingConfig
    from billdrift.sources.registry import read_sources

    specs, app = sys.argv[1:-1], sys.argv[-1]
    done = threading.Event()

    def contexts():
        while not done.is_set():
            ssl.create_default_context()

    racing = threading.Thread(target=contexts)
    racing.start()
    try:
        for _ in range(5):
            billing, accounts = read_sources(specs, app, BillingConfig(), AppConfig())
            assert [data.subscriptions.num_rows for data in billing] == [5] * len(specs)
            assert accounts.accounts.num_rows == 1
    finally:
        done.set()
        racing.join()  # not at exit: OpenSSL's own clean-up would race it
    print("ok")
    """
)


@pytest.mark.parametrize("run", range(2))
def test_readers_racing_ssl_contexts_in_a_fresh_process_end_cleanly(
    tmp_path: Path, run: int
) -> None:
    specs = [str(FIXTURES / "stripe_subscriptions.json"), str(FIXTURES / "stripe_dashboard.csv")]
    done = subprocess.run(
        [sys.executable, "-c", RACE, *specs, specs[0], _app_csv(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
