"""The recorded runs, and "run a check now" with its progress."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from billdrift.errors import BilldriftError
from billdrift.usecases.dashboard import recorded_runs
from billdrift.web.jobs import Jobs
from billdrift.web.pages import pages_of, settings_of, store_error
from billdrift.web.security import checked_form
from billdrift.web.settings import WebSettings

RUNS_SHOWN = 100


def jobs_of(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


async def page(request: Request) -> Response:
    settings = settings_of(request)
    if settings.history is None:
        return pages_of(request).render(request, "no_history_page.html")
    try:
        runs = await run_in_threadpool(recorded_runs, settings.history, RUNS_SHOWN)
    except BilldriftError as error:
        return store_error(request, error)
    return pages_of(request).render(
        request,
        "runs.html",
        runs=list(reversed(runs)),
        job=jobs_of(request).current,
        config_path=settings.config_path,
        refused=request.query_params.get("busy") == "1",
    )


def _runner(settings: WebSettings) -> Any:
    def run(progress: Any) -> tuple[str, int]:
        from billdrift.config import load_config
        from billdrift.usecases.check import as_of_instant
        from billdrift.usecases.monitoring import monitored_check
        from billdrift.usecases.overrides import with_overrides

        config = with_overrides(load_config(settings.config_path), history=settings.history)
        outcome = monitored_check(
            config, as_of_instant(None), lambda report, history: None, progress=progress
        )
        if outcome.history_error is not None:
            raise outcome.history_error
        return outcome.report.verdict.value, len(outcome.report.findings)

    return run


async def start_check(request: Request) -> Response:
    await checked_form(request)
    settings = settings_of(request)
    if settings.history is None or settings.config_path is None:
        return pages_of(request).render(
            request,
            "error.html",
            status_code=400,
            message="running a check needs a config file and a history store "
            "(billdrift serve --config FILE --history LOC)",
        )
    job = jobs_of(request).start(_runner(settings))
    return RedirectResponse("/runs" if job is not None else "/runs?busy=1", status_code=303)


async def job_status(request: Request) -> Response:
    job = jobs_of(request).current
    return JSONResponse(job.as_json() if job is not None else None)
