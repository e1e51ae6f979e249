"""HTTP requests that end by a deadline, however slowly the other side answers.

httpx's timeouts bound each network operation (a connect, one read, one write),
not a request: a server that sends one byte a second never lets a read time
out, and holds a run for as long as it likes. Checking the clock between body
chunks would not be enough either, since the status line and headers are read
inside httpx before any chunk is handed over.

So the deadline is enforced where every byte passes: the network streams under
httpx (an httpcore network backend, wrapped around the one httpx chose, so TLS
settings, proxies from the environment and connection pooling stay as they
are). While a request runs inside :func:`deadline`, every connect, TLS handshake, read and
write is given at most the time left, and none starts once it is up; what goes
over raises :class:`DeadlineExceeded`, an ``httpx.TimeoutException`` whose
message says which deadline passed. The deadline lives in a context variable,
so threads sharing one client (the Stripe walk) each keep their own.

Use :class:`Client` instead of ``httpx.Client``, and make each request inside
``with deadline(seconds):``; the response must be read inside the block too
(a plain ``client.get`` does).

Imported only by code that sends a request: httpx costs a run that sends none.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

#: When the request running in this context must be over (time.monotonic()), if any.
_ENDS: ContextVar[float | None] = ContextVar("billdrift_http_deadline", default=None)

#: Seconds of clock resolution: a timeout this close to the deadline is the deadline's.
_CLOCK_SLACK = 0.05

#: Writes are cut into pieces this large so each one is capped by the time left.
_WRITE_PIECE = 16_384


class DeadlineExceeded(httpx.TimeoutException):
    """A request (connect to last byte) took longer than its deadline."""


def _left(error: type[httpcore.TimeoutException], timeout: float | None) -> float | None:
    """`timeout` capped at the time left before the deadline; raise `error` if none is."""
    ends = _ENDS.get()
    if ends is None:
        return timeout
    left = ends - time.monotonic()
    if left <= 0:
        raise error("the deadline passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(httpcore.ReadTimeout, timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_PIECE):
            piece = buffer[start : start + _WRITE_PIECE]
            self._stream.write(piece, _left(httpcore.WriteTimeout, timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = _left(httpcore.ConnectTimeout, timeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Opens connections whose streams end by the deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(httpcore.ConnectTimeout, timeout)
        return _Stream(self._backend.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        left = _left(httpcore.ConnectTimeout, timeout)
        return _Stream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _armed(transport: httpx.BaseTransport) -> httpx.BaseTransport:
    """`transport` with its connections' streams bounded by the deadline.

    httpx offers no public hook for its network backend, so this reaches one level
    in (the transport's httpcore pool); a transport httpx did not build (a test's
    MockTransport) is returned as it is. Should httpx change shape, this fails loudly
    rather than send requests that could hang.
    """
    if not isinstance(transport, httpx.HTTPTransport):
        return transport
    pool: Any = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        raise RuntimeError(
            f"httpx {httpx.__version__} is not supported: its transports no longer expose "
            "the network backend billdrift bounds requests with"
        )
    if not isinstance(backend, _Backend):
        pool._network_backend = _Backend(backend)
    return transport


class Client(httpx.Client):
    """An ``httpx.Client`` whose requests, sent with :func:`send`, end by a deadline."""

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return _armed(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx.BaseTransport:
        return _armed(super()._init_proxy_transport(*args, **kwargs))


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request made by this thread inside the block ends within `seconds`
    (from now), or raises :class:`DeadlineExceeded`."""
    ends = time.monotonic() + seconds
    outer = _ENDS.get()
    token = _ENDS.set(ends if outer is None else min(ends, outer))
    try:
        yield
    except httpx.TimeoutException as error:
        # A socket wait capped at the time left ends at the deadline, give or take the
        # clock's resolution: a timeout this close to it is the deadline's.
        if isinstance(error, DeadlineExceeded) or time.monotonic() < ends - _CLOCK_SLACK:
            raise
        raise DeadlineExceeded(
            f"no complete response within {seconds:g} s (the deadline for one request)"
        ) from error
    finally:
        _ENDS.reset(token)
