"""Progress bars for slow sources, on a terminal only.

A bar on stderr when stderr is a terminal and the run is not in CI; nothing
otherwise, so logs and piped output stay clean. tqdm does the drawing
(terminal width, rates, thread safety).
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from billdrift.sources.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from tqdm import tqdm


class TerminalProgress:
    def __init__(self) -> None:
        self._bars: dict[str, tqdm[Any]] = {}
        self._lock = threading.Lock()

    def update(self, what: str, done: int, requests: int) -> None:
        with self._lock:
            if what not in self._bars:
                from tqdm import tqdm  # here: only a run that shows a bar imports it

                self._bars[what] = tqdm(desc=f"reading {what}", file=sys.stderr, leave=False)
            bar = self._bars[what]
            bar.n = done
            bar.set_postfix_str(f"{requests:,} requests", refresh=False)
            bar.refresh()

    def close(self) -> None:
        with self._lock:
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()


def progress_for_terminal() -> Progress:
    """A bar when a person is watching; silence in CI and when stderr is redirected."""
    if os.environ.get("CI") or not sys.stderr.isatty():
        return NO_PROGRESS
    return TerminalProgress()
