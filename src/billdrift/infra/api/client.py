"""A small JSON-over-HTTP client for provider APIs: paced, retried, secret-safe.

* Every request first takes a slot from the shared :class:`Pacer`: the account's
  and its endpoint's (``endpoint``, the path unless an id in it is templated away).
* 429 is retried after ``Retry-After`` (or an exponential backoff), and pushes
  back every thread's next slot: the account-wide budget is shared.
* 5xx and network failures are retried with backoff unless the server says not
  to (Stripe's ``Stripe-Should-Retry: false``); other 4xx are final.
* Except a network failure that will not pass by waiting: a host name that does
  not resolve, a refused connection, a TLS certificate not accepted. Those are
  tried once more at most (a resolver can hiccup) and end in
  :class:`Unreachable`, which names the host and the cause and says what to
  check, instead of seven attempts and a vague "failed after 7 attempts".
* Retrying itself (how many, how long) is the shared
  :class:`~billdrift.infra.retry.RetryPolicy`; this client only judges responses.
* Every request ends by a deadline (``timeout``, connect to last byte: see
  :mod:`billdrift.infra.http`), so a server trickling its answer cannot hold a
  fetch; a request over it counts as a network failure (retried, then an error).
* Errors carry the HTTP status and the provider's error code and message, and
  never the API key (it is scrubbed from any text that leaves).

Counters (requests, retries, 429s) let a source report what a fetch cost and let
the benchmark check the request rate it reached.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from billdrift.infra.api.ratelimit import Pacer
from billdrift.infra.retry import RetryPolicy, retry_after
from billdrift.infra.secrets import scrub

if TYPE_CHECKING:
    import httpx

Params = Mapping[str, str | int | Sequence[str]] | Sequence[tuple[str, str | int]]


class ApiError(Exception):
    """A request that failed for good (after retries, or a final 4xx)."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.path = path


class Unreachable(ApiError):
    """The provider could not be reached for a reason retrying does not fix."""


#: Retries of a failure that waiting does not fix (see the module docstring).
UNREACHABLE_RETRIES = 1


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0


#: How a provider request retries unless told otherwise: a fetch is long work, so a
#: long Retry-After is waited (up to a minute) rather than failing the whole fetch,
#: and backoffs stay under 20 s so a run recovers soon after the provider does.
API_RETRY = RetryPolicy(retries=6, backoff=0.5, max_backoff=20.0, longer_wait="cap")


class ApiClient:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        pacer: Pacer,
        *,
        secret: str = "",
        retry: RetryPolicy = API_RETRY,
        timeout: float = 30.0,
        timeout_key: str = "",
        error_message: Callable[[Any], tuple[str | None, str | None]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer
        self.secret = secret
        self.retry = retry
        #: Seconds one request may take in all, and the setting that says so (for errors).
        self.timeout = timeout
        self.timeout_key = timeout_key
        self.counters = Counters()
        self._lock = threading.Lock()
        self._error_message = error_message or _generic_error
        import httpx  # here: runs that read no provider API do not pay for importing it

        from billdrift.infra.http import Client, DeadlineExceeded, deadline

        self._httpx = httpx
        self._deadline = deadline
        self._over_deadline = DeadlineExceeded
        self._http = Client(
            base_url=self.base_url,
            headers=dict(headers),
            timeout=timeout,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    def close(self) -> None:
        self._http.close()

    def get(
        self,
        path: str,
        params: Params | None = None,
        retries: int | None = None,
        endpoint: str | None = None,
    ) -> Any:
        """GET `path` and return the decoded JSON body (`retries` overrides the policy's).

        `endpoint` names the operation for per-endpoint pacing when `path` holds an id
        (``/v1/customers/{id}``); by default it is `path`.
        """
        policy = self.retry if retries is None else self.retry.with_retries(retries)
        unreachable = 0

        def retryable(outcome: httpx.Response | httpx.HTTPError) -> bool:
            nonlocal unreachable
            if isinstance(outcome, self._httpx.HTTPError) and _cause(outcome) is not None:
                unreachable += 1
                return unreachable <= UNREACHABLE_RETRIES
            return self._retryable(outcome)

        tried = policy.run(
            lambda: self._send(path, params, endpoint or path),
            retryable=retryable,
            asked=self._asked,
            before_sleep=self._before_retry,
        )
        outcome = tried.outcome
        if isinstance(outcome, self._httpx.HTTPError) and (cause := _cause(outcome)):
            raise Unreachable(self.scrub(self._unreachable(cause)), path=path)
        if isinstance(outcome, self._httpx.HTTPError):
            attempts = f"{tried.attempts} attempt{'s' if tried.attempts > 1 else ''}"
            detail = str(outcome) or type(outcome).__name__
            if self.timeout_key and isinstance(outcome, self._over_deadline):
                detail += f"; {self.timeout_key} sets it"
            raise ApiError(self.scrub(f"GET {path} failed after {attempts}: {detail}"), path=path)
        if outcome.status_code < 400:
            try:
                return orjson.loads(outcome.content)
            except orjson.JSONDecodeError:
                raise ApiError(f"GET {path}: the response is not JSON", path=path) from None
        raise self._error(path, outcome, tried.attempts)

    def _send(
        self, path: str, params: Params | None, endpoint: str
    ) -> httpx.Response | httpx.HTTPError:
        """One paced request; a network failure is returned, to be judged like a response."""
        self.pacer.acquire(endpoint)
        self._count(requests=1)
        try:
            with self._deadline(self.timeout):
                return self._http.get(path, params=params)  # type: ignore[arg-type]
        except self._httpx.HTTPError as error:
            return error

    # ------------------------------------------------------------------ helpers
    def scrub(self, text: str) -> str:
        """`text` without the key, in any spelling (an HTTP library quotes a header as
        a bytes repr, escapes and all)."""
        return scrub(text, (self.secret,))

    def _count(self, requests: int = 0, retries: int = 0, rate_limited: int = 0) -> None:
        with self._lock:
            self.counters.requests += requests
            self.counters.retries += retries
            self.counters.rate_limited += rate_limited

    def _retryable(self, outcome: httpx.Response | httpx.HTTPError) -> bool:
        if isinstance(outcome, self._httpx.HTTPError):
            return True
        status = int(outcome.status_code)
        if status < 400:
            return False
        should = outcome.headers.get("stripe-should-retry")
        if should is not None:
            return bool(should.lower() == "true")
        return status == 429 or status >= 500

    def _asked(self, outcome: httpx.Response | httpx.HTTPError) -> float | None:
        if isinstance(outcome, self._httpx.HTTPError):
            return None
        return retry_after(outcome.headers.get("retry-after"))

    def _before_retry(self, outcome: httpx.Response | httpx.HTTPError, wait: float) -> None:
        """Count the retry; after a 429, hold every thread back as long as this one waits."""
        limited = not isinstance(outcome, self._httpx.HTTPError) and outcome.status_code == 429
        self._count(retries=1, rate_limited=int(limited))
        if limited:
            self.pacer.pause(wait)

    def _unreachable(self, cause: BaseException) -> str:
        """What went wrong reaching the provider, naming the host, and what to check."""
        url = self._httpx.URL(self.base_url)
        host = url.host
        where = f"{host}:{url.port}" if url.port else host
        if isinstance(cause, socket.gaierror):
            return (
                f"cannot resolve {host}: {cause.strerror or cause}; check the network, DNS and "
                "proxy settings (HTTPS_PROXY), or the api_base setting"
            )
        if isinstance(cause, ConnectionRefusedError):
            return (
                f"cannot connect to {where}: the connection was refused; check the api_base "
                "setting, the network and proxy settings (HTTPS_PROXY)"
            )
        reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
        return (
            f"the TLS certificate of {host} was not accepted: {reason or cause}; a proxy that "
            "inspects TLS needs its CA certificate in SSL_CERT_FILE"
        )

    def _error(self, path: str, response: httpx.Response, attempts: int) -> ApiError:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        code, message = self._error_message(body)
        detail = message or response.reason_phrase or "error"
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        text = f"GET {path} returned HTTP {response.status_code}{tries}: {detail}"
        return ApiError(self.scrub(text), response.status_code, code, path)


def _cause(error: BaseException) -> BaseException | None:
    """The reason behind a network failure that waiting does not fix, or None (transient:
    timeouts, resets, a dropped connection)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror | ConnectionRefusedError):
            return current
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _generic_error(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("code"), error.get("message") or error.get("detail")
    return None, None
