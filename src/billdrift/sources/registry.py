"""The one place where source implementations are registered and chosen.

Billing inputs are auto-detected from their content (or named explicitly as
``KIND:PATH``); app inputs are chosen by URL scheme or file type.

Sources chosen by name or URL alone (a provider's API, a Stripe mirror, an app
database) are imported only when chosen: they pull in HTTP clients, retry policies
and database drivers that a check of two files never uses, and the small check
of a few files is the common run, where start-up is most of the time. For the
same reason the JSON readers are asked only about content that opens a JSON
object or array (their own first test), and the SQLite reader loads only for a
SQLite database (told by :mod:`billdrift.sources.app.sqlite_file`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path
from threading import Event
from typing import Any

from billdrift.config import AppConfig, BillingConfig
from billdrift.core.model import AppData, BillingData
from billdrift.errors import BilldriftError, SourceError
from billdrift.infra.db.urls import is_database_url, redact
from billdrift.infra.duck import SharedDatabase, sharing_cores
from billdrift.infra.runtime import ready_for_threads
from billdrift.sources.app.csv_file import CsvAppSource
from billdrift.sources.app.interface import AppSource
from billdrift.sources.app.sqlite_file import is_sqlite_location
from billdrift.sources.billing.common import looks_like_json
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.progress import NO_PROGRESS, Progress

#: Kind -> (module, class) of the sources told by their content. Order matters: the
#: first source whose sniff() accepts the content wins.
SNIFFED_SOURCES: dict[str, tuple[str, str]] = {
    "paddle-json": ("billdrift.sources.billing.paddle_json", "PaddleJsonSource"),
    "stripe-json": ("billdrift.sources.billing.stripe_json", "StripeJsonSource"),
    "stripe-csv": ("billdrift.sources.billing.stripe_csv", "StripeCsvSource"),
}
#: The sniffed sources that read JSON: asked only about content that looks like JSON.
_JSON_KINDS = ("paddle-json", "stripe-json")
#: The Stripe mirror: a database, never sniffed; chosen by URL or as ``stripe-mirror:URL``
#: (the layouts it is introspected for, mirrors and warehouse loads: sources/billing/layouts).
MIRROR_KIND = "stripe-mirror"
#: Billing inputs named by a bare word: the provider's live API, key from the environment.
API_SOURCES = ("stripe", "paddle")

_SNIFF_BYTES = 64 * 1024


def billing_kinds() -> list[str]:
    return [*SNIFFED_SOURCES, MIRROR_KIND, *API_SOURCES]


def named_source(kind: str) -> type[BillingSource]:
    """The billing source named `kind` (one of :func:`billing_kinds`), imported now."""
    if kind in SNIFFED_SOURCES:
        module, name = SNIFFED_SOURCES[kind]
        source: type[BillingSource] = getattr(importlib.import_module(module), name)
        return source
    if kind == MIRROR_KIND:
        from billdrift.sources.billing.stripe_mirror import StripeMirrorSource

        return StripeMirrorSource
    if kind == "stripe":
        from billdrift.sources.billing.stripe_api import StripeApiSource

        return StripeApiSource
    if kind == "paddle":
        from billdrift.sources.billing.paddle_api import PaddleApiSource

        return PaddleApiSource
    raise KeyError(kind)


def open_billing(spec: str, options: BillingConfig) -> BillingSource:
    """Pick the billing source for `spec` (``PATH``, ``KIND:PATH``, or a database URL)."""
    kinds = billing_kinds()
    kind, sep, rest = spec.partition(":")
    if sep and kind in kinds:
        return named_source(kind)(rest, options)
    if spec in API_SOURCES:  # `--billing stripe`: the provider's API
        return named_source(spec)(spec, options)
    if is_database_url(spec):  # postgresql://, mysql://, env:NAME: a Stripe mirror
        return named_source(MIRROR_KIND)(spec, options)
    path = Path(spec)
    if not path.exists():
        raise SourceError(
            f"billing file not found: {spec}"
            + (
                " (for a provider's API, pass --billing stripe or --billing paddle)"
                if spec.lower() in API_SOURCES
                else ""
            )
        )
    if path.is_dir():
        raise SourceError(f"billing input {spec} is a directory; expected a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as error:
        raise SourceError(f"cannot read billing file {spec}: {error.strerror}") from None
    if not head.strip():
        raise SourceError(f"billing file {spec} is empty")
    json = looks_like_json(head)
    for kind in SNIFFED_SOURCES:
        if kind in _JSON_KINDS and not json:
            continue
        source = named_source(kind)
        if source.sniff(path, head):
            return source(spec, options)
    raise SourceError(
        f"cannot tell what {spec} is: expected Stripe subscriptions JSON (list object, array "
        "or JSON Lines), a Stripe-style subscriptions CSV export, Paddle Billing "
        "subscriptions JSON, a database URL holding a Stripe mirror (postgresql://..., "
        "env:NAME), or `stripe` for Stripe's API. Name a file explicitly as KIND:PATH with "
        "KIND one of "
        f"{', '.join(billing_kinds())}"
    )


def app_sources(location: str) -> tuple[type[AppSource], ...]:
    """The app sources that may read `location`, in the order they are asked: the
    SQLite reader only for a SQLite database, the database source (and its
    drivers) only for a database URL."""
    if is_sqlite_location(location):  # what SqliteAppSource.accepts, first in line
        from billdrift.sources.app.sqlite import SqliteAppSource

        return (SqliteAppSource,)
    if not is_database_url(location):
        return (CsvAppSource,)
    from billdrift.sources.app.database import DatabaseAppSource

    return (DatabaseAppSource, CsvAppSource)


def open_app(location: str, options: AppConfig) -> AppSource:
    """Pick the app source for a path or URL."""
    for source in app_sources(location):
        if source.accepts(location):
            return source(location, options)
    raise SourceError(
        f"cannot read app data from {redact(location)}: expected a CSV file, a SQLite "
        "database file, a database URL (postgresql://, mysql://, mariadb://, sqlite:///) or "
        "env:NAME naming an environment variable that holds one"
    )


def read_sources(
    billing_specs: Sequence[str],
    app_location: str,
    billing: BillingConfig,
    app: AppConfig,
    progress: Progress = NO_PROGRESS,
) -> tuple[list[BillingData], AppData]:
    """Read every input at once, in threads: a file source spends part of its time
    in single-threaded Python and Arrow work while the other core would idle, and a
    live source mostly waits on the network or a database.

    Every source is opened (chosen, checked to exist) before any is read, so a bad
    argument fails at once; native libraries start here, before the threads do (see
    billdrift.infra.runtime.ready_for_threads). Once a read fails, the others are
    told to stop (a paged API read stops at its next page) and waited for: no reader
    outlives the call, since they share one DuckDB database and a read left running
    would go on spending the provider's rate limit (a reader blocked on a slow peer
    ends at its source's timeout). If several reads fail on their own, the first in
    argument order (billing inputs, then the app) is the error raised. An interrupt
    (Ctrl-C) is not waited on: the readers are told to stop, and the check ends at once.
    """
    billing_sources = [open_billing(spec, billing) for spec in billing_specs]
    stop = Event()
    stoppable = [_Stoppable(progress, stop) for _ in billing_sources]
    for source, reporting in zip(billing_sources, stoppable, strict=True):
        source.progress = reporting
    app_source = open_app(app_location, app)
    readers = len(billing_sources) + 1
    database = SharedDatabase()  # one DuckDB database for all of them
    # It is DuckDB's first connection of the process, if none was made yet.
    ready_for_threads(tls=any(source.uses_tls for source in billing_sources), first=database.open)
    pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="read")
    reads: list[Future[Any]] = []
    try:
        for work in [*(source.read for source in billing_sources), app_source.read]:
            reads.append(pool.submit(sharing_cores(readers, work, database)))
        wait(reads, return_when=FIRST_EXCEPTION)
    except BaseException:  # Ctrl-C: the check ends at once, whatever a reader waits on
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    stop.set()  # all done, or one failed: the others stop at their next page, and end
    pool.shutdown(wait=True, cancel_futures=True)
    stopped = [reporting.stopped for reporting in stoppable] + [False]
    for read, was_stopped in zip(reads, stopped, strict=True):
        if not was_stopped and not read.cancelled() and read.exception() is not None:
            read.result()  # raises it
    return [read.result() for read in reads[:-1]], reads[-1].result()


class ReadStopped(BilldriftError):
    """A read stopped because another read failed: never the error shown."""


class _Stoppable:
    """The progress a billing source reports to, which also stops its read once `stop`
    is set: sources report after every page, so a paged API read ends within a page
    of another read's failure instead of running to its end."""

    def __init__(self, progress: Progress, stop: Event) -> None:
        self._progress = progress
        self._stop = stop
        self.stopped = False

    def update(self, what: str, done: int, requests: int) -> None:
        if self._stop.is_set():
            self.stopped = True
            raise ReadStopped(f"reading {what} stopped: another input failed")
        self._progress.update(what, done, requests)

    def close(self) -> None:
        self._progress.close()
