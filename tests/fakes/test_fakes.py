"""The fakes themselves, checked over real HTTP with httpx.

A live source's tests are only as good as the server they run against: these
pin down that the fakes page, filter, expand, authenticate, rate-limit and fail
the way the providers do (and the way the lead's sources will rely on), and that
billdrift's own file parsers read what the fakes serve without a single skip.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from billdrift.config import BillingConfig
from billdrift.sources.billing.paddle_json import PaddleJsonSource
from billdrift.sources.billing.stripe_json import StripeJsonSource
from tests.fakes import Request
from tests.fakes.localstripe_server import LocalStripe
from tests.fakes.paddle_fake import FakePaddle
from tests.fakes.stripe_fake import (
    DAY,
    PERM_CUSTOMERS,
    PERM_SUBSCRIPTIONS,
    FakeStripe,
    StripeStore,
    make_customer,
    make_subscription,
    populate,
)

pytest_plugins = ["tests.fakes.fixtures"]

NOW = 1_767_225_600  # 2026-01-01, fixed so generated data is the same every run
Json = dict[str, Any]


def stripe_client(fake: FakeStripe, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or fake.DEFAULT_KEY}"}
    return httpx.Client(base_url=fake.url, headers=headers, timeout=10)


def walk(client: httpx.Client, path: str, **params: Any) -> Iterator[Json]:
    """Follow ``starting_after`` until ``has_more`` is false, yielding every object."""
    cursor = None
    while True:
        query = dict(params)
        if cursor is not None:
            query["starting_after"] = cursor
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["object"] == "list" and page["url"] == path
        yield from page["data"]
        if not page["has_more"]:
            return
        cursor = page["data"][-1]["id"]


@pytest.fixture
def populated(fake_stripe: FakeStripe) -> FakeStripe:
    fake_stripe.populate(600, seed=7, now=NOW)
    return fake_stripe


# ---------------------------------------------------------------------------- Stripe: listing
def test_stripe_pagination_walks_everything_once_newest_first(populated: FakeStripe) -> None:
    with stripe_client(populated) as client:
        seen = [sub["id"] for sub in walk(client, "/v1/subscriptions", status="all", limit=37)]
    expected = [sub["id"] for sub in populated.store.subscriptions]
    assert seen == expected and len(set(seen)) == 600
    keys = [(s["created"], s["id"]) for s in populated.store.subscriptions]
    assert keys == sorted(keys, reverse=True)  # newest created first, ties by id descending
    assert populated.stats().by_path["/v1/subscriptions"] == -(-600 // 37)


def test_stripe_ending_before_pages_backwards(populated: FakeStripe) -> None:
    everything = [sub["id"] for sub in populated.store.subscriptions]
    with stripe_client(populated) as client:
        page = client.get(
            "/v1/subscriptions",
            params={"status": "all", "limit": 5, "ending_before": everything[20]},
        ).json()
    assert [sub["id"] for sub in page["data"]] == everything[15:20]
    assert page["has_more"] is True


def test_stripe_default_status_omits_canceled_and_incomplete_expired(
    populated: FakeStripe,
) -> None:
    counts = Counter(sub["status"] for sub in populated.store.subscriptions)
    assert counts["canceled"] and counts["incomplete_expired"]
    with stripe_client(populated) as client:
        default = Counter(sub["status"] for sub in walk(client, "/v1/subscriptions", limit=100))
        canceled = list(walk(client, "/v1/subscriptions", status="canceled", limit=100))
        ended = list(walk(client, "/v1/subscriptions", status="ended", limit=100))
    assert "canceled" not in default and "incomplete_expired" not in default
    assert sum(default.values()) == 600 - counts["canceled"] - counts["incomplete_expired"]
    assert len(canceled) == counts["canceled"]
    assert {sub["status"] for sub in canceled} == {"canceled"}
    assert len(ended) == counts["canceled"] + counts["incomplete_expired"]


def test_stripe_created_filters_split_the_listing(populated: FakeStripe) -> None:
    subs = populated.store.subscriptions
    cut = subs[300]["created"]
    with stripe_client(populated) as client:
        older = list(walk(client, "/v1/subscriptions", status="all", limit=100,
                          **{"created[lt]": cut}))  # fmt: skip
        newer = list(walk(client, "/v1/subscriptions", status="all", limit=100,
                          **{"created[gte]": cut}))  # fmt: skip
        window = list(walk(client, "/v1/subscriptions", status="all", limit=100,
                           **{"created[gt]": cut - 30 * DAY, "created[lte]": cut}))  # fmt: skip
        exact = client.get("/v1/subscriptions", params={"status": "all", "created": cut}).json()
    assert all(sub["created"] < cut for sub in older)
    assert all(sub["created"] >= cut for sub in newer)
    assert len(older) + len(newer) == 600
    assert {s["id"] for s in window} == {
        s["id"] for s in subs if cut - 30 * DAY < s["created"] <= cut
    }
    assert exact["data"] and all(sub["created"] == cut for sub in exact["data"])


def test_stripe_populate_is_recent_heavy_and_reproducible() -> None:
    first = populate(2_000, seed=3, now=NOW)
    again = populate(2_000, seed=3, now=NOW)
    assert [s["id"] for s in first.subscriptions] == [s["id"] for s in again.subscriptions]
    created = sorted(sub["created"] for sub in first.subscriptions)
    midpoint = (created[0] + NOW) // 2
    recent = sum(ts >= midpoint for ts in created)
    assert recent > 0.6 * len(created)  # denser in recent years: equal-width splits are unequal
    statuses = first.by_status()
    assert statuses["active"] > statuses["canceled"] > statuses["trialing"] > 0
    assert {"past_due", "unpaid", "incomplete", "incomplete_expired", "paused"} <= set(statuses)
    owners = Counter(sub["customer"] for sub in first.subscriptions)
    assert any(count == 2 for count in owners.values())  # cancel + resubscribe


# ---------------------------------------------------------------------------- Stripe: objects
def test_stripe_expansion_and_period_layouts(fake_stripe: FakeStripe) -> None:
    store = fake_stripe.store
    store.add_customer(make_customer("cus_Alice", "alice@example.com", created=NOW - 100))
    store.add_subscription(
        make_subscription("sub_New", "cus_Alice", created=NOW - 50, discount=20, now=NOW)
    )
    store.add_subscription(
        make_subscription("sub_Old", "cus_Alice", "past_due", NOW - 40,
                          period_layout="subscription", now=NOW)
    )  # fmt: skip
    with stripe_client(fake_stripe) as client:
        plain = client.get("/v1/subscriptions").json()["data"]
        expanded = client.get(
            "/v1/subscriptions",
            params={"expand[]": ["data.customer", "data.items.data.price", "data.discounts"]},
        ).json()["data"]
        one = client.get("/v1/subscriptions/sub_New", params={"expand[]": "customer"}).json()
        bad = client.get("/v1/subscriptions", params={"expand[]": "customer"})
    by_id = {sub["id"]: sub for sub in plain}
    assert by_id["sub_New"]["customer"] == "cus_Alice"
    assert by_id["sub_New"]["discounts"] == ["di_" + "sub_New"[4:20]]  # ids unless expanded
    item = by_id["sub_New"]["items"]["data"][0]
    assert item["price"]["object"] == "price" and item["price"]["lookup_key"] == "pro_monthly"
    assert "current_period_end" in item and "current_period_end" not in by_id["sub_New"]
    old = by_id["sub_Old"]
    assert old["current_period_start"] < NOW < old["current_period_end"]
    assert "current_period_end" not in old["items"]["data"][0]
    assert old["plan"]["amount"] == 2900 and old["discount"] is None
    assert all(sub["customer"]["email"] == "alice@example.com" for sub in expanded)
    coupon = next(s for s in expanded if s["id"] == "sub_New")["discounts"][0]["source"]["coupon"]
    assert coupon["percent_off"] == 20.0
    assert one["customer"]["object"] == "customer"
    assert bad.status_code == 400  # lists need the data. prefix, as on Stripe


def test_stripe_retrieve_errors_and_parameter_checks(populated: FakeStripe) -> None:
    with stripe_client(populated) as client:
        missing = client.get("/v1/subscriptions/sub_x")
        unknown = client.get("/v1/subscriptions", params={"stauts": "all"})
        too_many = client.get("/v1/subscriptions", params={"limit": 101})
        cursor = client.get("/v1/subscriptions", params={"starting_after": "sub_gone"})
        route = client.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": "No such subscription: 'sub_x'",
            "param": "id",
            "type": "invalid_request_error",
        }
    }
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "parameter_unknown"
    assert too_many.status_code == 400 and too_many.json()["error"]["param"] == "limit"
    assert cursor.status_code == 400 and cursor.json()["error"]["param"] == "starting_after"
    assert route.status_code == 404


def test_stripe_auth_401_and_restricted_key_403(populated: FakeStripe) -> None:
    restricted = populated.restricted_key({PERM_SUBSCRIPTIONS})
    with httpx.Client(base_url=populated.url) as client:
        no_key = client.get("/v1/subscriptions")
        wrong = client.get(
            "/v1/subscriptions", headers={"Authorization": "Bearer sk_test_nope1234"}
        )
        basic = client.get("/v1/subscriptions", auth=(populated.DEFAULT_KEY, ""))
    with stripe_client(populated, restricted) as client:
        allowed = client.get("/v1/subscriptions")
        customers = client.get("/v1/customers")
        expand = client.get("/v1/subscriptions", params={"expand[]": "data.customer"})
    assert no_key.status_code == 401 and "did not provide an API key" in no_key.text
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid API Key provided: sk_test_***1234",
        }
    }
    assert basic.status_code == 200 and allowed.status_code == 200
    for denied in (customers, expand):
        assert denied.status_code == 403
        message = denied.json()["error"]["message"]
        assert f"Having the '{PERM_CUSTOMERS}' permission" in message
        assert "acct_1BilldriftFake0" in message and restricted not in message  # masked


def test_stripe_entitlements(fake_stripe: FakeStripe) -> None:
    fake_stripe.store.set_entitlements("cus_A", ["pro-features", "team-features"])
    with stripe_client(fake_stripe) as client:
        page = client.get(
            "/v1/entitlements/active_entitlements",
            params={"customer": "cus_A", "limit": 1, "expand[]": "data.feature"},
        ).json()
        rest = client.get(
            "/v1/entitlements/active_entitlements",
            params={"customer": "cus_A", "starting_after": page["data"][0]["id"]},
        ).json()
        nobody = client.get("/v1/entitlements/active_entitlements", params={"customer": "cus_B"})
        missing = client.get("/v1/entitlements/active_entitlements")
    first = page["data"][0]
    assert page["has_more"] is True and first["object"] == "entitlements.active_entitlement"
    assert first["lookup_key"] == "pro-features" and first["feature"]["object"].endswith("feature")
    assert [ent["lookup_key"] for ent in rest["data"]] == ["team-features"]
    assert rest["data"][0]["feature"].startswith("feat_") and not rest["has_more"]
    assert nobody.json()["data"] == [] and missing.status_code == 400


# ---------------------------------------------------------------------------- Stripe: events
def test_stripe_events_follow_mutations_and_filters() -> None:
    clock = [NOW - 40 * DAY]
    store = StripeStore(now=lambda: clock[0])
    with FakeStripe(store=store) as fake, stripe_client(fake) as client:
        store.add_customer(make_customer("cus_E", "e@example.com", created=clock[0]))
        sub = store.create_subscription(
            make_subscription("sub_E", "cus_E", created=clock[0], now=clock[0])
        )
        clock[0] = NOW - 5 * DAY
        store.update_subscription("sub_E", status="past_due")
        clock[0] = NOW - 2 * DAY
        store.cancel_subscription("sub_E", at_period_end=True)
        clock[0] = NOW - DAY
        store.cancel_subscription("sub_E")
        events = list(walk(client, "/v1/events", limit=2))
        recent = list(walk(client, "/v1/events", **{"created[gte]": NOW - 3 * DAY}))
        updated = list(walk(client, "/v1/events", **{"types[]": ["customer.subscription.updated"]}))
        wildcard = list(walk(client, "/v1/events", type="customer.subscription.*"))
        assert store.age_out_events(now=NOW) == 1  # the created event is 40 days old
        kept = list(walk(client, "/v1/events"))
    assert [e["type"] for e in events] == [
        "customer.subscription.deleted",
        "customer.subscription.updated",
        "customer.subscription.updated",
        "customer.subscription.created",
    ]
    assert events[-1]["data"]["object"]["status"] == sub["status"] == "active"
    assert events[2]["data"]["previous_attributes"] == {"status": "active"}
    assert events[1]["data"]["object"]["cancel_at_period_end"] is True
    assert events[0]["data"]["object"]["status"] == "canceled"
    assert {e["api_version"] for e in events} == {"2025-03-31.basil"}
    assert [e["type"] for e in recent] == [e["type"] for e in events[:2]]
    assert len(updated) == 2 and len(wildcard) == 4 and len(kept) == 3


# ---------------------------------------------------------------------------- knobs
def test_stripe_rate_limit_returns_429_and_counts_it(fake_stripe: FakeStripe) -> None:
    fake_stripe.rate_limit = 10
    fake_stripe.retry_after = 1
    fake_stripe.store.add_customer(make_customer("cus_R", "r@example.com"))
    with stripe_client(fake_stripe) as client, ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: client.get("/v1/customers"), range(30)))
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) == 20 and sum(r.status_code == 200 for r in responses) == 10
    assert limited[0].json()["error"]["code"] == "rate_limit"
    assert limited[0].headers["Stripe-Should-Retry"] == "true"
    assert limited[0].headers["Retry-After"] == "1"
    stats = fake_stripe.stats()
    assert stats.rate_limited == 20 and stats.by_status == {200: 10, 429: 20}
    assert stats.max_admitted_per_second == 10 and stats.max_per_second == 30


def test_stripe_latency_applies(fake_stripe: FakeStripe) -> None:
    fake_stripe.latency = 0.2
    with stripe_client(fake_stripe) as client:
        started = time.perf_counter()
        assert client.get("/v1/customers").status_code == 200
        assert time.perf_counter() - started >= 0.2


def test_stripe_injected_faults_fire_then_stop(fake_stripe: FakeStripe) -> None:
    fake_stripe.inject("500", times=2, path="/v1/subscriptions")
    fake_stripe.inject("500_no_retry", path="/v1/subscriptions")
    with stripe_client(fake_stripe) as client:
        assert client.get("/v1/customers").status_code == 200  # other paths are untouched
        first, second, third, fourth = (client.get("/v1/subscriptions") for _ in range(4))
        fake_stripe.inject("drop")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1/customers")
        fake_stripe.inject("hang", hang=2.0)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v1/customers", timeout=0.3)
        assert client.get("/v1/customers").status_code == 200
    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 500)
    assert first.headers["Stripe-Should-Retry"] == "true"
    assert third.headers["Stripe-Should-Retry"] == "false"
    assert fourth.status_code == 200
    stats = fake_stripe.stats()
    assert stats.faults == 5 and stats.dropped == 2
    assert [r.status for r in fake_stripe.requests_to("/v1/subscriptions")] == [500, 500, 500, 200]


def test_fault_hook_picks_requests(fake_stripe: FakeStripe) -> None:
    def every_other_page(request: Request) -> Any:
        return "429" if request.get("starting_after") == "sub_B" else None

    fake_stripe.fault_hook = every_other_page
    for ident, created in (("sub_A", 1), ("sub_B", 2), ("sub_C", 3)):
        fake_stripe.store.add_subscription(make_subscription(ident, "cus_H", created=created))
    with stripe_client(fake_stripe) as client:
        ok = client.get("/v1/subscriptions", params={"limit": 1, "starting_after": "sub_C"})
        limited = client.get("/v1/subscriptions", params={"limit": 1, "starting_after": "sub_B"})
    assert ok.json()["data"][0]["id"] == "sub_B" and limited.status_code == 429
    assert fake_stripe.requests[1].param("starting_after") == "sub_B"


def test_stripe_server_keeps_up_with_16_threads(populated: FakeStripe) -> None:
    """Not a benchmark: a floor that says the fake is far above Stripe's 100 req/s."""
    lock, done = threading.Lock(), [0]
    with stripe_client(populated) as client:

        def work(_: int) -> None:
            for _ in range(20):
                assert client.get("/v1/subscriptions", params={"limit": 10}).status_code == 200
                with lock:
                    done[0] += 1

        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(work, range(16)))
        rate = done[0] / (time.perf_counter() - started)
    assert done[0] == 320 and rate > 100, f"{rate:.0f} requests/s"


# ---------------------------------------------------------------------------- billdrift reads them
def test_billdrift_file_parsers_read_what_the_fakes_serve(
    populated: FakeStripe, fake_paddle: FakePaddle, tmp_path: Path
) -> None:
    fake_paddle.populate(300, seed=2, now=NOW)
    with stripe_client(populated) as client:
        subs = list(walk(client, "/v1/subscriptions", status="all", limit=100,
                         **{"expand[]": ["data.customer", "data.discounts"]}))  # fmt: skip
    stripe_file = tmp_path / "stripe.json"
    stripe_file.write_text(json.dumps({"object": "list", "data": subs}))
    paddle_file = tmp_path / "paddle.json"
    paddle_file.write_text(
        json.dumps(
            {"data": fake_paddle.store.subscriptions, "customers": fake_paddle.store.customers}
        )
    )
    stripe_data = StripeJsonSource(str(stripe_file), BillingConfig()).read()
    paddle_data = PaddleJsonSource(str(paddle_file), BillingConfig()).read()
    assert stripe_data.skips == () and stripe_data.subscriptions.num_rows == 600
    assert paddle_data.skips == () and paddle_data.subscriptions.num_rows == 300
    emails = stripe_data.subscriptions.column("customer_email").to_pylist()
    assert sum(email is not None for email in emails) > 550


# ---------------------------------------------------------------------------- Paddle
def paddle_client(fake: FakePaddle, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or fake.DEFAULT_KEY}"}
    return httpx.Client(headers=headers, timeout=10)


def paddle_walk(client: httpx.Client, url: str) -> Iterator[Json]:
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        yield from body["data"]
        pagination = body["meta"]["pagination"]
        if not pagination["has_more"]:
            return
        url = pagination["next"]


def test_paddle_pagination_follows_meta_next(fake_paddle: FakePaddle) -> None:
    population = fake_paddle.populate(450, seed=5, now=NOW)
    with paddle_client(fake_paddle) as client:
        seen = [
            s["id"] for s in paddle_walk(client, f"{fake_paddle.url}/subscriptions?per_page=200")
        ]
        first = client.get(f"{fake_paddle.url}/subscriptions", params={"per_page": 200}).json()
        backwards = [
            s["id"]
            for s in paddle_walk(client, f"{fake_paddle.url}/subscriptions?order_by=id[DESC]")
        ]
        too_big = client.get(f"{fake_paddle.url}/subscriptions", params={"per_page": 201})
    assert seen == sorted(s["id"] for s in population.subscriptions) and len(set(seen)) == 450
    assert backwards == seen[::-1]
    pagination = first["meta"]["pagination"]
    assert pagination["per_page"] == 200 and pagination["estimated_total"] == 450
    assert pagination["next"].startswith(f"{fake_paddle.url}/subscriptions?per_page=200&after=sub_")
    assert "request_id" in first["meta"]
    assert fake_paddle.stats().by_path["/subscriptions"] == 3 + 9 + 1 + 1
    assert too_big.status_code == 400 and too_big.json()["error"]["code"] == "invalid_field"


def test_paddle_filters_and_customers(fake_paddle: FakePaddle) -> None:
    population = fake_paddle.populate(200, seed=9, now=NOW)
    statuses = Counter(sub["status"] for sub in population.subscriptions)
    some = population.customers[:3]
    with paddle_client(fake_paddle) as client:
        base = fake_paddle.url
        live = list(paddle_walk(client, f"{base}/subscriptions?status=active,trialing"))
        mine = list(paddle_walk(client, f"{base}/subscriptions?customer_id={some[0]['id']}"))
        people = list(paddle_walk(client, f"{base}/customers?id={','.join(c['id'] for c in some)}"))
        one = client.get(f"{base}/subscriptions/{mine[0]['id']}").json()
        missing = client.get(f"{base}/subscriptions/sub_nope")
    assert len(live) == statuses["active"] + statuses["trialing"]
    assert {s["status"] for s in live} == {"active", "trialing"}
    assert mine and all(s["customer_id"] == some[0]["id"] for s in mine)
    assert [c["id"] for c in people] == sorted(c["id"] for c in some)
    assert one["data"]["id"] == mine[0]["id"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    sub = one["data"]
    assert sub["items"][0]["price"]["unit_price"]["amount"].isdigit()  # a string, minor units
    assert {"current_billing_period", "billing_cycle", "scheduled_change"} <= set(sub)


def test_paddle_auth_errors(fake_paddle: FakePaddle) -> None:
    fake_paddle.add_key("pdl_sdbx_apikey_customers_only", {"customer.read"})
    url = f"{fake_paddle.url}/subscriptions"
    cases = {
        "authentication_missing": {},
        "authentication_malformed": {"Authorization": "Token abc"},
        "invalid_token": {"Authorization": "Bearer pdl_nope"},
        "forbidden": {"Authorization": "Bearer pdl_sdbx_apikey_customers_only"},
    }
    for code, headers in cases.items():
        response = httpx.get(url, headers=headers)
        assert response.status_code == 403, code
        error = response.json()["error"]
        assert error["type"] == "request_error" and error["code"] == code


def test_paddle_rate_limit_and_faults(fake_paddle: FakePaddle) -> None:
    fake_paddle.rate_limit = 3
    with paddle_client(fake_paddle) as client:
        responses = [client.get(f"{fake_paddle.url}/customers") for _ in range(5)]
        fake_paddle.rate_limit = None
        fake_paddle.inject("500", times=1)
        failed = client.get(f"{fake_paddle.url}/customers")
        recovered = client.get(f"{fake_paddle.url}/customers")
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    error = responses[3].json()["error"]
    assert error == {
        "type": "api_error",
        "code": "too_many_requests",
        "detail": error["detail"],
        "documentation_url": "https://developer.paddle.com/errors/shared/too_many_requests",
    }
    assert int(responses[3].headers["Retry-After"]) >= 1
    assert failed.status_code == 500 and recovered.status_code == 200
    assert fake_paddle.stats().rate_limited == 2


# ---------------------------------------------------------------------------- localstripe
def test_localstripe_seeds_and_lists_all_statuses_across_pages(localstripe: LocalStripe) -> None:
    seeded = localstripe.seed(per_status=2)
    expected = set(seeded.all_subscriptions)
    headers = {"Authorization": f"Bearer {localstripe.API_KEY}"}
    with httpx.Client(base_url=localstripe.url, headers=headers, timeout=10) as client:
        pages, seen, emails = 0, [], set()
        cursor = None
        while True:
            params: dict[str, Any] = {"status": "all", "limit": 5, "expand[]": "data.customer"}
            if cursor is not None:
                params["starting_after"] = cursor
            page = client.get("/v1/subscriptions", params=params).json()
            pages += 1
            seen += [sub["id"] for sub in page["data"]]
            emails |= {sub["customer"]["email"] for sub in page["data"]}
            if not page["has_more"]:
                break
            cursor = seen[-1]
        default = client.get("/v1/subscriptions", params={"limit": 100}).json()["data"]
        # Gotchas the module docstring lists (a localstripe upgrade that fixes one fails here):
        restart = client.get("/v1/subscriptions", params={"status": "all", "starting_after": "x"})
        created = client.get("/v1/subscriptions", params={"created[gte]": 1})
    assert pages >= 2 and len(seen) == len(set(seen)) == len(expected) and set(seen) == expected
    assert emails == set(seeded.emails.values())
    assert seen[0] == seeded.subscriptions["active"][0]  # oldest first, unlike Stripe
    statuses = Counter(sub["status"] for sub in default)
    assert "canceled" not in statuses and statuses["trialing"] == 2 and statuses["past_due"] == 2
    assert restart.json()["data"][0]["id"] == seen[0]
    assert created.status_code == 500
    auto = [sub.id for sub in localstripe.iter_subscriptions()]
    assert sorted(auto) == sorted(expected)
