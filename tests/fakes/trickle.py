"""A peer that answers one byte per second: the slow-loris case for client deadlines.

:class:`TrickleServer` listens on 127.0.0.1 and answers every connection with a
fixed reply, ``prompt`` bytes at once and then one byte every ``interval``
seconds, so no single read ever waits long enough to time out. With
``read_request`` it first reads an HTTP request (head and Content-Length body);
without it, it starts talking at once, as an SMTP server's greeting does.

A connection is dropped after ``limit`` seconds so a client without a deadline
still ends (late) instead of hanging the test suite.
"""

from __future__ import annotations

import socket
import threading
import time

from tests.fakes.tcp import LocalTcpServer

#: A complete, valid HTTP response whose body would take minutes at one byte a second.
BODY = b'{"data": [], "has_more": false, "padding": "' + b"x" * 200 + b'"}'
HTTP_REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)
#: Where the body starts: send this much at once to trickle only the body.
HEADERS_LENGTH = HTTP_REPLY.index(b"\r\n\r\n") + 4
SMTP_GREETING = b"220 smtp.example.test ESMTP ready, very slowly" + b"." * 200 + b"\r\n"


class TrickleServer(LocalTcpServer):
    def __init__(
        self,
        reply: bytes = HTTP_REPLY,
        *,
        prompt: int = 0,
        interval: float = 1.0,
        read_request: bool = True,
        limit: float = 30.0,
    ) -> None:
        super().__init__()
        self.reply = reply
        self.prompt = prompt
        self.interval = interval
        self.read_request = read_request
        self.limit = limit
        #: Connections accepted so far, and how long each lasted (seconds) once it ended.
        self.connections = 0
        self.durations: list[float] = []
        self._lock = threading.Lock()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self, sock: socket.socket) -> None:
        started = time.monotonic()
        with self._lock:
            self.connections += 1
        try:
            if self.read_request:
                _read_request(sock)
            sock.sendall(self.reply[: self.prompt])
            for index in range(self.prompt, len(self.reply)):
                if self._stop.wait(self.interval) or time.monotonic() - started > self.limit:
                    return
                sock.sendall(self.reply[index : index + 1])
        except OSError:
            return  # the client gave up: what a deadline is for
        finally:
            with self._lock:
                self.durations.append(time.monotonic() - started)


def _read_request(sock: socket.socket) -> None:
    """Read one HTTP request: the head, then as many body bytes as Content-Length says."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return
        body += chunk
