"""Pausing Python's cyclic garbage collector around allocation-heavy phases.

Building tens of thousands of findings, or parsing hundreds of thousands of API
objects, allocates millions of small dicts and lists that hold no reference
cycles: reference counting frees them. The cyclic collector still runs full
passes over them every few thousand allocations; each pass stops every thread
(on a large fetch, up to ~0.9 s), frees nothing, and lets the stalled API
threads send their requests in one burst afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block, then back as the caller had it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
