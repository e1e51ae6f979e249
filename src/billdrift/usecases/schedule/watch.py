"""`billdrift watch --every 1h`: the check in the foreground, on an interval.

Runs never overlap (one loop, one run at a time; a run that takes longer than
the interval starts the next one right after, it does not stack them). SIGTERM
and SIGINT stop the loop cleanly: a run in progress finishes and is recorded,
then the process exits 0; a signal during the wait exits at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType


class Watch:
    def __init__(
        self,
        run: Callable[[], int],
        every: float,
        on_result: Callable[[int, float], None] = lambda code, seconds: None,
        max_runs: int | None = None,
    ) -> None:
        self.run = run
        self.every = every
        self.on_result = on_result
        self.max_runs = max_runs
        self.stopping = threading.Event()
        self.runs = 0

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping.set()

    def loop(self) -> int:
        """Run until stopped; returns 0 (a stop is not a failure)."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                code = self.run()
                self.runs += 1
                self.on_result(code, time.monotonic() - started)
                if self.max_runs is not None and self.runs >= self.max_runs:
                    break
                wait = max(0.0, self.every - (time.monotonic() - started))
                self.stopping.wait(wait)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0
