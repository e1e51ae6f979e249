"""`--billing paddle`: the Paddle Billing API source against a local fake Paddle server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.errors import ConfigError, SourceError
from billdrift.sources.registry import open_billing
from tests.fakes.paddle_fake import FakePaddle, make_customer, make_subscription

pytest_plugins = ["tests.fakes.fixtures"]

NOW = time.time()


def read(
    server: FakePaddle,
    monkeypatch: pytest.MonkeyPatch,
    key: str = FakePaddle.DEFAULT_KEY,
    **paddle: Any,
) -> BillingData:
    monkeypatch.setenv("PADDLE_API_KEY", key)
    settings = {"api_base": server.url, "max_requests_per_second": 200, **paddle}
    return open_billing("paddle", BillingConfig.model_validate({"paddle": settings})).read()


def test_every_page_of_subscriptions_with_customer_emails(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    population = fake_paddle.populate(450, seed=3, now=NOW)
    data = read(fake_paddle, monkeypatch)

    got = sorted(data.subscriptions.column("subscription_id").to_pylist())
    assert got == sorted(sub["id"] for sub in population.subscriptions)
    listed = fake_paddle.requests_to("/subscriptions")
    assert len(listed) == 3  # 200 per page: the largest page size
    assert all(record.param("per_page") == "200" for record in listed)
    emails = {c["id"]: c["email"] for c in population.customers}
    for row in data.subscriptions.to_pylist():
        assert row["customer_email"] == emails.get(row["customer_id"])
    assert "paddle API (sandbox)" in data.description
    assert data.skips == ()


def test_a_scheduled_cancel_keeps_access_until_it_takes_effect(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_paddle.store.add_customer(make_customer("ctm_1", "ann@example.com"))
    later = NOW + 10 * 86_400
    fake_paddle.store.add_subscription(
        make_subscription(
            "sub_1", "ctm_1", "active", NOW - 86_400, scheduled_change=("cancel", later)
        )
    )
    (row,) = read(fake_paddle, monkeypatch).subscriptions.to_pylist()
    assert row["status"] == "active"
    assert row["cancel_at"] is not None
    assert abs(row["cancel_at"].timestamp() - later) < 1


def test_rate_limits_are_honoured_and_retried(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_paddle.populate(100, seed=1, now=NOW)
    fake_paddle.retry_after = 0.1
    fake_paddle.inject("429", times=2, path="/subscriptions")
    data = read(fake_paddle, monkeypatch)
    assert data.subscriptions.num_rows == 100


def test_a_rejected_key_is_an_error_without_the_key(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = "pdl_live_apikey_01hnotaknownkey_ButSecretAnyway"
    with pytest.raises(SourceError) as caught:
        read(fake_paddle, monkeypatch, key=bad)
    assert bad not in str(caught.value)
    assert "PADDLE_API_KEY" in str(caught.value)


def test_a_failure_part_way_is_an_error_not_a_partial_result(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_paddle.populate(500, seed=2, now=NOW)
    fake_paddle.inject("500_no_retry", times=10, path="/subscriptions")
    with pytest.raises(SourceError, match=r"after 2 attempts.*stopped part-way"):
        read(fake_paddle, monkeypatch, retries=1)


def test_sandbox_and_live_keys_choose_the_base_url() -> None:
    from billdrift.sources.billing.paddle_api import PaddleKey

    assert PaddleKey("pdl_sdbx_apikey_x", "K").sandbox
    assert not PaddleKey("pdl_live_apikey_x", "K").sandbox


@pytest.mark.parametrize("key", ["pdl_sdbx_apikey_01Abc\r\n01Def", "pdl_sdbx_apikey_01Abc\t01Def"])
def test_a_key_with_a_line_break_or_tab_is_refused_by_its_variable(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    with pytest.raises(ConfigError, match="environment variable PADDLE_API_KEY holds") as caught:
        read(fake_paddle, monkeypatch, key=key, retries=0)
    assert "01Abc" not in str(caught.value) and "01Def" not in str(caught.value)
    assert fake_paddle.stats().requests == 0


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PADDLE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="PADDLE_API_KEY"):
        open_billing("paddle", BillingConfig()).read()


def test_an_interrupted_fetch_is_an_error(
    fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billdrift.infra.api.client import ApiClient

    fake_paddle.populate(450, seed=3, now=NOW)
    real_get = ApiClient.get
    calls = {"n": 0}

    def interrupted_on_second(self: ApiClient, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(ApiClient, "get", interrupted_on_second)
    with pytest.raises(SourceError, match="interrupted after"):
        read(fake_paddle, monkeypatch)


def test_a_sandbox_key_goes_to_the_sandbox_api_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from billdrift.infra.api import client as client_module

    seen: list[str] = []

    class Recording(client_module.ApiClient):
        def __init__(self, base_url: str, *args: Any, **kwargs: Any) -> None:
            seen.append(base_url)
            raise SourceError("stop here")

    monkeypatch.setattr("billdrift.sources.billing.paddle_api.ApiClient", Recording)
    for key in ("pdl_sdbx_apikey_abc", "pdl_live_apikey_abc"):
        monkeypatch.setenv("PADDLE_API_KEY", key)
        with pytest.raises(SourceError):
            open_billing("paddle", BillingConfig()).read()
    assert seen == ["https://sandbox-api.paddle.com", "https://api.paddle.com"]
