"""The web app's safety layer: who may use it, and what a page may do.

Why each part:

* **Host check.** On a loopback bind only ``127.0.0.1``, ``localhost`` and ``[::1]``
  are accepted as the ``Host``: a web page elsewhere cannot reach the app through a
  DNS name it re-points at 127.0.0.1 (DNS rebinding).
* **Token.** Any other bind requires a token (``billdrift serve --token``): a
  request carries it as ``Authorization: Bearer ...`` or has logged in through the
  login form, which marks its session. The token itself is never put in a cookie,
  a URL or a log line; comparisons take constant time.
* **Cross-site requests.** Every state-changing request (any method but GET, HEAD,
  OPTIONS) must come from this app's own pages: its ``Origin`` (or, without one,
  ``Sec-Fetch-Site``) must say so, and its form (or ``X-CSRF-Token`` header) must
  carry the session's CSRF token (:func:`checked_form`).
* **Headers.** A strict Content-Security-Policy (everything from 'self', no inline
  script or style, no framing), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin``; pages are not cached.

Sessions live in memory (a cookie holds only a random id): they end with the server.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

from billdrift.outputs.mask import MaskMode
from billdrift.web.settings import WebSettings

COOKIE: Final = "billdrift_session"
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "x-csrf-token"
#: Sessions kept at most (the oldest go first): unauthenticated clients cannot grow memory.
MAX_SESSIONS: Final = 5000
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
#: Paths reachable without the token (the login form and its stylesheet).
PUBLIC_PATHS: Final = ("/login", "/static/")
LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class CrossSiteError(Exception):
    """A state-changing request that did not come from this app's own page."""


@dataclass
class Session:
    """One browser's session: its CSRF token, whether it logged in, its masking."""

    id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    authenticated: bool = False
    mask: MaskMode = "none"
    #: The masking key: a masked id reads the same on every page of this session.
    mask_key: bytes = field(default_factory=lambda: secrets.token_bytes(16))


class Sessions:
    """Sessions by id, bounded, safe to use from the server's threads."""

    def __init__(self, default_mask: MaskMode = "none") -> None:
        self._lock = threading.Lock()
        self._by_id: OrderedDict[str, Session] = OrderedDict()
        self._default_mask: MaskMode = default_mask

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            found = self._by_id.get(session_id)
            if found is not None:
                self._by_id.move_to_end(session_id)
            return found

    def new(self) -> Session:
        session = Session(secrets.token_urlsafe(32), mask=self._default_mask)
        with self._lock:
            self._by_id[session.id] = session
            while len(self._by_id) > MAX_SESSIONS:
                self._by_id.popitem(last=False)
        return session

    def renew(self, old: Session) -> Session:
        """A fresh id (and CSRF token) for a session that just logged in: an id
        planted before the login is worth nothing after it (session fixation)."""
        with self._lock:
            self._by_id.pop(old.id, None)
        fresh = self.new()
        fresh.mask = old.mask
        return fresh


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def session_of(request: Request) -> Session:
    """The request's session (the middleware always sets one)."""
    session: Session = request.state.session
    return session


def _same_origin(request: Request) -> bool:
    """The browser says the request comes from this app's own page."""
    origin = request.headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        return parts.netloc.lower() == request.headers.get("host", "").lower() and (
            parts.scheme in ("http", "https")
        )
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    # Neither header: not a browser page (browsers send Origin on POST); the CSRF
    # token, which only this app's pages hold, still has to match.
    return True


async def checked_form(request: Request) -> FormData:
    """The request's form, once its CSRF token is checked against the session's.

    Every POST handler reads its form through here (a test walks the routes to
    prove it), so no state changes without the token a cross-site page cannot read.
    """
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str):
        given = request.headers.get(CSRF_HEADER)
    if not token_matches(given, session_of(request).csrf):
        raise CrossSiteError("the form's CSRF token is missing or does not match this session")
    return form


def check_csrf_header(request: Request) -> None:
    """For requests without a form (a script's POST): the token in ``X-CSRF-Token``."""
    if not token_matches(request.headers.get(CSRF_HEADER), session_of(request).csrf):
        raise CrossSiteError("the CSRF token is missing or does not match this session")


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target inside this app (never another site: ``//evil`` is refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


class SecurityMiddleware(BaseHTTPMiddleware):
    """Applies the rules of this module's docstring to every request."""

    def __init__(self, app: ASGIApp, settings: WebSettings, sessions: Sessions) -> None:
        super().__init__(app)
        self._settings = settings
        self._sessions = sessions

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await self._checked(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _checked(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if self._settings.loopback and name.lower() not in LOOPBACK_NAMES:
            return PlainTextResponse("unexpected Host header", status_code=400)
        if request.method not in SAFE_METHODS and not _same_origin(request):
            return PlainTextResponse("cross-site request refused", status_code=403)
        session = self._sessions.get(request.cookies.get(COOKIE))
        fresh = session is None
        if session is None:
            session = self._sessions.new()
        request.state.session = session
        token = self._settings.token
        if token is not None and not session.authenticated:
            bearer = request.headers.get("authorization", "")
            scheme, _, given = bearer.partition(" ")
            allowed = scheme.lower() == "bearer" and token_matches(given.strip(), token)
            if not allowed and not request.url.path.startswith(PUBLIC_PATHS):
                if request.method in SAFE_METHODS:
                    target = request.url.path + (
                        f"?{request.url.query}" if request.url.query else ""
                    )
                    response: Response = RedirectResponse(
                        f"/login?next={_quoted(target)}", status_code=303
                    )
                else:
                    response = PlainTextResponse("log in first", status_code=401)
                return _with_cookie(response, session) if fresh else response
        try:
            response = await call_next(request)
        except CrossSiteError as error:
            response = PlainTextResponse(f"refused: {error}", status_code=403)
        current = session_of(request)  # a login replaces it
        if fresh or current is not session:
            _with_cookie(response, current)
        return response


def _quoted(target: str) -> str:
    from urllib.parse import quote

    return quote(target, safe="")


def _with_cookie(response: Response, session: Session) -> Response:
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="strict", path="/")
    return response
