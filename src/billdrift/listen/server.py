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
wait in the queue file. If a receiving process dies on its own, the others and
the checks stop too and the exit code says so (2): a listener that cannot
receive should not look alive.

``--receivers N`` starts N receiving processes on one port (SO_REUSEPORT: the
kernel shares connections out among them). On a machine whose cores are busy
with other work, each process gets its share of the CPU, so more of them accept
more events per second; the queue file takes their inserts one at a time.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any

from billdrift.config import Config
from billdrift.errors import ConfigError
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
    #: Receiving processes sharing the port (more get more of a busy machine's CPU).
    receivers: int = 1


def serve(
    config: Config,
    settings: Settings,
    secrets: Mapping[Provider, Sequence[str]],
    *,
    on_finished: Finished | None = None,
    on_ready: Callable[[str], None] | None = None,
    on_receivers: Callable[[list[int]], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set: for an embedding program or a test
    running it in a thread); returns the exit code (0 after a clean stop, 2 when a
    receiving process could not start or died). `on_receivers` is told the receiving
    processes' ids once they accept connections (the load bench samples them)."""
    if settings.receivers > 1 and settings.port == 0:
        raise ConfigError("several receiving processes need a port given (--port), not 0")
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
    receivers = [
        _Receiving(context, _receiver_settings(settings), secrets)
        for _ in range(settings.receivers)
    ]
    stopping = threading.Event()

    def take(sig: int, frame: FrameType | None) -> None:
        stopping.set()

    main = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGTERM, signal.SIGINT) if main else ()
    previous = {sig: signal.signal(sig, take) for sig in signals}
    started = False
    try:
        worker.start()
        for receiver in receivers:
            receiver.process.start()
        started = _until_stopped(receivers, stopping, stop, settings, on_ready, on_receivers)
    finally:
        _stop_receivers(receivers, settings.grace)
        left = worker.stop(settings.grace)
        if left:
            log.warning("%d check(s) still running at the stop: redone at the next start", left)
        checker.close()
        queue.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    clean = all(receiver.process.exitcode == 0 for receiver in receivers)
    return 0 if started and clean else 2


class _Receiving:
    """One receiving process and the event it sets once it accepts connections."""

    def __init__(
        self, context: Any, settings: ReceiverSettings, secrets: Mapping[Provider, Sequence[str]]
    ) -> None:
        self.ready = context.Event()
        self.process: BaseProcess = context.Process(
            target=receive,
            args=(settings, dict(secrets), self.ready),
            name="billdrift-listen-receiver",
            daemon=True,
        )


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
        shared_port=settings.receivers > 1,
    )


def _until_stopped(
    receivers: list[_Receiving],
    stopping: threading.Event,
    stop: threading.Event | None,
    settings: Settings,
    on_ready: Callable[[str], None] | None,
    on_receivers: Callable[[list[int]], None] | None,
) -> bool:
    """Wait for every receiving process to accept connections (then tell `on_ready`),
    then for a stop: a signal, `stop`, or a receiving process ending. Whether they
    all started."""
    started = False
    while not (stopping.is_set() or (stop is not None and stop.is_set())):
        if not started and all(receiver.ready.is_set() for receiver in receivers):
            started = True
            if on_receivers is not None:
                on_receivers([r.process.pid for r in receivers if r.process.pid is not None])
            if on_ready is not None:
                on_ready(f"http://{settings.host}:{settings.port}")
        ended = [r.process for r in receivers if not r.process.is_alive()]
        if ended:
            if started:
                log.error("a receiving process ended (exit code %s)", ended[0].exitcode)
            break
        stopping.wait(_POLL)
    return started


#: Seconds between looks at the stop signal, `stop` and the receiving processes.
_POLL = 0.05


def _stop_receivers(receivers: list[_Receiving], grace: float) -> None:
    """SIGTERM to each, then up to `grace` (plus a little) seconds for them to finish
    their requests; killed past that."""
    running = [r.process for r in receivers if r.process.pid is not None]
    for process in running:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace + 5
    for process in running:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.warning("a receiving process did not stop: killed")
            process.kill()
            process.join()
