"""A threaded TCP server on 127.0.0.1 for the misbehaving peers of the deadline tests.

Subclasses say what to do with one connection (:meth:`LocalTcpServer._serve`); this
holds the listening socket, the serving thread, the stop signal the subclasses wait
on, and the context manager that starts and stops them.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from types import TracebackType
from typing import Self


class LocalTcpServer:
    def __init__(self) -> None:
        self._stop = threading.Event()
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._serve(self.request)

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
