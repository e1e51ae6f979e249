"""One module per page (or group of pages): request in, rendered template out.

Handlers read the app's settings from ``request.app.state`` and call the usecases
layer; they hold no SQL and no business rules.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from billdrift.web.settings import WebSettings
from billdrift.web.templating import Pages


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def store_error(request: Request, error: Exception) -> HTMLResponse:
    """A failure reading or writing the store, as a page: a missing store says how to
    record one, a locked one says to try again, anything else says what went wrong."""
    from billdrift.history.store import HistoryLockedError, HistoryMissingError

    status = 503 if isinstance(error, HistoryLockedError) else 400
    if isinstance(error, HistoryMissingError):
        status = 404
    message = describe(error)
    return pages_of(request).render(request, "error.html", status_code=status, message=message)


def describe(error: Exception) -> str:
    """A failure as a page shows it: scrubbed like every front-end's, and an internal
    error names only its type (a page may be seen by more people than a terminal)."""
    from billdrift.infra.failures import describe_failure

    return describe_failure(error, detail=False)
