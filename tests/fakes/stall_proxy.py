"""A TCP proxy in front of a real database that turns into a trickle on cue.

:class:`StallProxy` forwards both ways between a client and a real server until
the client sends bytes containing ``marker`` (say, the ``COPY`` billdrift streams
rows with); from then on, what the server says reaches the client one byte every
``interval`` seconds. The login, the read-only checks and everything before the
marked statement run normally: the stall happens mid-conversation, where the
driver's connect timeout no longer applies and a fake server could not lead it.

A connection is dropped after ``limit`` seconds so a client without a deadline
still ends (late) instead of hanging the test suite.
"""

from __future__ import annotations

import socket
import threading
import time

from tests.fakes.tcp import LocalTcpServer


class StallProxy(LocalTcpServer):
    def __init__(
        self,
        target: tuple[str, int],
        marker: bytes,
        *,
        interval: float = 1.0,
        limit: float = 30.0,
    ) -> None:
        super().__init__()
        self.target = target
        self.marker = marker
        self.interval = interval
        self.limit = limit
        #: Whether a client sent the marker (so the stall really happened), and when.
        self.stalled = threading.Event()
        self.stalled_at = 0.0

    def since_stall(self) -> float:
        """Seconds from the stall's start (the marked statement) to now."""
        assert self.stalled.is_set(), "the marked statement was never sent"
        return time.monotonic() - self.stalled_at

    def _serve(self, client: socket.socket) -> None:
        started = time.monotonic()
        marked = threading.Event()
        with socket.create_connection(self.target) as server:

            def upstream() -> None:
                seen = b""
                try:
                    while chunk := client.recv(65536):
                        seen = (seen + chunk)[-4096:]
                        if self.marker in seen:
                            if not self.stalled.is_set():
                                self.stalled_at = time.monotonic()
                            marked.set()
                            self.stalled.set()
                        server.sendall(chunk)
                except OSError:
                    pass

            threading.Thread(target=upstream, daemon=True).start()
            try:
                while chunk := server.recv(65536):
                    if not marked.is_set():
                        client.sendall(chunk)
                        continue
                    for index in range(len(chunk)):
                        late = time.monotonic() - started > self.limit
                        if self._stop.wait(self.interval) or late:
                            return
                        client.sendall(chunk[index : index + 1])
            except OSError:
                return  # the client gave up: what a deadline is for
