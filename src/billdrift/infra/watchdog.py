"""A deadline for blocking network code that has no deadline of its own (smtplib).

A socket timeout bounds one wait, not a conversation: a server that sends one
byte a second keeps every wait short and the conversation endless. The
:func:`watchdog` thread ends it instead: at the deadline it calls ``cut``
(shut the socket down, say), which makes the blocked call return at once
with an error; it calls it again every 50 ms until the block ends, so a
socket opened or replaced (STARTTLS) after the first cut is cut too.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: Seconds between two cuts once the deadline has passed.
_AGAIN = 0.05


@dataclass
class Watch:
    """Whether the deadline passed before the block ended."""

    fired: bool = False


@contextlib.contextmanager
def watchdog(seconds: float, cut: Callable[[], None]) -> Iterator[Watch]:
    """Call `cut` if the block is still running after `seconds` (and every 50 ms
    after that until it ends). An OSError from `cut` is ignored."""
    done = threading.Event()
    watch = Watch()

    def guard() -> None:
        if done.wait(seconds):
            return
        watch.fired = True
        while True:
            with contextlib.suppress(OSError):
                cut()
            if done.wait(_AGAIN):
                return

    thread = threading.Thread(target=guard, name="billdrift-deadline", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        done.set()
        thread.join()


def shut(sock: socket.socket | None) -> None:
    """Shut `sock` down both ways (a blocked read or write returns at once); a TLS
    socket's raw socket is shut, leaving the TLS object to fail on its own."""
    if sock is not None:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
