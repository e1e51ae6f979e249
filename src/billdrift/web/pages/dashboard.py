"""The dashboard: the latest verdict and when, what changed since the previous run,
money at stake per currency by kind (monthly and annualized), and the trend."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from billdrift.errors import BilldriftError
from billdrift.usecases.dashboard import MONTHS_PER_YEAR, dashboard
from billdrift.web.pages import pages_of, settings_of, store_error
from billdrift.web.views import amount, trend_html


async def page(request: Request) -> Response:
    settings = settings_of(request)
    if settings.history is None:
        return pages_of(request).render(request, "dashboard.html", board=None, trend="")
    try:
        board = await run_in_threadpool(dashboard, settings.history)
    except BilldriftError as error:
        return store_error(request, error)
    return pages_of(request).render(
        request,
        "dashboard.html",
        board=board,
        trend=trend_html(board.points) if board.points else "",
        amount=amount,
        months=MONTHS_PER_YEAR,
    )
