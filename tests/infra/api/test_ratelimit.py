"""The shared request pacer: never above the rate, across threads, and 429 pushes back."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from billdrift.infra.api.ratelimit import RateLimiter


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
