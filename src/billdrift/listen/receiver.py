"""The receiving process: the HTTP server and the :class:`Receiver`, nothing else.

Why a process of its own: accepting an event (verify the signature, store it,
answer) takes a millisecond, but a check (DuckDB, API walks, history writes)
holds the interpreter for long stretches. In one process they shared one GIL,
and at the issue's scale the listener accepted only 27 events/s while checks ran.
Here the receiver runs alone in a spawned process; it shares only the queue file
with the checking process (:mod:`billdrift.listen.server`), each with its own
connection to it, so receiving does not slow down with the checks.

The process is started with :mod:`multiprocessing` (spawn: a fresh interpreter,
nothing inherited but what is passed, the signing secrets through the pipe rather
than the command line). It says it is accepting connections by setting `ready`;
SIGTERM or SIGINT stop it the way uvicorn stops (finish the requests under way,
then exit 0; the parent tells a clean stop from a crash by that code).
"""

from __future__ import annotations

import logging
import signal
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from billdrift.infra.event_queue import EventQueue
from billdrift.infra.failures import scrub_log_records
from billdrift.listen.app import build_app
from billdrift.sources.billing.webhook_events import Provider
from billdrift.usecases.receiving import Receiver


@dataclass(frozen=True)
class ReceiverSettings:
    """What the receiving process needs (picklable: it crosses to the new process)."""

    queue: Path
    host: str
    port: int
    window: float
    tolerance: float
    max_waiting: int
    grace: float
    log_level: int
    #: Several receiving processes share the port (SO_REUSEPORT: the kernel spreads
    #: connections among them).
    shared_port: bool = False


def receive(
    settings: ReceiverSettings, secrets: Mapping[Provider, Sequence[str]], ready: Any
) -> None:
    """The receiving process's body (a :class:`multiprocessing.Process` target);
    `ready` is a multiprocessing Event set once connections are accepted."""
    scrub_log_records()
    logging.basicConfig(level=settings.log_level, format="billdrift listen: %(message)s")
    queue = EventQueue(
        settings.queue, window=settings.window, max_waiting=settings.max_waiting, recover=False
    )
    try:
        app = build_app(Receiver(secrets, queue, settings.tolerance))
        server = _Server(
            uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                lifespan="off",
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=int(settings.grace) or 1,
            ),
            ready,
        )
        # uvicorn raises the signal that stopped it again once it has stopped, for the
        # handler it found installed: this one takes it, so a clean stop exits 0.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda sig, frame: None)
        server.run(sockets=[_shared_socket(settings)] if settings.shared_port else None)
    finally:
        queue.close()
    if not server.started:
        raise SystemExit(2)


def _shared_socket(settings: ReceiverSettings) -> socket.socket:
    """A socket bound to the listener's address that other receiving processes may bind
    too; uvicorn listens on it."""
    family, kind, proto, _, address = socket.getaddrinfo(
        settings.host, settings.port, type=socket.SOCK_STREAM
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling the parent when it accepts connections."""

    def __init__(self, config: uvicorn.Config, ready: Any) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready.set()
