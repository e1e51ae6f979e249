"""Directories and files only their owner can open, for what billdrift keeps that holds PII.

The history store and the Stripe snapshot cache hold customer ids and email
addresses. The history store file is created 0600; the snapshot cache is held
to the same standard: its directories 0700, its files 0600.

* What billdrift creates is created that way (each missing directory on the
  path too), whatever the umask.
* A directory billdrift keeps PII in that already exists with wider
  permissions (a cache written by an earlier version, a ``snapshot_dir``
  made by hand) is tightened, and so are the files in it.
* One that cannot be tightened, or that belongs to another user, is refused
  with :class:`NotPrivateError`, saying which and why: another user's
  directory could be read by them and could hold data planted by them.

Only POSIX permissions are handled; elsewhere these functions only create.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


class NotPrivateError(Exception):
    """A place for PII that cannot be made readable by its owner only."""


def make_dirs(path: Path) -> None:
    """Create `path` and its missing parents, each 0700; existing ones are left as
    they are (a directory chosen by the user holds more than billdrift's files)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another run made it first
            directory.mkdir(mode=PRIVATE_DIRECTORY)
            _chmod(directory, PRIVATE_DIRECTORY)  # mkdir's mode is filtered by the umask


def private_dir(path: Path) -> None:
    """Make `path` a directory only its owner can open: created 0700 if missing,
    tightened to 0700 if wider. Raises NotPrivateError when it cannot be."""
    try:
        make_dirs(path)
    except OSError as error:
        raise NotPrivateError(f"cannot create {path} ({error.strerror})") from None
    _tighten(path, PRIVATE_DIRECTORY, follow=True)  # ~/.cache may well be a link elsewhere


def private_tree(path: Path) -> None:
    """:func:`private_dir` for `path`, and every file in it tightened to 0600."""
    private_dir(path)
    for entry in sorted(path.iterdir()):
        mode = PRIVATE_DIRECTORY if entry.is_dir() else PRIVATE_FILE
        _tighten(entry, mode, follow=False)


def _tighten(path: Path, mode: int, *, follow: bool) -> None:
    """Refuse `path` unless it is the user's own (and, unless `follow`, not a link:
    billdrift writes no links among its files); then set `mode` if it differs."""
    if os.name != "posix":
        return
    try:
        status = path.stat() if follow else path.lstat()
    except OSError as error:
        raise NotPrivateError(f"cannot inspect {path} ({error.strerror})") from None
    if stat.S_ISLNK(status.st_mode):
        raise NotPrivateError(f"{path} is a symbolic link, which billdrift never writes there")
    if status.st_uid != os.getuid():
        raise NotPrivateError(
            f"{path} belongs to another user, who can read it and could have written it"
        )
    if stat.S_IMODE(status.st_mode) != mode:
        try:
            _chmod(path, mode)
        except OSError as error:
            raise NotPrivateError(
                f"{path} is open to other users and cannot be made private ({error.strerror})"
            ) from None


def _chmod(path: Path, mode: int) -> None:
    if os.name == "posix":
        os.chmod(path, mode)
