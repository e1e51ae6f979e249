"""The shared request pacer: never above the rate (the account's and each endpoint's), across
threads, and 429 pushes back."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from billdrift.infra.api.ratelimit import Pacer, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_requests_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock.time, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(clock.time())
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.1, 0.1, 0.1, 0.1]


def test_an_idle_limiter_does_not_bank_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock.time, sleep=clock.sleep)
    limiter.acquire()
    clock.sleep(5.0)  # idle for a while
    before = clock.time()
    limiter.acquire()
    limiter.acquire()
    assert clock.time() - before == pytest.approx(0.1)


def test_pause_delays_every_later_request() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock.time, sleep=clock.sleep)
    limiter.acquire()
    limiter.pause(2.0)
    before = clock.time()
    limiter.acquire()
    assert clock.time() - before == pytest.approx(2.0, abs=0.011)


def test_threads_together_stay_under_the_rate() -> None:
    """Real clock, 8 threads, 40 requests at 200/s: no 1/200 s window holds two starts."""
    limiter = RateLimiter(200)
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            limiter.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    elapsed = starts[-1] - starts[0]
    assert len(starts) == 40
    assert elapsed >= 39 / 200 * 0.95  # 40 requests need at least 39 intervals


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_one_endpoint_is_paced_apart_while_another_shares_only_the_account() -> None:
    clock = FakeClock()
    pacer = Pacer(100, per_endpoint=10, clock=clock.time, sleep=clock.sleep)
    starts: dict[str, list[float]] = {"/a": [], "/b": []}
    for endpoint in ["/a", "/b", "/a", "/b", "/a"]:
        pacer.acquire(endpoint)
        starts[endpoint].append(clock.time())
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts["/a"])]
    assert gaps == [0.1, 0.1]  # its own 10/s
    assert starts["/b"][0] - starts["/a"][0] == pytest.approx(0.01)  # only the account's 100/s


def test_an_endpoint_named_with_its_own_rate_keeps_it() -> None:
    pacer = Pacer(50, per_endpoint=20, endpoints={"/v1/files": 5})
    assert pacer.rate("/v1/files") == 5
    assert pacer.rate("/v1/subscriptions") == 20
    assert Pacer(10, per_endpoint=20).rate("/v1/subscriptions") == 10  # the account's is lower
    assert Pacer(10).rate("/v1/subscriptions") == 10  # endpoints not paced apart


def test_a_pause_holds_every_endpoint() -> None:
    clock = FakeClock()
    pacer = Pacer(100, per_endpoint=50, clock=clock.time, sleep=clock.sleep)
    pacer.acquire("/a")
    pacer.pause(2.0)
    before = clock.time()
    pacer.acquire("/b")
    assert clock.time() - before == pytest.approx(2.0, abs=0.011)


def test_threads_on_one_endpoint_stay_under_its_rate_with_a_higher_account_rate() -> None:
    """Real clock, 6 threads, 30 requests to one endpoint at 100/s under an account at
    1000/s: 30 requests need at least 29 endpoint intervals."""
    pacer = Pacer(1000, per_endpoint=100)
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            pacer.acquire("/v1/subscriptions")
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 30
    assert starts[-1] - starts[0] >= 29 / 100 * 0.95
