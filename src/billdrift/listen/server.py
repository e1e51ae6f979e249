"""The listener: a receiving process and a checking process, started and stopped together.

``serve`` runs in the process ``billdrift listen`` started; it opens the queue
(giving back the events of checks a crash cut short), starts the checks (a
:class:`~billdrift.usecases.listening.Worker`) here, and spawns the receiving
process (:mod:`billdrift.listen.receiver`: uvicorn and the Receiver), which
shares only the queue file. Receiving thus never waits for a check's share of
the interpreter (the two used to share one process and its GIL).

Stopping (SIGTERM or Ctrl-C to this process, or `stop`): the receiving process
gets SIGTERM and stops the way uvicorn does (no new connections, the requests
under way finish: each is a few milliseconds, stored and answered); then the
worker takes no more customers and waits up to ``grace`` seconds for the checks
under way. Everything acknowledged is already on disk, so nothing is lost either
way: a check cut short is redone at the next start, and events not yet checked
wait in the queue file. If the receiving process dies on its own, the checks
stop too and the exit code says so (2): a listener that cannot receive should
not look alive.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any

from billdrift.config import Config
from billdrift.infra.event_queue import EventQueue
from billdrift.infra.failures import scrub_log_records
from billdrift.listen.receiver import ReceiverSettings, receive
from billdrift.sources.billing.webhook_events import Provider
from billdrift.usecases.listening import Finished, Worker
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
    on_receiver: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set: for an embedding program or a test
    running it in a thread); returns the exit code (0 after a clean stop, 2 when the
    receiving process could not start or died). `on_receiver` is told the receiving
    process's id once it accepts connections (the load bench samples its memory)."""
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
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    receiver = context.Process(
        target=receive,
        args=(_receiver_settings(settings), dict(secrets), ready),
        name="billdrift-listen-receiver",
        daemon=True,
    )
    stopping = threading.Event()

    def take(sig: int, frame: FrameType | None) -> None:
        stopping.set()

    main = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGTERM, signal.SIGINT) if main else ()
    previous = {sig: signal.signal(sig, take) for sig in signals}
    started = False
    try:
        worker.start()
        receiver.start()
        started = _until_stopped(receiver, ready, stopping, stop, settings, on_ready, on_receiver)
    finally:
        _stop_receiver(receiver, settings.grace)
        left = worker.stop(settings.grace)
        if left:
            log.warning("%d check(s) still running at the stop: redone at the next start", left)
        checker.close()
        queue.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if started and receiver.exitcode == 0 else 2


def _receiver_settings(settings: Settings) -> ReceiverSettings:
    return ReceiverSettings(
        queue=settings.queue,
        host=settings.host,
        port=settings.port,
        window=settings.window,
        tolerance=settings.tolerance,
        max_waiting=settings.max_waiting,
        grace=settings.grace,
        log_level=log.getEffectiveLevel(),
    )


def _until_stopped(
    receiver: BaseProcess,
    ready: Any,
    stopping: threading.Event,
    stop: threading.Event | None,
    settings: Settings,
    on_ready: Callable[[str], None] | None,
    on_receiver: Callable[[int], None] | None,
) -> bool:
    """Wait for the receiving process to accept connections (telling `on_ready`), then
    for a stop: a signal, `stop`, or the receiving process ending. Whether it started."""
    started = False
    while not (stopping.is_set() or (stop is not None and stop.is_set())):
        if not started and ready.is_set():
            started = True
            if on_receiver is not None and receiver.pid is not None:
                on_receiver(receiver.pid)
            if on_ready is not None:
                on_ready(f"http://{settings.host}:{settings.port}")
        if not receiver.is_alive():
            if started:
                log.error("the receiving process ended (exit code %s)", receiver.exitcode)
            break
        stopping.wait(_POLL)
    return started


#: Seconds between looks at the stop signal, `stop` and the receiving process.
_POLL = 0.05


def _stop_receiver(receiver: BaseProcess, grace: float) -> None:
    """SIGTERM, then up to `grace` (plus a little) seconds for it to finish its requests."""
    if receiver.pid is None:
        return  # never started
    if receiver.is_alive():
        os.kill(receiver.pid, signal.SIGTERM)
        receiver.join(grace + 5)
    if receiver.is_alive():
        log.warning("the receiving process did not stop: killed")
        receiver.kill()
        receiver.join()
