"""A small JSON-over-HTTP client for provider APIs: paced, retried, secret-safe.

* Every request first takes a slot from the shared :class:`RateLimiter`.
* 429 is retried after ``Retry-After`` (or an exponential backoff), and pushes
  back every thread's next slot: the account-wide budget is shared.
* 5xx and network failures are retried with backoff unless the server says not
  to (Stripe's ``Stripe-Should-Retry: false``); other 4xx are final.
* Errors carry the HTTP status and the provider's error code and message, and
  never the API key (it is scrubbed from any text that leaves).

Counters (requests, retries, 429s) let a source report what a fetch cost and let
the benchmark check the request rate it reached.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from billdrift.infra.api.ratelimit import RateLimiter

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


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0


class ApiClient:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        limiter: RateLimiter,
        *,
        secret: str = "",
        max_retries: int = 6,
        backoff: float = 0.5,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        error_message: Callable[[Any], tuple[str | None, str | None]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.secret = secret
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self.counters = Counters()
        self._lock = threading.Lock()
        self._error_message = error_message or _generic_error
        import httpx  # here: runs that read no provider API do not pay for importing it

        self._httpx = httpx
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=dict(headers),
            timeout=timeout,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Params | None = None, retries: int | None = None) -> Any:
        """GET `path` and return the decoded JSON body (`retries` overrides max_retries)."""
        limit = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            self.limiter.acquire()
            self._count(requests=1)
            try:
                response = self._http.get(path, params=params)  # type: ignore[arg-type]
            except self._httpx.HTTPError as error:
                if attempt >= limit:
                    raise ApiError(
                        self.scrub(f"GET {path} failed after {attempt + 1} attempts: {error}"),
                        path=path,
                    ) from None
                attempt += 1
                self._count(retries=1)
                self.sleep(self._backoff(attempt))
                continue
            if response.status_code < 400:
                try:
                    return orjson.loads(response.content)
                except orjson.JSONDecodeError:
                    raise ApiError(f"GET {path}: the response is not JSON", path=path) from None
            if attempt < limit and self._retryable(response):
                attempt += 1
                wait = self._wait(response, attempt)
                self._count(retries=1, rate_limited=int(response.status_code == 429))
                if response.status_code == 429:
                    self.limiter.pause(wait)
                self.sleep(wait)
                continue
            raise self._error(path, response, attempt)

    # ------------------------------------------------------------------ helpers
    def scrub(self, text: str) -> str:
        return text.replace(self.secret, "***") if self.secret else text

    def _count(self, requests: int = 0, retries: int = 0, rate_limited: int = 0) -> None:
        with self._lock:
            self.counters.requests += requests
            self.counters.retries += retries
            self.counters.rate_limited += rate_limited

    def _retryable(self, response: httpx.Response) -> bool:
        should = response.headers.get("stripe-should-retry")
        if should is not None:
            return bool(should.lower() == "true")
        status = int(response.status_code)
        return status == 429 or status >= 500

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        after = response.headers.get("retry-after")
        if after is not None:
            try:
                return min(60.0, max(0.0, float(after)))
            except ValueError:
                pass
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        """Exponential with full jitter, capped: retries from many threads spread out."""
        capped = min(20.0, self.backoff * 2.0 ** (attempt - 1))
        return float(capped * (0.5 + random.random() / 2))

    def _error(self, path: str, response: httpx.Response, attempt: int) -> ApiError:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        code, message = self._error_message(body)
        detail = message or response.reason_phrase or "error"
        tries = f" after {attempt + 1} attempts" if attempt else ""
        text = f"GET {path} returned HTTP {response.status_code}{tries}: {detail}"
        return ApiError(self.scrub(text), response.status_code, code, path)


def _generic_error(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("code"), error.get("message") or error.get("detail")
    return None, None
