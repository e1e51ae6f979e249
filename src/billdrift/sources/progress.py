"""How a slow source tells the user it is still working, without printing itself.

Sources are I/O edges but not the UI: the CLI hands them a :class:`Progress`
(a bar on a terminal, nothing in CI or when output is piped) and the source
only reports counts.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def update(self, what: str, done: int, requests: int) -> None:
        """`done` items of `what` read so far, in `requests` requests."""

    def close(self) -> None: ...


class NoProgress:
    def update(self, what: str, done: int, requests: int) -> None:
        pass

    def close(self) -> None:
        pass


NO_PROGRESS: Progress = NoProgress()
