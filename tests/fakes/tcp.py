"""A threaded TCP server on 127.0.0.1 for the misbehaving peers of the deadline tests.

Subclasses say what to do with one connection (:meth:`LocalTcpServer._serve`); this
holds the listening socket, the serving thread, the stop signal the subclasses wait
on, and the context manager that starts and stops them.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from types import TracebackType
from typing import Self


class LocalTcpServer:
    def __init__(self) -> None:
        self._stop = threading.Event()
        #: When each connection was accepted (``time.monotonic()``): a test times its
        #: client from the moment the peer starts misbehaving, not from a process start
        #: or a read's earlier work, which a loaded machine stretches.
        self.accepted: list[float] = []
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner.accepted.append(time.monotonic())
                owner._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def since_first_connection(self) -> float:
        """Seconds from the first connection's acceptance to now."""
        assert self.accepted, "no connection was made"
        return time.monotonic() - self.accepted[0]

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def _serve(self, sock: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
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
