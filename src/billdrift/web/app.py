"""The web app's factory: settings in, a Starlette application out.

Routes are listed here, in one place; each page's handler lives in
:mod:`billdrift.web.pages`. The app holds no global state: tests build as many
apps as they like, each with its own sessions.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from billdrift.web.jobs import Jobs
from billdrift.web.pages import audit, dashboard, findings, runs, session_pages
from billdrift.web.security import CrossSiteError, SecurityMiddleware, Sessions
from billdrift.web.settings import WebSettings
from billdrift.web.templating import Pages, environment

STATIC = Path(__file__).parent / "static"


async def _cross_site(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"refused: {exc}", status_code=403)


def routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard.page, name="dashboard"),
        Route("/findings", findings.list_page, name="findings"),
        Route("/findings/{fingerprint:str}", findings.finding_page, name="finding"),
        Route("/findings/{fingerprint:str}/{action:str}", findings.decide, methods=["POST"]),
        Route("/runs", runs.page, name="runs"),
        Route("/runs/check", runs.start_check, methods=["POST"]),
        Route("/runs/job", runs.job_status),
        Route("/login", session_pages.login_form, methods=["GET"], name="login"),
        Route("/login", session_pages.login, methods=["POST"]),
        Route("/mask", session_pages.set_mask, methods=["POST"], name="mask"),
        *audit.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(settings: WebSettings) -> Starlette:
    """The application for `settings` (see :class:`~billdrift.web.settings.WebSettings`)."""
    sessions = Sessions(settings.mask)
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(SecurityMiddleware, settings=settings, sessions=sessions)],
        exception_handlers={CrossSiteError: _cross_site},
        lifespan=audit.lifespan,
    )
    app.state.audits = audit.Audits()  # the lifespan removes their upload directories
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.jobs = Jobs()
    app.state.pages = Pages(environment(), settings.history is not None, settings.token is not None)
    return app
