"""Request pacing shared by every thread that talks to one provider.

Providers limit requests per second account-wide, and the user's own app spends
the same budget, so billdrift paces itself below a configured rate instead of
bursting into 429s. Releases are serialized: a caller waits, holding the pacer,
until one interval has passed since the previous *actual* release. Reserving
future slots instead would let threads that stalled together (a garbage
collection, a slow disk) wake and send at once, and a provider counting in a
sliding window answers such a burst with 429s.
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
        self._last = clock() - self.interval

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        with self._lock:
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._last = self._clock()

    def pause(self, seconds: float) -> None:
        """Hold every later request back `seconds` from now (the server said: slow down)."""
        with self._lock:
            self._last = max(self._last, self._clock() + seconds - self.interval)
