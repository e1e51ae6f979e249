"""The "Audit files" page: drop exports, check how they are read, run, read the report.

The flow, every step a plain form (it works without script; ``audit.js`` adds the
drop zones and live progress):

1. ``GET /audit``: the upload form. ``POST /audit`` streams the files into a
   private directory (:mod:`billdrift.web.audit_uploads`), recognizes them and
   redirects to the audit.
2. ``GET /audit/{id}``: what each file is, every app column with sample values
   and what it is read as (a select per column). ``POST /audit/{id}`` applies a
   changed mapping, downloads it as a config file, or starts the run.
3. ``GET /audit/{id}/report``: progress while it runs (``progress.json`` for the
   script), then the report, its findings paged.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from billdrift.core.instants import InstantError, parse_instant
from billdrift.core.report import annualized
from billdrift.errors import BilldriftError, ConfigError
from billdrift.sources.app.columns import ROLES, ColumnMapping
from billdrift.usecases.audit import MappingChoice, choose, config_text, recognize
from billdrift.usecases.check import as_of_instant
from billdrift.web.audit_jobs import Audit, Audits
from billdrift.web.audit_uploads import BadUpload, UploadTooLarge, receive, shown_size
from billdrift.web.pages import pages_of, settings_of
from billdrift.web.security import checked_form

__all__ = ["ROUTES", "Audits", "lifespan"]

PAGE_SIZE: Final = 50
#: What a column can be read as, in the select beside it.
READ_AS: Final = (
    ("", "not used"),
    ("account_id", "account id"),
    ("customer_id", "billing customer id"),
    ("subscription_id", "billing subscription id"),
    ("email", "email"),
    ("plan", "plan"),
    ("role", "role"),
    ("flag", "access flag (yes/no)"),
    ("status", "access status (active, canceled...)"),
)


def audits_of(request: Request) -> Audits:
    audits: Audits = request.app.state.audits
    return audits


async def form(request: Request) -> Response:
    limit = shown_size(settings_of(request).max_upload_bytes)
    return pages_of(request).render(request, "audit.html", limit=limit, error=None)


async def upload(request: Request) -> Response:
    audits = audits_of(request)
    limit = settings_of(request).max_upload_bytes
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        await checked_form(request)  # a forged request is refused as such
        return _refused(request, "expected files: choose them with the form below", 400)
    folder = audits.folder()
    try:
        fields, files = await receive(request, folder, limit)
        billing = [(f.path, f.name) for f in files if f.field == "billing"]
        apps = [(f.path, f.name) for f in files if f.field == "app"]
        if len(apps) != 1:
            raise BadUpload("add exactly one app export (the accounts your app grants access to)")
        if not billing:
            raise BadUpload("add at least one billing export")
        as_of = _as_of(fields.get("as_of", ""))
        recognition = await run_in_threadpool(recognize, billing, apps[0])
    except UploadTooLarge as error:
        audits.discard(folder)
        return _refused(request, str(error), 413)
    except (BadUpload, ConfigError) as error:
        audits.discard(folder)
        return _refused(request, str(error), 400)
    except BaseException:
        audits.discard(folder)
        raise
    audit = audits.add(folder, recognition)
    audit.as_of = as_of
    return RedirectResponse(f"/audit/{audit.id}", status_code=303)


async def review(request: Request) -> Response:
    audit = _audit(request)
    if audit is None:
        return _gone(request)
    if audit.running or audit.finished:
        return RedirectResponse(f"/audit/{audit.id}/report", status_code=303)
    return _review_page(request, audit, None)


async def act(request: Request) -> Response:
    data = await checked_form(request)  # first: a forged request learns nothing
    audit = _audit(request)
    if audit is None:
        return _gone(request)
    if audit.running or audit.finished:  # its files are read or gone: nothing to change
        return RedirectResponse(f"/audit/{audit.id}/report", status_code=303)
    fields = {key: str(value) for key, value in data.items()}
    recognition = audit.recognition
    if recognition.app.mapping is not None and recognition.app.error is None:
        try:
            recognition = choose(recognition, _choice(fields, recognition.app.column_names))
        except ConfigError as error:
            return _review_page(request, audit, str(error), fields, status=400)
        audits_of(request).choose(audit, recognition)
    action = fields.get("action", "apply")
    if action == "config":
        try:
            text = config_text(recognition)
        except ConfigError as error:
            return _review_page(request, audit, str(error), status=400)
        return Response(
            text,
            media_type="application/toml",
            headers={"Content-Disposition": 'attachment; filename="billdrift.toml"'},
        )
    if action == "run":
        if not recognition.ready:
            return _review_page(request, audit, "; ".join(recognition.problems), status=400)
        audits_of(request).start(audit, audit.as_of or as_of_instant(None))
        return RedirectResponse(f"/audit/{audit.id}/report", status_code=303)
    return RedirectResponse(f"/audit/{audit.id}", status_code=303)


async def progress(request: Request) -> Response:
    audit = _audit(request)
    if audit is None:
        return JSONResponse({"error": "no such audit"}, status_code=404)
    steps = audits_of(request).steps(audit)
    return JSONResponse(
        {
            "running": audit.running,
            "finished": audit.finished,
            "error": audit.error,
            "steps": [
                {"phase": s.phase, "message": s.message, "elapsed": round(s.elapsed, 1)}
                for s in steps
            ],
        }
    )


async def report(request: Request) -> Response:
    audit = _audit(request)
    if audit is None:
        return _gone(request)
    pages = pages_of(request)
    steps = audits_of(request).steps(audit)
    if audit.report is None:
        status = 200 if audit.running or audit.error else 409
        return pages.render(
            request, "audit_progress.html", audit=audit, steps=steps, status_code=status
        )
    result = audit.report
    count = len(result.findings)
    pages_total = max(math.ceil(count / PAGE_SIZE), 1)
    page = min(max(_int(request.query_params.get("page"), 1), 1), pages_total)
    shown = result.findings[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    monthly = result.exposure_by_currency
    return pages.render(
        request,
        "audit_report.html",
        audit=audit,
        report=result,
        steps=steps,
        findings=shown,
        first=(page - 1) * PAGE_SIZE + 1,
        page=page,
        pages_total=pages_total,
        monthly=monthly,
        yearly=annualized(monthly),
        evidence=evidence_lines,
    )


def evidence_lines(evidence: Mapping[str, object]) -> list[tuple[str, list[tuple[str, str]]]]:
    """A finding's evidence as (side, [(field, value)]): readable, one field a line,
    nested values as compact JSON (the same values the JSON report holds)."""
    lines: list[tuple[str, list[tuple[str, str]]]] = []
    for side, value in evidence.items():
        if isinstance(value, Mapping):
            lines.append((side, [(str(key), _shown(item)) for key, item in value.items()]))
        else:
            lines.append((side, [("", _shown(value))]))
    return lines


def _shown(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _review_page(
    request: Request,
    audit: Audit,
    error: str | None,
    fields: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    app = audit.recognition.app
    if fields is not None:  # show what was submitted, so the person can correct it
        read_as = [fields.get(f"col-{i}", "") for i in range(len(app.columns))]
        primary = fields.get("primary", "")
    else:
        read_as = _read_as(app.mapping, app.column_names)
        primary = app.mapping.primary_access_field if app.mapping else ""
    return pages_of(request).render(
        request,
        "audit_review.html",
        status_code=status,
        audit=audit,
        recognition=audit.recognition,
        error=error,
        read_as=read_as,
        options=READ_AS,
        primary=primary,
        size=shown_size,
    )


def _read_as(mapping: ColumnMapping | None, columns: tuple[str, ...]) -> list[str]:
    """For each column, what the mapping reads it as (a READ_AS value)."""
    if mapping is None:
        return ["" for _ in columns]
    by_column = {mapping.role_column(role): role for role in ROLES if mapping.role_column(role)}
    by_column.update({name: "flag" for name in mapping.access_fields})
    by_column.update({name: "status" for name in mapping.status_fields})
    return [by_column.get(column, "") for column in columns]


def _choice(fields: Mapping[str, str], columns: tuple[str, ...]) -> MappingChoice:
    """The mapping the per-column selects state; ConfigError for a role chosen twice."""
    roles: dict[str, str | None] = dict.fromkeys(ROLES)
    flags: list[str] = []
    statuses: list[str] = []
    allowed = {value for value, _ in READ_AS}
    for index, column in enumerate(columns):
        value = fields.get(f"col-{index}", "")
        if value not in allowed:
            raise ConfigError(f"column {column!r}: unknown choice {value!r}")
        if value == "flag":
            flags.append(column)
        elif value == "status":
            statuses.append(column)
        elif value:
            if roles[value] is not None:
                raise ConfigError(
                    f"{dict(READ_AS)[value]} is chosen for two columns ({roles[value]!r} and "
                    f"{column!r}); choose one"
                )
            roles[value] = column
    primary = fields.get("primary") or None
    if primary not in (*flags, *statuses):
        primary = None  # the first access column decides
    return MappingChoice(roles, tuple(flags), tuple(statuses), primary)


def _as_of(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return parse_instant(value.strip(), "as of", "a date or instant such as 2026-11-22")
    except (InstantError, BilldriftError) as error:
        raise ConfigError(str(error)) from None


def _audit(request: Request) -> Audit | None:
    return audits_of(request).get(request.path_params["audit_id"])


def _gone(request: Request) -> Response:
    return _refused(
        request,
        "this audit is no longer here (the server restarted or newer audits replaced it); "
        "upload the files again",
        404,
    )


def _refused(request: Request, message: str, status: int) -> Response:
    limit = shown_size(settings_of(request).max_upload_bytes)
    return pages_of(request).render(
        request, "audit.html", status_code=status, limit=limit, error=message
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """The audits' upload directories last no longer than the server."""
    try:
        yield
    finally:
        app.state.audits.close()


ROUTES: Final = [
    Route("/audit", form, methods=["GET"], name="audit"),
    Route("/audit", upload, methods=["POST"]),
    Route("/audit/{audit_id}", review, methods=["GET"]),
    Route("/audit/{audit_id}", act, methods=["POST"]),
    Route("/audit/{audit_id}/progress.json", progress, methods=["GET"]),
    Route("/audit/{audit_id}/report", report, methods=["GET"]),
]
