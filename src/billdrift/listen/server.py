"""The listener process: queue, worker and HTTP server started together, stopped cleanly.

Stopping (SIGTERM or Ctrl-C): uvicorn stops accepting connections and lets the
requests under way finish (each is a few milliseconds: stored, answered); then
the worker takes no more customers and waits up to ``grace`` seconds for the
checks under way. Everything acknowledged is already on disk, so nothing is lost
either way: a check cut short is redone at the next start, and events not yet
checked wait in the queue file. uvicorn re-raises the signal it caught once it
has stopped; the handlers installed here take it, so the worker still gets its
grace period and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from billdrift.config import Config
from billdrift.infra.event_queue import EventQueue
from billdrift.infra.failures import scrub_log_records
from billdrift.listen.app import build_app
from billdrift.sources.billing.webhook_events import Provider
from billdrift.usecases.listening import Finished, Receiver, Worker
from billdrift.usecases.targeted import TargetedChecker

log = logging.getLogger("billdrift.listen")


@dataclass(frozen=True)
class Settings:
    """How the listener runs (``billdrift listen``'s options)."""

    queue: Path
    host: str = "127.0.0.1"
    port: int = 8787
    #: Seconds events for one customer are gathered before its check (a burst is one check).
    window: float = 5.0
    #: Seconds a signed timestamp may be from now.
    tolerance: float = 300.0
    #: Checks run at once (they share the provider's rate limit).
    threads: int = 4
    #: Most customers checked together in one targeted run.
    batch: int = 50
    #: Seconds a stop waits for checks under way.
    grace: float = 30.0
    #: Events the queue holds before refusing more (503: the provider retries).
    max_waiting: int = 100_000


def serve(
    config: Config,
    settings: Settings,
    secrets: Mapping[Provider, Sequence[str]],
    *,
    on_finished: Finished | None = None,
    on_ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set: for an embedding program or a test
    running it in a thread); returns the exit code (0 after a clean stop)."""
    scrub_log_records()  # a failed check's log line may name what the user typed
    queue = EventQueue(settings.queue, window=settings.window, max_waiting=settings.max_waiting)
    if queue.recovered:
        log.warning("%d check(s) cut short last time are queued again", queue.recovered)
    try:
        checker = TargetedChecker(config, providers=tuple(secrets))
    except BaseException:
        queue.close()
        raise
    worker = Worker(
        queue,
        checker.check,
        threads=settings.threads,
        batch=settings.batch,
        on_finished=on_finished,
    )
    app = build_app(Receiver(secrets, queue, settings.tolerance))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=int(settings.grace) or 1,
        )
    )
    stopping = threading.Event()

    def take(sig: int, frame: FrameType | None) -> None:
        stopping.set()

    main = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGTERM, signal.SIGINT) if main else ()
    previous = {sig: signal.signal(sig, take) for sig in signals}
    worker.start()
    try:
        if on_ready is not None:
            _when_started(server, settings, on_ready)
        if stop is not None:
            _stop_when(server, stop)
        server.run()
    finally:
        left = worker.stop(settings.grace)
        if left:
            log.warning("%d check(s) still running at the stop: redone at the next start", left)
        checker.close()
        queue.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 2


def _when_started(server: uvicorn.Server, settings: Settings, ready: Callable[[str], None]) -> None:
    """Call `ready` with the listening address once uvicorn is accepting connections."""

    def wait() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.02)
        if server.started:
            ready(f"http://{settings.host}:{settings.port}")

    threading.Thread(target=wait, name="listen-ready", daemon=True).start()


def _stop_when(server: uvicorn.Server, stop: threading.Event) -> None:
    def wait() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=wait, name="listen-stop", daemon=True).start()
