"""`--billing stripe`: the Stripe API source against a local fake Stripe server.

The fake (tests/fakes/stripe_fake.py) speaks Stripe's documented shapes over real
HTTP on 127.0.0.1, with rate limits, injected faults, events and restricted keys;
localstripe cases are in test_stripe_localstripe.py.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.errors import ConfigError, SourceError
from billdrift.sources.billing import stripe_snapshot
from billdrift.sources.billing.rate_limits import JITTER_MARGIN
from billdrift.sources.registry import open_billing
from tests.fakes.stripe_fake import (
    PERM_CUSTOMERS,
    PERM_EVENTS,
    PERM_SUBSCRIPTIONS,
    FakeStripe,
    make_customer,
    make_subscription,
)

pytest_plugins = ["tests.fakes.fixtures"]

NOW = int(time.time())


def options(server: FakeStripe, tmp_path: Path, **stripe: Any) -> BillingConfig:
    settings = {
        "api_base": server.url,
        "snapshot_dir": str(tmp_path / "snapshots"),
        "max_requests_per_second": 200,
        "max_requests_per_second_per_endpoint": 200,
        **stripe,
    }
    return BillingConfig.model_validate({"stripe": settings})


def read(
    server: FakeStripe,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    key: str = FakeStripe.DEFAULT_KEY,
    **stripe: Any,
) -> BillingData:
    monkeypatch.setenv("STRIPE_API_KEY", key)
    return open_billing("stripe", options(server, tmp_path, **stripe)).read()


def ids(data: BillingData) -> list[str]:
    return sorted(data.subscriptions.column("subscription_id").to_pylist())


def test_every_subscription_in_every_status_with_emails(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fake_stripe.store
    store.add_customers([make_customer("cus_A", "ann@example.com"), make_customer("cus_B", None)])
    store.add_subscriptions(
        [
            make_subscription("sub_1", "cus_A", "active", NOW - 1000),
            make_subscription("sub_2", "cus_A", "canceled", NOW - 90_000, ended_at=NOW - 500),
            make_subscription("sub_3", "cus_B", "past_due", NOW - 5000),
            make_subscription("sub_4", "cus_B", "incomplete_expired", NOW - 7000),
        ]
    )
    data = read(fake_stripe, tmp_path, monkeypatch)

    rows = {r["subscription_id"]: r for r in data.subscriptions.to_pylist()}
    assert sorted(rows) == ["sub_1", "sub_2", "sub_3", "sub_4"]  # status=all: none hidden
    assert rows["sub_1"]["customer_email"] == "ann@example.com"
    assert rows["sub_2"]["status"] == "canceled"
    assert {r["status"] for r in rows.values()} >= {"incomplete_expired", "past_due"}
    assert all(r["source_ref"].startswith("stripe (test mode):sub_") for r in rows.values())
    listed = fake_stripe.requests_to("/v1/subscriptions")
    assert all(record.param("status") == "all" for record in listed)
    assert "test mode, secret key" in data.description
    assert any("secret key" in note and "restricted key" in note for note in data.notes)


def test_a_large_account_is_read_in_parallel_without_gaps_or_repeats(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    population = fake_stripe.populate(2_500, seed=7, now=NOW)
    fake_stripe.latency = 0.01
    data = read(fake_stripe, tmp_path, monkeypatch, concurrency=8, incremental=False)

    assert ids(data) == sorted(sub["id"] for sub in population.subscriptions)
    assert data.skips == ()
    listed = fake_stripe.requests_to("/v1/subscriptions")
    ranged = [r for r in listed if r.param("created[gte]") is not None]
    assert len(ranged) > 10  # the walk was split by created ranges
    # Pages of 100: close to the minimum number of requests, not one per subscription.
    assert len(listed) < 2_500 / 100 * 2.5


def test_requests_never_exceed_the_configured_rate(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the pacer guarantees, as the server sees it however loaded the machine is.
    It releases requests at least 1 / (10 x JITTER_MARGIN) s apart (0.105 s), so at
    most 10 are released in any 1 s window; a request released earlier may reach the
    server later (its thread descheduled between release and send), but each of the
    walk's threads has one request in flight at most. So no 1 s window holds more than
    10 + `threads` arrivals, and the read lasts at least one interval per request after
    the first. Unpaced, two threads send several times that, in a fraction of the time."""
    threads = 2
    fake_stripe.populate(3_000, seed=3, now=NOW)
    fake_stripe.latency = 0.02
    started = time.monotonic()
    read(
        fake_stripe,
        tmp_path,
        monkeypatch,
        max_requests_per_second=10,
        concurrency=threads,
        incremental=False,
    )
    elapsed = time.monotonic() - started
    stats = fake_stripe.stats()
    released_per_second = math.floor(10 * JITTER_MARGIN) + 1
    assert stats.requests >= 30
    assert stats.max_per_second <= released_per_second + threads
    assert stats.rate_limited == 0
    # n releases, each at least one interval after the last, all within the read
    assert elapsed >= (stats.requests - 1) / (10 * JITTER_MARGIN)


def test_429_is_retried_after_retry_after_and_counted(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(300, seed=1, now=NOW)
    fake_stripe.retry_after = 0.2
    fake_stripe.inject("429", times=3, path="/v1/subscriptions")
    data = read(fake_stripe, tmp_path, monkeypatch, incremental=False)
    assert len(ids(data)) == 300
    assert "3 rate-limited and retried" in data.description


def test_server_errors_are_retried_when_stripe_says_so(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(150, seed=2, now=NOW)
    fake_stripe.inject("500", times=2)
    fake_stripe.inject("drop", times=1)
    data = read(fake_stripe, tmp_path, monkeypatch, incremental=False)
    assert len(ids(data)) == 150


def test_an_error_stripe_says_not_to_retry_stops_the_run_with_what_was_read(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(400, seed=2, now=NOW)
    fake_stripe.inject("500_no_retry", times=1, path="/v1/subscriptions")
    with pytest.raises(SourceError, match=r"after \d+ requests; the fetch stopped part-way"):
        read(fake_stripe, tmp_path, monkeypatch, incremental=False, concurrency=1)


def test_a_rejected_key_is_an_error_that_never_shows_the_key(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = "sk_test_51ThisKeyIsNotKnownToTheFakeServer00"
    with pytest.raises(SourceError, match="rejected the API key in STRIPE_API_KEY") as caught:
        read(fake_stripe, tmp_path, monkeypatch, key=bad)
    assert bad not in str(caught.value)


def test_a_restricted_key_missing_a_permission_is_told_which_and_how(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(20, seed=1, now=NOW)
    key = fake_stripe.restricted_key([PERM_CUSTOMERS])
    expected = r"lacks rak_subscription_read.*set that resource to Read"
    with pytest.raises(SourceError, match=expected):
        read(fake_stripe, tmp_path, monkeypatch, key=key)


def test_a_read_only_restricted_key_works_without_a_warning(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(20, seed=1, now=NOW)
    key = fake_stripe.restricted_key([PERM_SUBSCRIPTIONS, PERM_CUSTOMERS, PERM_EVENTS])
    data = read(fake_stripe, tmp_path, monkeypatch, key=key)
    assert len(ids(data)) == 20
    assert "restricted key" in data.description
    assert not any("secret key" in note for note in data.notes)


def test_missing_key_names_the_variables(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="STRIPE_API_KEY or STRIPE_SECRET_KEY"):
        open_billing("stripe", options(fake_stripe, tmp_path)).read()


@pytest.mark.parametrize(
    "key",
    ["sk_test_51Abc\nsk_test_51Def", "sk_test_51Abc sk_test_51Def", "sk_test_51Abc\x0751Def",
     "sk_test_51Abc\u200b51Def", "sk_test_51Abc\u201951Def"],
)  # fmt: skip
def test_a_key_with_whitespace_or_control_characters_is_refused_by_its_variable(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """Sent as it is, the HTTP library refuses the header and quotes it, escaped."""
    with pytest.raises(ConfigError, match="environment variable STRIPE_API_KEY holds") as caught:
        read(fake_stripe, tmp_path, monkeypatch, key=key, retries=0)
    assert "51Abc" not in str(caught.value) and "51Def" not in str(caught.value)
    assert fake_stripe.stats().requests == 0


def test_a_key_with_a_trailing_newline_is_trimmed(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(3, seed=1, now=NOW)
    data = read(fake_stripe, tmp_path, monkeypatch, key=f" {FakeStripe.DEFAULT_KEY}\n")
    assert len(ids(data)) == 3


def test_live_keys_are_told_apart_from_test_keys() -> None:
    from billdrift.sources.billing.stripe_key import StripeKey

    assert StripeKey("rk_live_abc", "X").mode == "live mode"
    assert StripeKey("sk_test_abc", "X").mode == "test mode"
    assert StripeKey("rk_live_abc", "X").restricted


# ------------------------------------------------------------------ incremental


def test_second_run_reads_only_what_changed_and_matches_a_full_fetch(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    population = fake_stripe.populate(10_000, seed=11, now=NOW)
    first = read(fake_stripe, tmp_path, monkeypatch)
    assert "full fetch" in first.description
    full_requests = fake_stripe.stats().requests

    changed = [sub["id"] for sub in population.subscriptions[:99]]  # 1% with the new one
    for ident in changed:
        fake_stripe.store.update_subscription(ident, status="past_due")
    fake_stripe.store.create_customer(make_customer("cus_New", "new@example.com"))
    # created now, not at NOW (taken when the module was imported, minutes earlier in a
    # long run: older than the snapshot less its five-minute overlap)
    new = make_subscription("sub_New", "cus_New", created=int(time.time()))
    fake_stripe.store.create_subscription(new)
    fake_stripe.reset_stats()

    second = read(fake_stripe, tmp_path, monkeypatch)
    assert "incremental: 100 changed subscription(s)" in second.description
    incremental_requests = fake_stripe.stats().requests
    assert incremental_requests < 0.05 * full_requests  # the target

    rows = {r["subscription_id"]: r for r in second.subscriptions.to_pylist()}
    assert all(rows[ident]["status"] == "past_due" for ident in changed)
    assert rows["sub_New"]["customer_email"] == "new@example.com"

    full = read(fake_stripe, tmp_path / "fresh", monkeypatch, incremental=False)
    assert second.subscriptions.to_pylist() == full.subscriptions.to_pylist()
    assert second.items.to_pylist() == full.items.to_pylist()


def test_a_snapshot_older_than_the_events_kept_means_a_full_fetch(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(50, seed=4, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    (meta,) = list((tmp_path / "snapshots").glob("stripe-*/meta.json"))
    import orjson

    data = orjson.loads(meta.read_bytes())
    data["fetched_at"] -= 31 * 86_400
    meta.write_bytes(orjson.dumps(data))
    again = read(fake_stripe, tmp_path, monkeypatch)
    assert "full fetch" in again.description
    assert any("the snapshot is older than 29 days (Stripe keeps" in n for n in again.notes)


DAY = 86_400


@pytest.mark.parametrize(
    ("age", "used"),
    [
        (28 * DAY + 23 * 3600, True),
        (29 * DAY, True),  # the last second it is used
        (29 * DAY + 1, False),
        (29 * DAY + 23 * 3600, False),
        (30 * DAY, False),
        (30 * DAY + 1, False),
    ],
    ids=["28d23h", "29d", "29d+1s", "29d23h", "30d", "30d+1s"],
)
def test_a_snapshot_is_used_up_to_29_days_and_the_message_says_29(
    fake_stripe: FakeStripe,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    age: int,
    used: bool,
) -> None:
    """Stripe keeps events for 30 days; the snapshot is used for 29, a day in hand,
    and the refusal says the limit it applies (it once said 30 while refusing at 29)."""
    fake_stripe.populate(5, seed=4, now=NOW)
    config = options(fake_stripe, tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", FakeStripe.DEFAULT_KEY)
    open_billing("stripe", config).read()
    (folder,) = list((tmp_path / "snapshots").glob("stripe-*"))
    import orjson

    fetched_at = orjson.loads((folder / "meta.json").read_bytes())["fetched_at"]
    if used:
        snapshot = stripe_snapshot.load(folder, config.stripe, fetched_at + age)
        assert snapshot.subscriptions.num_rows == 5
        return
    with pytest.raises(stripe_snapshot._Fallback) as refused:
        stripe_snapshot.load(folder, config.stripe, fetched_at + age)
    assert str(refused.value) == (
        "the snapshot is older than 29 days (Stripe keeps events for 30, and billdrift "
        "keeps a day in hand)"
    )


def test_a_key_that_cannot_read_events_falls_back_to_a_full_fetch(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(50, seed=4, now=NOW)
    key = fake_stripe.restricted_key([PERM_SUBSCRIPTIONS, PERM_CUSTOMERS])
    read(fake_stripe, tmp_path, monkeypatch, key=key)
    again = read(fake_stripe, tmp_path, monkeypatch, key=key)
    assert "full fetch" in again.description
    assert any("cannot read events" in note for note in again.notes)


def test_snapshot_files_that_do_not_belong_together_mean_a_full_fetch(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(30, seed=5, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    (folder,) = list((tmp_path / "snapshots").glob("stripe-*"))
    (folder / "items.parquet").write_bytes(b"not parquet")
    again = read(fake_stripe, tmp_path, monkeypatch)
    assert "full fetch" in again.description
    assert len(ids(again)) == 30


def test_the_snapshot_directory_never_contains_the_key(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(10, seed=5, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    for path in (tmp_path / "snapshots").rglob("*"):
        assert FakeStripe.DEFAULT_KEY not in path.name
        if path.is_file():
            assert FakeStripe.DEFAULT_KEY.encode() not in path.read_bytes()
    assert stripe_snapshot.FORMAT == 1


# ------------------------------------------------------------------ entitlements


def test_entitlements_become_items_with_lookup_keys_and_no_money(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fake_stripe.store
    store.add_customers([make_customer("cus_A", "a@example.com"), make_customer("cus_B", None)])
    store.add_subscriptions(
        [
            make_subscription("sub_A", "cus_A", "active", NOW - 100),
            make_subscription("sub_B", "cus_B", "canceled", NOW - 200, ended_at=NOW - 50),
        ]
    )
    store.set_entitlements("cus_A", ["team-seats", "pro-features"])
    store.set_entitlements("cus_B", ["pro-features"])  # canceled: never asked
    data = read(fake_stripe, tmp_path, monkeypatch, entitlements=True, incremental=False)

    entitled = sorted(
        (row["subscription_id"], row["lookup_key"])
        for row in data.items.to_pylist()
        if row["price_id"] is None
    )
    assert entitled == [("sub_A", "pro-features"), ("sub_A", "team-seats")]
    assert all(
        row["unit_amount_minor"] is None for row in data.items.to_pylist() if not row["price_id"]
    )
    asked = [
        r.param("customer") for r in fake_stripe.requests_to("/v1/entitlements/active_entitlements")
    ]
    assert asked == ["cus_A"]
    assert any("2 entitlement item(s) for 1 customer(s)" in note for note in data.notes)


def test_a_key_without_entitlement_access_is_told_which_permission(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.store.add_customers([make_customer("cus_A", "a@example.com")])
    fake_stripe.store.add_subscriptions([make_subscription("sub_A", "cus_A", "active", NOW)])
    key = fake_stripe.restricted_key([PERM_SUBSCRIPTIONS, PERM_CUSTOMERS, PERM_EVENTS])
    with pytest.raises(SourceError, match=r"lacks rak_entitlement_read, needed to read entitl"):
        read(fake_stripe, tmp_path, monkeypatch, key=key, entitlements=True)


# ------------------------------------------------------------------ end to end


def test_check_against_the_stripe_api_end_to_end(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from click.testing import CliRunner

    from billdrift.cli import app as cli

    store = fake_stripe.store
    store.add_customers([make_customer("cus_1", "ann@example.com"), make_customer("cus_2", None)])
    store.add_subscriptions(
        [
            make_subscription("sub_1", "cus_1", "active", NOW - 100),
            make_subscription("sub_2", "cus_2", "canceled", NOW - 900, ended_at=NOW - 400),
        ]
    )
    app = tmp_path / "app.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,f\nu2,cus_2,t\n", "utf-8")
    config = tmp_path / "billdrift.toml"
    config.write_text(
        f'[billing.stripe]\napi_base = "{fake_stripe.url}"\nsnapshot_dir = "{tmp_path / "snap"}"\n',
        "utf-8",
    )
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            "stripe",
            "--app",
            str(app),
            "--config",
            str(config),
            "--format",
            "json",
        ],
        env={"STRIPE_API_KEY": FakeStripe.DEFAULT_KEY, "CI": "1"},
    )
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    kinds = sorted((f["kind"], f["account_id"]) for f in report["findings"])
    assert kinds == [("paid_but_blocked", "u1"), ("unpaid_but_active", "u2")]
    assert FakeStripe.DEFAULT_KEY not in result.stdout + result.stderr


def test_a_failed_fetch_is_an_error_report_with_exit_2(
    fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    import json

    from click.testing import CliRunner

    from billdrift.cli import app as cli

    app = tmp_path / "app.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,f\n", "utf-8")
    config = tmp_path / "billdrift.toml"
    config.write_text(f'[billing.stripe]\napi_base = "{fake_stripe.url}"\n', "utf-8")
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            "stripe",
            "--app",
            str(app),
            "--config",
            str(config),
            "--format",
            "json",
        ],
        env={"STRIPE_API_KEY": "sk_test_wrongwrongwrong", "CI": "1"},
    )
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["verdict"] == "ERROR" and report["findings"] == []
    assert "rejected the API key" in report["errors"][0]
    assert "sk_test_wrongwrongwrong" not in result.stdout + result.stderr


def test_an_interrupted_fetch_is_an_error_not_a_partial_result(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of the walk: the run must end as an error, never with what
    was read so far."""
    from billdrift.infra.api.client import ApiClient

    fake_stripe.populate(500, seed=9, now=NOW)
    real_get = ApiClient.get
    calls = {"n": 0}

    def interrupted_on_third(self: ApiClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(ApiClient, "get", interrupted_on_third)
    with pytest.raises(SourceError, match=r"interrupted after \d+ requests; nothing was reconc"):
        read(fake_stripe, tmp_path, monkeypatch, concurrency=1, incremental=False)


@pytest.mark.parametrize(
    ("rate", "latency", "threads"),
    [(20, 0.05, 4), (60, 0.3, 36), (100, 0.2, 40), (100, 2.0, 64), (25, 0.2, 10)],
)
def test_threads_follow_the_rate_and_the_measured_latency(
    rate: float, latency: float, threads: int
) -> None:
    from billdrift.sources.billing.stripe_walk import auto_concurrency

    assert auto_concurrency(rate, latency) == threads
