"""Request pacing shared by every thread that talks to one provider.

Providers limit requests per second account-wide, and the user's own app spends
the same budget, so billdrift paces itself below a configured rate instead of
bursting into 429s. Each request reserves the next free slot on a schedule
spaced ``1/rate`` apart (a leaky bucket), so N threads together never exceed
the rate, and a thread that would be early sleeps until its slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


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
        self._next = clock()

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)

    def pause(self, seconds: float) -> None:
        """Push every later slot back (the server asked us to slow down: 429)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)
