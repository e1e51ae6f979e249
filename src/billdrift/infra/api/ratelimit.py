"""Request pacing shared by every thread that talks to one provider.

Providers limit requests per second account-wide, and the user's own app spends
the same budget, so billdrift paces itself below a configured rate instead of
bursting into 429s. Stripe also limits each endpoint (each named operation, such
as ``GET /v1/subscriptions``) on its own, below the account-wide limit, so a
:class:`Pacer` holds one :class:`RateLimiter` for the account and one per
endpoint, and a request waits for both.

Releases are serialized: a caller waits, holding the pacer, until one interval
has passed since the previous *actual* release. Reserving future slots instead
would let threads that stalled together (a garbage collection, a slow disk) wake
and send at once, and a provider counting in a sliding window answers such a
burst with 429s. An endpoint's pacer is held while its caller waits for the
account's slot, so requests to one endpoint leave one endpoint interval apart
however the account's pacer orders them; other endpoints only share the account's.

Why not a limiter library (pyrate-limiter, aiolimiter, limits): they count
requests per window and let a whole window's budget go at once (a burst the
server, counting in its own window shifted by network jitter, answers with
429s), aiolimiter is asyncio only, and none has a shared "the server said slow
down" pause. Even spacing, the pause and an injectable clock are these few lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class RateLimiter:
    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.per_second = per_second
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last = clock() - self.interval

    def acquire(self, then: Callable[[], None] | None = None) -> None:
        """Block until this caller may send one request; with `then`, call it (another
        pacer's acquire) before releasing, so the release happens when both allow it."""
        with self._lock:
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                self._sleep(wait)
            if then is not None:
                then()
            self._last = self._clock()

    def pause(self, seconds: float) -> None:
        """Hold every later request back `seconds` from now (the server said: slow down)."""
        with self._lock:
            self._last = max(self._last, self._clock() + seconds - self.interval)


class Pacer:
    """The account-wide pace and each endpoint's, for every thread of one client.

    ``per_endpoint`` applies to every endpoint not named in ``endpoints`` (its own
    rates); None means endpoints are not paced apart (only the account is).
    """

    def __init__(
        self,
        per_second: float,
        per_endpoint: float | None = None,
        endpoints: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_endpoint is not None and per_endpoint <= 0:
            raise ValueError("per_endpoint must be positive")
        self.account = RateLimiter(per_second, clock, sleep)
        self.per_endpoint = per_endpoint
        self._rates = dict(endpoints or {})
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._endpoints: dict[str, RateLimiter] = {}

    def rate(self, endpoint: str) -> float:
        """Requests per second `endpoint` can get: the lower of its pace and the account's."""
        own = self._rates.get(endpoint, self.per_endpoint)
        return self.account.per_second if own is None else min(own, self.account.per_second)

    def acquire(self, endpoint: str) -> None:
        """Block until one request to `endpoint` may go (both paces allow it)."""
        limiter = self._limiter(endpoint)
        if limiter is None:
            self.account.acquire()
        else:
            limiter.acquire(then=self.account.acquire)

    def pause(self, seconds: float) -> None:
        """Hold every endpoint back (a 429 does not say which limit it was)."""
        self.account.pause(seconds)

    def _limiter(self, endpoint: str) -> RateLimiter | None:
        rate = self._rates.get(endpoint, self.per_endpoint)
        if rate is None:
            return None
        with self._lock:
            limiter = self._endpoints.get(endpoint)
            if limiter is None:
                limiter = self._endpoints[endpoint] = RateLimiter(rate, self._clock, self._sleep)
            return limiter
