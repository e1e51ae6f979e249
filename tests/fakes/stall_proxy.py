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
import socketserver
import threading
import time
from types import TracebackType


class StallProxy:
    def __init__(
        self,
        target: tuple[str, int],
        marker: bytes,
        *,
        interval: float = 1.0,
        limit: float = 30.0,
    ) -> None:
        self.target = target
        self.marker = marker
        self.interval = interval
        self.limit = limit
        #: Whether a client sent the marker (so the stall really happened).
        self.stalled = threading.Event()
        self._stop = threading.Event()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

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

    def __enter__(self) -> StallProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
