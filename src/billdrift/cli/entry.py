"""The ``billdrift`` command's entry point.

The cyclic garbage collector is paused while the CLI's modules load: importing
pydantic, pyarrow and DuckDB allocates hundreds of thousands of objects that
live as long as the process, and the collector would walk them again and again
for nothing. The collector resumes once they are loaded; each check then pauses
it for its own duration (see :func:`billdrift.cli.main.monitored_check`). They are
not ``gc.freeze()``-d: frozen objects are never freed at exit, and DuckDB's
bindings then print leak warnings on every run. Measured on the 1M x 1M benchmark: about
0.6 s of CPU and 0.3 s of wall time.

Arrow's allocator returns freed memory to the kernel at once and uses no huge
pages (see :data:`_ARROW_ALLOCATOR`): on the 1M x 1M benchmark, peak memory
1.22 -> 0.97 GB and system time 2.4 -> 1.2-1.8 s, page faults being this VM's
dearest operation.

The configuration models are built with pydantic's plugin discovery off (it
reads the entry points of every installed package: about 50 ms per run); the
environment is left as it was found.

When the command is done, the process ends without tearing the interpreter
down: exit handlers run and output is flushed, then :func:`os._exit`. Unloading
pyarrow, DuckDB and pydantic module by module and a last full collection took
about 0.1 s at every exit, to free memory the kernel reclaims anyway.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading

#: pydantic looks for plugins in every installed package's entry points each
#: time a model class is created; billdrift's configuration models need none.
_NO_PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"


#: Settings for Arrow's allocator (mimalloc), read when pyarrow loads; a value the
#: user set is kept. First-touch page faults are the dearest thing a large check
#: does on a VM, so: (1) freed pages go back to the kernel after 200 ms, not after
#: mimalloc's default 10 ms: reading a large CSV frees and reallocates parse
#: buffers block after block, and pages kept that long are reused instead of being
#: faulted in afresh (a 1M x 1M check: system time 1.5 -> 1.2 s, for 80 MB more
#: peak); the few hundred megabytes freed after the reads still go back before
#: the engine has grown; (2) no transparent huge pages: mimalloc asks for them on
#: its 1 GiB arena, and every first touch then zeroes 2 MB at once.
_ARROW_ALLOCATOR = {"MIMALLOC_PURGE_DELAY": "200", "MIMALLOC_ALLOW_THP": "0"}


def main() -> None:
    enabled = gc.isenabled()
    gc.disable()
    for name, value in _ARROW_ALLOCATOR.items():
        os.environ.setdefault(name, value)
    user_setting = os.environ.get(_NO_PYDANTIC_PLUGINS)
    os.environ[_NO_PYDANTIC_PLUGINS] = "__all__"
    try:
        from billdrift.cli.main import main as cli_main
    finally:  # the user's own setting, for anything the process starts later
        if user_setting is None:
            del os.environ[_NO_PYDANTIC_PLUGINS]
        else:
            os.environ[_NO_PYDANTIC_PLUGINS] = user_setting
    if enabled:
        gc.enable()
    try:
        cli_main()
    except SystemExit as done:
        leave(done.code)
    leave(0)


def leave(code: object) -> None:
    """End the process with `code` as :func:`sys.exit` would, minus the teardown.

    What a normal exit does that matters is kept: exit handlers run (temporary
    directories, logging), a string code is printed, and both output streams are
    flushed, a failed flush turning success into failure as Python does. While
    another thread still works, the usual exit waits for it instead.
    """
    if any(
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
