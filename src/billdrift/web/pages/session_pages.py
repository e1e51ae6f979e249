"""The login form (when a token is required) and the masking toggle."""

from __future__ import annotations

from typing import get_args

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billdrift.outputs.mask import MaskMode
from billdrift.web.pages import pages_of, settings_of
from billdrift.web.security import Sessions, checked_form, safe_next, session_of, token_matches


async def login_form(request: Request) -> Response:
    return pages_of(request).render(
        request, "login.html", next=safe_next(request.query_params.get("next")), failed=False
    )


async def login(request: Request) -> Response:
    form = await checked_form(request)
    token = settings_of(request).token
    target = safe_next(str(form.get("next") or "/"))
    given = form.get("token")
    if token is None:
        return RedirectResponse(target, status_code=303)
    if not isinstance(given, str) or not token_matches(given.strip(), token):
        return pages_of(request).render(
            request, "login.html", status_code=401, next=target, failed=True
        )
    sessions: Sessions = request.app.state.sessions
    fresh = sessions.renew(session_of(request))
    fresh.authenticated = True
    request.state.session = fresh
    return RedirectResponse(target, status_code=303)


async def set_mask(request: Request) -> Response:
    """Masking for screenshots and screen sharing: none, emails, or emails and ids."""
    form = await checked_form(request)
    mode = form.get("mask")
    if mode in get_args(MaskMode):
        session_of(request).mask = mode  # type: ignore[assignment]  # checked just above
    return RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)
