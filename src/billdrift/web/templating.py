"""Jinja2, set up once: templates from the package, every value autoescaped.

Autoescaping is on for every template (not only ``*.html``), and an undefined
variable is an error rather than an empty string, so a typo in a template fails a
test instead of quietly rendering nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from billdrift.web.security import session_of


def _when(value: datetime | None) -> str:
    """An instant as people compare them here: UTC, to the minute."""
    if value is None:
        return "never"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _count(value: int) -> str:
    return f"{value:,}"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("billdrift.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["count"] = _count
    return env


class Pages:
    """Renders a template with what every page needs (session, CSRF token, nav)."""

    def __init__(self, env: Environment, has_history: bool, needs_login: bool) -> None:
        self._env = env
        self._has_history = has_history
        self._needs_login = needs_login

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        session = session_of(request)
        html = self._env.get_template(name).render(
            request=request,
            path=request.url.path,
            csrf=session.csrf,
            mask=session.mask,
            has_history=self._has_history,
            needs_login=self._needs_login,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)
