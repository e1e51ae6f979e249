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
  transparent huge pages (each first touch would zero 2 MB at once).
* **pydantic's plugin discovery is skipped** while the configuration models are
  built (it reads every installed package's entry points: about 50 ms a run); the
  environment is restored afterwards.
* **The process ends without interpreter teardown** (:func:`leave`): unloading
  pyarrow, DuckDB and pydantic and a last collection took about 0.1 s at every
  exit, to free memory the kernel reclaims anyway. For the same reason a command's
  result is held until the process ends (:func:`keep_until_exit`): freeing the
  35,000 findings of a million-account report one object at a time, when the
  command returned, took about 0.05 s of CPU (more wall time on a loaded machine).
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


def load_tuned(load: Callable[[], T]) -> T:
    """Run `load` (the imports of a command) with the allocator configured, the
    collector paused and pydantic's plugin scan skipped; the user's own setting of
    ``PYDANTIC_DISABLE_PLUGINS`` is what the rest of the process sees."""
    for name, value in ARROW_ALLOCATOR.items():
        os.environ.setdefault(name, value)
    user_setting = os.environ.get(_NO_PYDANTIC_PLUGINS)
    os.environ[_NO_PYDANTIC_PLUGINS] = "__all__"
    try:
        with collector_paused():
            return load()
    finally:
        if user_setting is None:
            del os.environ[_NO_PYDANTIC_PLUGINS]
        else:
            os.environ[_NO_PYDANTIC_PLUGINS] = user_setting


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
