"""Writing a file the user named without ever harming what the name points at.

A report or config is written to a temporary file beside the target and renamed
over it once complete, so a reader never sees half a file and a failed write never
truncates the previous one. That rename is only right for a regular file (or a
name that does not exist yet):

* a character device, FIFO or socket (``--output /dev/null``, a named pipe a
  monitor reads) is written to directly, as a shell redirection would; renaming
  over it would replace the device node with a regular file for every later
  process (as root, ``/dev/null`` itself);
* a symbolic link is followed: the file it points at is replaced, the link stays;
* a directory is refused with a clear error.

The new file gets the mode a plain ``open()`` would give it (0666 less the umask),
or the mode of the file it replaces; a failed write leaves no temporary file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


class NotWritable(OSError):
    """The named path cannot receive a file (a directory, say)."""


def write_file(path: str | Path, data: bytes) -> None:
    """Put `data` at `path` as described in the module docstring; raises OSError."""
    target = Path(os.path.realpath(path))
    try:
        existing = target.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise NotWritable(21, "Is a directory")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(target, "wb") as stream:  # a device, FIFO or socket: write through it
            stream.write(data)
        return
    _replace(target, data, None if existing is None else stat.S_IMODE(existing.st_mode))


def _replace(target: Path, data: bytes, mode: int | None) -> None:
    staged = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never follow or reuse something already there; 0o666 lets the umask apply.
    descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        if mode is not None:
            os.chmod(staged, mode)
        os.replace(staged, target)
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        raise
