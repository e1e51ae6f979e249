"""The process tuning of billdrift.infra.runtime that a test can observe (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import billdrift

#: Allocates and frees 256 MB in Arrow's pool with the CLI's allocator settings, then
#: prints the resident memory before and after release_read_buffers, in MiB.
_PROBE = textwrap.dedent(
    """
    from billdrift.infra.runtime import load_tuned, release_read_buffers

    def rss():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) // 1024

    pa = load_tuned(lambda: __import__("pyarrow"))
    import pyarrow.compute as pc

    base = pa.array(range(1 << 17), pa.int64())
    outputs = [pc.multiply(base, 2) for _ in range(256)]  # 1 MiB each, written: resident
    del outputs
    before = rss()
    release_read_buffers()
    print(before, rss())
    """
)


def test_pages_arrow_kept_after_reading_are_given_back() -> None:
    """With the CLI's allocator settings, memory freed in Arrow's pool stays resident
    (mimalloc keeps it for reuse) until release_read_buffers gives it back."""
    source = str(Path(billdrift.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": source}
    env.pop("MIMALLOC_PURGE_DELAY", None)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout
    before, after = map(int, out.split())
    assert before - after >= 128, (before, after)
