"""The process tuning a large check needs, in one place.

Everything here is about the Python process, not about billing or access: where
a figure below is quoted, it was measured on the 1M x 1M benchmark (see
docs/benchmarks.md). Nothing else in the package touches the garbage collector,
the allocator's environment or the way the process ends.

* **The cyclic garbage collector is paused** while the command's modules load
  (pydantic, pyarrow and DuckDB allocate hundreds of thousands of objects that
  live as long as the process) and around each check (:func:`collector_paused`):
  reading sources, building tens of thousands of findings and parsing API pages
  allocate millions of small objects that hold no reference cycles, which
  reference counting frees; full passes over them free nothing and stop every
  thread (up to ~0.9 s on a large fetch, letting stalled API threads send their
  requests in one burst afterwards). Objects are not ``gc.freeze()``-d: frozen
  objects are never freed at exit and DuckDB's bindings then print leak warnings.
* **Arrow's allocator** (mimalloc, configured from the environment when pyarrow
  loads; a value the user set is kept) returns freed pages after 200 ms rather
  than mimalloc's default 10 ms, so CSV parse buffers are reused instead of being
  faulted in afresh (system time 1.5 -> 1.2 s, for 80 MB more peak), and uses no
  transparent huge pages (each first touch would zero 2 MB at once). Once the
  inputs are read, the pages it kept are given back (:func:`release_read_buffers`):
  the stages allocate in DuckDB, and those pages would stay resident through the
  run's peak (peak RSS about 45-60 MB lower at 1M x 1M).
* **pydantic's plugin discovery is skipped** while the configuration models are
  built (it reads every installed package's entry points: about 50 ms a run); the
  environment is restored afterwards.
* **The process ends without interpreter teardown** (:func:`leave`): unloading
  pyarrow, DuckDB and pydantic and a last collection took about 0.1 s at every
  exit, to free memory the kernel reclaims anyway. For the same reason a command's
  result is held until the process ends (:func:`keep_until_exit`): freeing the
  35,000 findings of a million-account report one object at a time, when the
  command returned, took about 0.05 s of CPU (more wall time on a loaded machine).
* **Native libraries start on one thread** (:func:`ready_for_threads`): DuckDB's
  first connection of the process (and, for a run that talks TLS, OpenSSL's
  first context) is made before the reader threads start. A full test run once
  crashed natively in ``duckdb.connect`` on a reader thread while another thread
  was creating an SSL context; each library's one-time start-up is global state
  that other threads must not race.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: Which one-time native start-ups (see :func:`ready_for_threads`) this process has done.
_STARTED: set[str] = set()
_STARTING = threading.Lock()

#: pydantic looks for plugins in every installed package's entry points each
#: time a model class is created; billdrift's configuration models need none.
_NO_PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"

#: Settings for Arrow's allocator (mimalloc), read when pyarrow loads.
ARROW_ALLOCATOR = {"MIMALLOC_PURGE_DELAY": "200", "MIMALLOC_ALLOW_THP": "0"}


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, then back as the caller had it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def loading() -> Iterator[None]:
    """The block (the imports of what a command runs, once its arguments are parsed)
    with the allocator configured, the collector paused and pydantic's plugin scan
    skipped; the user's own setting of ``PYDANTIC_DISABLE_PLUGINS`` is what the rest
    of the process sees.

    A front-end imports its heavy modules (DuckDB, Arrow, the configuration models,
    the engine) here, inside the command being run, never at the top of the module
    declaring it: ``--help`` and an argument error then load none of them."""
    for name, value in ARROW_ALLOCATOR.items():
        os.environ.setdefault(name, value)
    user_setting = os.environ.get(_NO_PYDANTIC_PLUGINS)
    os.environ[_NO_PYDANTIC_PLUGINS] = "__all__"
    try:
        with collector_paused():
            yield
    finally:
        if user_setting is None:
            del os.environ[_NO_PYDANTIC_PLUGINS]
        else:
            os.environ[_NO_PYDANTIC_PLUGINS] = user_setting


def load_tuned(load: Callable[[], T]) -> T:
    """`load()` run :func:`loading`."""
    with loading():
        return load()


def release_read_buffers() -> None:
    """Give back to the system the pages Arrow's allocator still holds once the
    inputs are read.

    Parsing a large file frees far more than it keeps (the CSV parser's blocks, the
    text columns DuckDB typed, the copies a filter made); with the purge delay
    above, mimalloc keeps those pages for reuse, but what follows (the stages)
    allocates in DuckDB, not in Arrow's pool, so they would stay resident through
    the run's peak: about 90 MB after reading the 1M x 1M benchmark's CSVs. A
    no-op costing microseconds when nothing was freed.
    """
    import pyarrow  # loaded by then: importing it here keeps the allocator settings first

    pyarrow.default_memory_pool().release_unused()


#: What the process ends with (see keep_until_exit): one value, the latest.
_KEPT: list[object] = []


def keep_until_exit(value: object) -> None:
    """Hold `value` until the process ends (:func:`leave` frees nothing), instead of
    freeing it object by object when the command returns. Only the latest value is
    held: a command run again (``watch``) frees the previous one then, as before."""
    _KEPT[:] = [value]


def leave(code: object, wait_for_threads: bool = True) -> None:
    """End the process with `code` as :func:`sys.exit` would, minus the teardown.

    What a normal exit does that matters is kept: exit handlers run (temporary
    directories, logging), a string code is printed, and both output streams are
    flushed, a failed flush turning success into failure as Python does. While
    another thread still works, the usual exit waits for it instead, unless
    `wait_for_threads` is False: after Ctrl-C a reader blocked on a slow peer must
    not hold the process (its work is abandoned, nothing was recorded).
    """
    if wait_for_threads and any(
        thread is not threading.main_thread() and not thread.daemon
        for thread in threading.enumerate()
    ):
        raise SystemExit(code)
    atexit._run_exitfuncs()
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream
            status = status or 120  # CPython's status when its own final flush fails
    os._exit(status & 0xFF)


def ready_for_threads(tls: bool = False, first: Callable[[], object] | None = None) -> None:
    """Make DuckDB's first connection (and with `tls`, OpenSSL's first context) here,
    on the calling thread, once per process; call it before starting threads that
    connect to DuckDB or open TLS connections.

    `first` makes that connection when the caller needs one anyway (the readers'
    shared database): a throwaway connection costs as much as a kept one (a DuckDB
    database, about 17 ms of CPU), a tenth of a small check's reads.

    Later connections and contexts are made on any thread as usual: only the first
    runs each library's global initialisation. TLS is started only when asked, as a
    default context loads the trust store (0.1-0.3 s) that a check of files never needs.
    """
    with _STARTING:
        if "duckdb" not in _STARTED:
            if first is not None:
                first()
            else:
                import duckdb

                duckdb.connect(":memory:").close()
            _STARTED.add("duckdb")
        if tls and "tls" not in _STARTED:
            import ssl

            ssl.create_default_context()
            _STARTED.add("tls")
