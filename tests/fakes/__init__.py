"""Local fakes of billing-provider HTTP APIs, and the server machinery they share.

The fakes are real HTTP servers on 127.0.0.1 (ephemeral ports) so that the live
sources are tested through their whole stack: httpx, connection pooling, the
shared rate limiter, retries and error decoding. Nothing is mocked in-process.

* :mod:`tests.fakes.stripe_fake`: our Stripe API fake (``FakeStripe``);
* :mod:`tests.fakes.paddle_fake`: a Paddle Billing API fake (``FakePaddle``);
* :mod:`tests.fakes.localstripe_server`: the third-party localstripe, in-process;
* :mod:`tests.fakes.trickle`: a peer answering one byte a second (client deadlines);
* :mod:`tests.fakes.fixtures`: pytest fixtures for all three.

This module holds :class:`FakeApiServer`, the part both fakes share: a threaded
HTTP/1.1 server (keep-alive, so a pooled client behaves as it would against the
real API), per-request latency, sliding-window rate limits (for the whole
account and for each endpoint, as Stripe counts both), fault injection and
counters. Providers differ only in routes, auth and error bodies, which each
subclass supplies.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

import orjson

#: What an injected fault does to a request:
#:
#: * ``"500"``: a 500 the provider marks as retryable (Stripe: ``Stripe-Should-Retry: true``);
#: * ``"500_no_retry"``: a 500 the provider says not to retry (Stripe:
#:   ``Stripe-Should-Retry: false``; Paddle has no such hint, so it is a plain 500 there);
#: * ``"429"``: a rate-limit response, whatever the real request rate;
#: * ``"drop"``: the connection is closed without any response;
#: * ``"hang"``: no response for ``Fault.hang`` seconds, then the connection is closed
#:   (for client timeouts).
FaultKind = Literal["500", "500_no_retry", "429", "drop", "hang"]
FAULT_KINDS: tuple[FaultKind, ...] = ("500", "500_no_retry", "429", "drop", "hang")

#: Query parameters as sent, in order, repeated keys kept (``expand[]`` may appear many times).
Params = tuple[tuple[str, str], ...]


@dataclass
class Fault:
    """Injected failures: the next ``times`` requests whose path starts with ``path``."""

    kind: FaultKind
    times: int = 1
    path: str | None = None
    hang: float = 30.0

    def matches(self, path: str) -> bool:
        return self.times > 0 and (self.path is None or path.startswith(self.path))


@dataclass(frozen=True)
class Request:
    """One parsed request, as handed to a fake's route handler."""

    method: str
    path: str
    params: Params
    headers: Mapping[str, str]  # lower-cased names

    def get(self, name: str) -> str | None:
        """The last value of a query parameter (HTTP clients repeat only list params)."""
        found = None
        for key, value in self.params:
            if key == name:
                found = value
        return found

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by route handlers to answer with an error body."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = Response(status, body, dict(headers or {}))


@dataclass
class RequestRecord:
    """One request as the fake saw it; ``at`` is ``time.monotonic()`` at arrival."""

    at: float
    method: str
    path: str
    params: Params
    status: int | None = None  # None: dropped or still in progress

    def param(self, name: str) -> str | None:
        return next((value for key, value in reversed(self.params) if key == name), None)


@dataclass(frozen=True)
class Stats:
    """A snapshot of a fake's counters (see :meth:`FakeApiServer.stats`)."""

    requests: int
    by_path: dict[str, int]
    by_status: dict[int, int]
    #: 429s sent, by the rate limit or by an injected ``"429"`` fault.
    rate_limited: int
    #: Injected faults that fired (all kinds, 429 included).
    faults: int
    dropped: int
    #: Most requests that ARRIVED within any 1 s sliding window (rejected ones included):
    #: what a client's own pacing achieved.
    max_per_second: int
    #: Most requests ADMITTED by the rate limit within any 1 s window: never above
    #: ``rate_limit`` when the window is 1 s.
    max_admitted_per_second: int
    #: The same for each endpoint (see :meth:`FakeApiServer.endpoint`): never above
    #: ``endpoint_rate_limit``.
    max_admitted_per_second_by_endpoint: dict[str, int] = field(default_factory=dict)


class _WindowCounter:
    """Events within the last ``window`` seconds, and the most ever seen at once."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self.times: deque[float] = deque()
        self.peak = 0

    def count(self, now: float) -> int:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        return len(self.times)

    def add(self, now: float) -> None:
        self.count(now)
        self.times.append(now)
        self.peak = max(self.peak, len(self.times))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # many client threads connect at once in benchmarks

    def __init__(self, fake: FakeApiServer, address: tuple[str, int]) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients going away mid-response is normal here (drops, timeouts): stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs and pooled clients use
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._connections_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._connections_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: tests and benchmarks make thousands of requests."""

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        request = Request(
            method="GET",
            path=split.path,
            params=tuple(parse_qsl(split.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
        )
        response = self.server.fake._dispatch(request)
        if response is None:  # drop: close with no response at all
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response)

    def _read_only(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(self.server.fake.method_not_allowed(self.command, self.path))

    do_POST = do_DELETE = do_PUT = do_PATCH = _read_only

    def _send(self, response: Response) -> None:
        body = response.body if isinstance(response.body, bytes) else orjson.dumps(response.body)
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class FakeApiServer:
    """A provider API fake on 127.0.0.1; subclasses implement :meth:`handle`.

    Knobs are plain attributes, read on every request, so a test can change them
    while the server runs (``fake.rate_limit = 25``):

    * ``latency``: seconds slept before answering each request;
    * ``rate_limit``: requests admitted per ``rate_window`` seconds (sliding window);
      ``None`` disables the limit. Requests over it get the provider's 429;
    * ``endpoint_rate_limit``: requests admitted per second to any one endpoint
      (:meth:`endpoint`; Stripe's default is 25), on top of ``rate_limit``; ``None``
      disables it. Requests over it get the same 429;
    * ``retry_after``: seconds sent in ``Retry-After`` with 429s (``None``: the
      subclass decides; Stripe sends none, Paddle always sends one);
    * ``fault_hook``: ``callable(Request) -> FaultKind | None``, consulted before the
      queue filled by :meth:`inject`.

    Thread-safe: every handler thread goes through one lock for counters and faults.
    """

    #: Name used in thread names and messages.
    provider = "fake"

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_window: float = 1.0,
        endpoint_rate_limit: float | None = None,
        retry_after: float | None = None,
        fault_hook: Callable[[Request], FaultKind | None] | None = None,
    ) -> None:
        self.latency = latency
        self.rate_limit = rate_limit
        self.endpoint_rate_limit = endpoint_rate_limit
        self.rate_window = rate_window
        self.retry_after = retry_after
        self.fault_hook = fault_hook
        #: How long a ``"hang"`` from ``fault_hook`` lasts (injected ones carry their own).
        self.hang = 30.0
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset_stats()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Bind an ephemeral port on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self, ("127.0.0.1", 0))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.provider}-fake-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, and close kept-alive connections so pooled clients see it."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.provider} fake is not running; call start()")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ faults
    def inject(
        self, kind: FaultKind, times: int = 1, path: str | None = None, hang: float = 30.0
    ) -> Fault:
        """Make the next ``times`` requests (whose path starts with ``path``) fail as ``kind``.

        Faults queue up: each request takes the first matching one. Returns the
        fault, whose ``times`` counts down as it fires.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        fault = Fault(kind, times, path, hang)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ------------------------------------------------------------------ counters
    def reset_stats(self) -> None:
        with self._lock:
            self._log: list[RequestRecord] = []
            self._by_path: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._rate_limited = 0
            self._fired = 0
            self._dropped = 0
            self._arrivals = _WindowCounter(1.0)
            self._admitted_per_second = _WindowCounter(1.0)
            self._admitted = _WindowCounter(self.rate_window)
            self._endpoint_admitted: dict[str, _WindowCounter] = {}

    def stats(self) -> Stats:
        with self._lock:
            return Stats(
                requests=len(self._log),
                by_path=dict(self._by_path),
                by_status=dict(self._by_status),
                rate_limited=self._rate_limited,
                faults=self._fired,
                dropped=self._dropped,
                max_per_second=self._arrivals.peak,
                max_admitted_per_second=self._admitted_per_second.peak,
                max_admitted_per_second_by_endpoint={
                    endpoint: counter.peak for endpoint, counter in self._endpoint_admitted.items()
                },
            )

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._log)

    def requests_to(self, path: str) -> list[RequestRecord]:
        return [record for record in self.requests if record.path == path]

    # ------------------------------------------------------------------ for subclasses
    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def fault_response(self, kind: FaultKind, request: Request) -> Response:
        """The provider's response for an injected ``"500"``, ``"500_no_retry"`` or ``"429"``."""
        raise NotImplementedError

    def rate_limited_response(self, request: Request, wait: float) -> Response:
        """The provider's 429; ``wait`` is when the window frees a slot, in seconds."""
        raise NotImplementedError

    def common_headers(self) -> dict[str, str]:
        """Headers on every response (request ids and the like)."""
        return {}

    def endpoint(self, request: Request) -> str:
        """The endpoint a request counts against for ``endpoint_rate_limit`` (the path,
        unless a subclass templates ids away: ``/v1/customers/{id}``)."""
        return request.path

    def method_not_allowed(self, method: str, path: str) -> Response:
        return Response(405, {"error": {"message": f"the {self.provider} fake is read-only"}})

    @staticmethod
    def request_id() -> str:
        return str(uuid.uuid4())

    # ------------------------------------------------------------------ internals
    def _connections_opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _connections_closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _dispatch(self, request: Request) -> Response | None:
        """Count, delay, fault, rate-limit, then route; ``None`` means drop the connection."""
        now = time.monotonic()
        record = RequestRecord(now, request.method, request.path, request.params)
        kind = self.fault_hook(request) if self.fault_hook is not None else None
        endpoint = self.endpoint(request)
        hang = self.hang
        with self._lock:
            self._log.append(record)
            self._by_path[request.path] += 1
            self._arrivals.add(now)
            if kind is None:
                fault = next((f for f in self._faults if f.matches(request.path)), None)
                if fault is not None:
                    fault.times -= 1
                    kind, hang = fault.kind, fault.hang
                    if fault.times <= 0:
                        self._faults.remove(fault)
            wait = None
            limit = self.rate_limit
            self._admitted.window = self.rate_window  # a knob: may change while running
            if kind is None and limit is not None and self._admitted.count(now) >= limit:
                wait = max(0.0, self._admitted.times[0] + self._admitted.window - now)
            per_endpoint = self._endpoint_admitted.setdefault(endpoint, _WindowCounter(1.0))
            own = self.endpoint_rate_limit
            if kind is None and wait is None and own is not None and per_endpoint.count(now) >= own:
                wait = max(0.0, per_endpoint.times[0] + per_endpoint.window - now)
            if kind is None and wait is None:
                self._admitted.add(now)
                self._admitted_per_second.add(now)
                per_endpoint.add(now)
            self._fired += kind is not None
            self._dropped += kind in ("drop", "hang")
        if self.latency > 0:
            self._stopping.wait(self.latency)
        if kind in ("drop", "hang"):
            if kind == "hang":
                self._stopping.wait(hang)  # stop() cuts it short
            return None
        if kind is not None:
            response = self.fault_response(kind, request)
        elif wait is not None:
            response = self.rate_limited_response(request, wait)
        else:
            try:
                response = self.handle(request)
            except ApiError as error:
                response = error.response
            except Exception:  # a bug in the fake: say so loudly instead of dropping
                trace = traceback.format_exc()
                print(f"{self.provider} fake crashed on {request.path}:\n{trace}", file=sys.stderr)
                body = {"error": {"type": "fake_server_bug", "message": trace}}
                response = Response(500, body, {"X-Fake-Bug": "1"})
        response.headers = {**self.common_headers(), **response.headers}
        with self._lock:
            record.status = response.status
            self._by_status[response.status] += 1
            self._rate_limited += response.status == 429
        return response


def pairs(params: Iterable[tuple[str, str]], *names: str) -> list[str]:
    """All values of list parameters, accepting ``name[]`` and ``name[0]``, ``name[1]``...

    httpx sends ``expand[]=a&expand[]=b``; stripe-python sends ``expand[0]=a``.
    """
    wanted = set(names)
    found = []
    for key, value in params:
        base, bracket, rest = key.partition("[")
        listed = rest == "]" or (rest[:-1].isdigit() and rest.endswith("]"))
        if bracket and listed and base in wanted:
            found.append(value)
    return found
