"""One module per page (or group of pages): request in, rendered template out.

Handlers read the app's settings from ``request.app.state`` and call the usecases
layer; they hold no SQL and no business rules.
"""

from __future__ import annotations

from starlette.requests import Request

from billdrift.web.settings import WebSettings
from billdrift.web.templating import Pages


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages
