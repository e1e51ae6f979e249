"""The dashboard: the latest verdict, what changed, money at stake, the trend."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from billdrift.web.pages import pages_of, settings_of


async def page(request: Request) -> Response:
    settings = settings_of(request)
    return pages_of(request).render(request, "dashboard.html", store=settings.history)
