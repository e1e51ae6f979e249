"""One overall deadline for a database conversation, however slowly the server answers.

The drivers' own limits come first, and each connection sets them from the time
left: the connect timeout (libpq's ``connect_timeout``, PyMySQL's), a statement
limit at the server (PostgreSQL's ``statement_timeout``, MariaDB's
``max_statement_time``, MySQL's ``max_execution_time``) and PyMySQL's per-read
and per-write socket timeouts. None of them bounds a conversation: a peer that
sends one byte a second keeps every read short, and a broken or hostile server
ignores its own statement limits.

So :func:`bounded` runs the whole conversation (connect, login, the read-only
checks, the query, the last row) under the watchdog of
:mod:`billdrift.infra.watchdog`: at the deadline it shuts the connection's socket
down, the blocked driver call fails at once, and the failure leaves as an error
that names the database (password redacted), the deadline and the setting that
changes it.

ADBC does not hand out libpq's socket, so :func:`opened_sockets` finds it: the
stream sockets that appear while the connection opens (one database connect at a
time, under a lock) and whose peer is the server's port. Where the process's file
descriptors cannot be listed (not Linux or macOS), none is found and the driver's
own limits are all that apply.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from billdrift.errors import BilldriftError, ConfigError, SourceError
from billdrift.infra.watchdog import shut, watchdog

T = TypeVar("T")

#: Seconds to reach a server and log in, unless the URL's ``connect_timeout`` says less.
CONNECT_SECONDS = 15.0
#: Seconds one read of a database may take by default, connect to last row.
READ_SECONDS = 600.0

#: One database connect at a time, so the sockets that appear during it are its own.
_CONNECTING = threading.Lock()


@dataclass(frozen=True)
class Timeouts:
    """How long a conversation may take (`total`, changed by the config key `setting`)
    and how much of it reaching the server and logging in may use (`connect`)."""

    total: float = READ_SECONDS
    setting: str = ""
    connect: float = CONNECT_SECONDS
    #: What the deadline is for, as the error says it.
    span: str = "the whole read, connect to last row"


class Deadline:
    """The end of one conversation, and the sockets to shut down when it passes."""

    def __init__(self, timeouts: Timeouts) -> None:
        self.timeouts = timeouts
        self._ends = time.monotonic() + timeouts.total
        self._cuts: list[Callable[[], None]] = []

    def left(self) -> float:
        """Seconds left (never below a millisecond: drivers read 0 as "no limit")."""
        return max(0.001, self._ends - time.monotonic())

    def passed(self) -> bool:
        """Whether the deadline has passed: a driver error raised then is the cut's
        doing, and the deadline's own message says it better."""
        return time.monotonic() >= self._ends

    def connect_seconds(self, asked: float | None = None) -> float:
        """The driver's connect timeout: the one `asked` (a URL's) or the default if it
        ends first; else a second past the deadline, whose own cut then ends the connect
        (with the deadline's message, not the driver's)."""
        connect = self.timeouts.connect if asked is None else asked
        left = self._ends - time.monotonic()
        return connect if connect < left else max(0.001, left) + 1.0

    def watch(self, sock: socket.socket | Callable[[], socket.socket | None]) -> None:
        """Shut `sock` down when the deadline passes; a function is asked for the
        socket then (a driver may replace its socket, as TLS does)."""
        self.on_cut(lambda: shut(sock() if callable(sock) else sock))

    def on_cut(self, cut: Callable[[], None]) -> None:
        """Call `cut` when the deadline passes (and again every 50 ms until the block ends)."""
        self._cuts.append(cut)

    def cut(self) -> None:
        for cut in list(self._cuts):
            with contextlib.suppress(OSError):
                cut()

    def message(self, shown: str) -> str:
        limits = self.timeouts
        change = f"; {limits.setting} changes it" if limits.setting else ""
        return (
            f"{shown}: no complete answer within {limits.total:g} s "
            f"(the deadline for {limits.span}{change})"
        )


#: A conversation's deadline when no :func:`bounded` block watches it: the drivers'
#: own limits, from the defaults (onboarding commands, where a person is watching).
def unwatched() -> Deadline:
    return Deadline(Timeouts())


@contextlib.contextmanager
def bounded(
    shown: str, timeouts: Timeouts, error: type[BilldriftError] = SourceError
) -> Iterator[Deadline]:
    """Run the block (a whole conversation with the database `shown`) within
    ``timeouts.total`` seconds: connections opened with the :class:`Deadline` it
    yields are cut at the deadline, and any failure after it leaves as `error`
    saying which deadline passed."""
    deadline = Deadline(timeouts)
    with watchdog(timeouts.total, deadline.cut) as watch:
        try:
            yield deadline
        except Exception:
            if not watch.fired:
                raise
            raise error(deadline.message(shown)) from None


def opened_sockets(
    open_connection: Callable[[], T], peer: Callable[[object], bool], deadline: Deadline
) -> tuple[T, list[socket.socket]]:
    """Open a connection whose driver keeps its socket to itself, and find that socket:
    a stream socket that appeared meanwhile, connected to a `peer` that matches. Should
    `deadline` pass while the connection opens, such sockets are shut down then.

    Each is returned as a duplicate the caller must close (after the connection): the
    duplicate shuts the same socket down, and cannot be mistaken for a later socket
    that reuses the number."""
    with _CONNECTING:
        before = _socket_fds()
        connecting = True

        def cut_while_connecting() -> None:
            if connecting:
                for sock in _new_sockets(before, peer):
                    with sock, contextlib.suppress(OSError):
                        shut(sock)

        deadline.on_cut(cut_while_connecting)
        try:
            result = open_connection()
        finally:
            connecting = False
        return result, _new_sockets(before, peer)


def _new_sockets(before: set[int], peer: Callable[[object], bool]) -> list[socket.socket]:
    """Duplicates of the connected stream sockets opened since `before`, to a `peer`."""
    found: list[socket.socket] = []
    for fd in sorted(_socket_fds() - before):
        try:
            sock = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if sock.type == socket.SOCK_STREAM and peer(sock.getpeername()):
                found.append(sock)
                continue
        except OSError:
            pass
        sock.close()
    return found


def _socket_fds() -> set[int]:
    """This process's socket file descriptors (empty where they cannot be listed)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        fds = set()
        for name in names:
            with contextlib.suppress(OSError, ValueError):
                if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                    fds.add(int(name))
        return fds
    return set()


def asked_connect_timeout(query: Mapping[str, str]) -> float | None:
    """A URL's own ``connect_timeout`` (seconds), if it sets one."""
    text = query.get("connect_timeout")
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ConfigError(f"connect_timeout={text!r} in a database URL: expected seconds above 0")
    return seconds


def serving(port: int, unix_name: str) -> Callable[[object], bool]:
    """A peer test for :func:`opened_sockets`: TCP to `port`, or a Unix socket file
    whose name ends with `unix_name`."""

    def matches(peer: object) -> bool:
        if isinstance(peer, tuple) and len(peer) >= 2:
            return bool(peer[1] == port)
        return isinstance(peer, str | bytes) and str(peer).endswith(unix_name)

    return matches
