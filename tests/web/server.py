"""The web app served for real: uvicorn on 127.0.0.1 and a free port, in a thread.

Tests talk to it over TCP like a browser does (through Playwright or httpx), so the
middleware, cookies and headers are the ones a user gets.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from billdrift.web.app import create_app
from billdrift.web.settings import WebSettings


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    settings: WebSettings


@contextlib.contextmanager
def served(settings: WebSettings, lifespan: str = "off") -> Iterator[Served]:
    """Serve `settings`' app until the block ends; its URL is http://127.0.0.1:PORT.
    ``lifespan="on"`` runs the app's start-up and shut-down as ``billdrift serve`` does."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), log_level="warning", access_log=False, lifespan=lifespan
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover - a broken start
            raise RuntimeError("the web app did not start within 10 s")
        time.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{port}", port, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
