"""read_sources(): every input read at once, results and errors in argument order."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from billdrift.config import AppConfig, BillingConfig
from billdrift.errors import SourceError
from billdrift.sources.registry import read_sources
from tests.fakes.stripe_fake import FakeStripe

FIXTURES = Path(__file__).parent.parent / "fixtures" / "billing"


def _app_csv(
    tmp_path: Path, text: str = "id,stripe_customer_id,has_paid_access\na1,cus_1,t\n"
) -> str:
    path = tmp_path / "app.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_results_come_back_in_argument_order(tmp_path: Path) -> None:
    specs = [str(FIXTURES / "stripe_subscriptions.json"), str(FIXTURES / "stripe_dashboard.csv")]
    billing, app = read_sources(specs, _app_csv(tmp_path), BillingConfig(), AppConfig())

    assert [data.description for data in billing] == [
        "stripe-json stripe_subscriptions.json: 5 subscriptions",
        "stripe-csv stripe_dashboard.csv: 5 subscriptions",
    ]
    assert app.accounts.column("account_id").to_pylist() == ["a1"]


def test_a_failing_billing_read_wins_over_a_failing_app_read(tmp_path: Path) -> None:
    broken = tmp_path / "subs.json"
    broken.write_text('{"object": "list", "data": [{"object": "subscription", "id": ', "utf-8")
    app = _app_csv(tmp_path, "foo,bar\n1,2\n")  # fails too: no account id column
    with pytest.raises(SourceError, match=r"subs\.json"):
        read_sources([str(broken)], app, BillingConfig(), AppConfig())
    with pytest.raises(SourceError, match="account id column"):
        read_sources([str(FIXTURES / "stripe_dashboard.csv")], app, BillingConfig(), AppConfig())


def _readers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("read")}


def test_a_failed_read_stops_the_others_and_waits_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's file fails at once while the Stripe API read has about 30 slow pages
    to go: the app's error comes out (not the API read's being stopped), the API read
    stopped at its next page, and no reader thread is left running (they share one
    DuckDB database, and a read left running would go on spending the rate limit)."""
    monkeypatch.setenv("STRIPE_API_KEY", FakeStripe.DEFAULT_KEY)
    before = _readers()
    with FakeStripe(latency=0.3) as stripe:
        stripe.populate(2000, seed=1)  # a whole read: about 30 requests, 4 s here
        options = BillingConfig.model_validate(
            {"stripe": {"api_base": stripe.url, "snapshot_dir": str(tmp_path / "snap")}}
        )
        broken = _app_csv(tmp_path, "foo,bar\n1,2\n")  # no account id column
        with pytest.raises(SourceError, match="account id column"):
            read_sources(["stripe"], broken, options, AppConfig())
        assert _readers() - before == set()  # checked before the server stops
        assert stripe.stats().requests < 15  # stopped, not read to the end


def test_every_input_is_opened_before_any_is_read(tmp_path: Path) -> None:
    """A missing file is reported at once, whatever its position."""
    with pytest.raises(SourceError, match=r"billing file not found: .*nope\.json"):
        read_sources(
            [str(FIXTURES / "stripe_dashboard.csv"), str(tmp_path / "nope.json")],
            _app_csv(tmp_path),
            BillingConfig(),
            AppConfig(),
        )


def test_the_inputs_are_read_on_one_duckdb_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two CSV files and the app's repeated-id question: one database is created
    (about 15 ms of CPU each), the readers work on cursors of it (issue 17)."""
    created: list[object] = []
    real = duckdb.connect

    def counting(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        created.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting)
    specs = [str(FIXTURES / "stripe_dashboard.csv"), str(FIXTURES / "stripe_dashboard.csv")]
    billing, app = read_sources(specs, _app_csv(tmp_path), BillingConfig(), AppConfig())
    assert [data.subscriptions.num_rows for data in billing] == [5, 5]
    assert app.accounts.num_rows == 1
    assert len(created) == 1
