"""The findings list (filter, sort, search, page) and one finding's page with its
timeline and review controls (acknowledge, snooze, mark expected)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from billdrift.errors import BilldriftError
from billdrift.history.browse import (
    LIFECYCLES,
    REVIEW_STATES,
    SORT_KEYS,
    FindingFilter,
)
from billdrift.history.review import parse_until
from billdrift.usecases import review as usecase
from billdrift.usecases.findings_page import PAGE_SIZE, findings_page
from billdrift.web.pages import pages_of, settings_of, store_error
from billdrift.web.security import checked_form, session_of
from billdrift.web.views import finding_view, masker, observation_view, review_view

SEVERITIES = ("high", "medium", "low")
#: Query parameters the list understands (kept when paging or re-sorting).
FILTER_KEYS = (
    "lifecycle",
    "kind",
    "severity",
    "review",
    "currency",
    "min",
    "max",
    "q",
    "sort",
    "dir",
)


def _decimal(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text and text.strip() else None
    except InvalidOperation:
        return None


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def parse_filter(params: QueryParams) -> FindingFilter:
    """The filter the query string asks for; anything unknown is ignored (a URL edited
    by hand never errors)."""
    lifecycle = _choice(params.get("lifecycle"), LIFECYCLES) or "open"
    review = _choice(params.get("review"), REVIEW_STATES)
    sort = _choice(params.get("sort"), SORT_KEYS) or "urgency"
    return FindingFilter(
        lifecycle=lifecycle,  # type: ignore[arg-type]  # one of LIFECYCLES
        kind=params.get("kind") or None,
        severity=_choice(params.get("severity"), SEVERITIES),
        review=review,  # type: ignore[arg-type]  # one of REVIEW_STATES
        currency=params.get("currency") or None,
        min_amount=_decimal(params.get("min")),
        max_amount=_decimal(params.get("max")),
        search=(params.get("q") or "").strip()[:200] or None,
        sort=sort,  # type: ignore[arg-type]  # one of SORT_KEYS
        descending=params.get("dir") != "asc",
    )


def _offset(params: QueryParams) -> int:
    text = params.get("offset", "0")
    return int(text) if text.isdigit() else 0


async def list_page(request: Request) -> Response:
    history = settings_of(request).history
    if history is None:
        return pages_of(request).render(request, "no_history_page.html")
    wanted = parse_filter(request.query_params)
    offset = _offset(request.query_params)
    try:
        found = await run_in_threadpool(findings_page, history, wanted, offset, PAGE_SIZE)
    except BilldriftError as error:
        return store_error(request, error)
    mask = masker(session_of(request))
    kept = {k: v for k in FILTER_KEYS if (v := request.query_params.get(k))}
    listing = found.listing

    def page_url(new_offset: int) -> str:
        return "/findings?" + urlencode({**kept, "offset": str(new_offset)})

    return pages_of(request).render(
        request,
        "findings.html",
        rows=[(finding_view(row.state, mask), row) for row in listing.rows],
        listing=listing,
        facets=found.facets,
        params=kept,
        lifecycles=LIFECYCLES,
        review_states=REVIEW_STATES,
        severities=SEVERITIES,
        sort_keys=SORT_KEYS,
        prev_url=page_url(max(listing.offset - listing.limit, 0)) if listing.offset > 0 else None,
        next_url=page_url(listing.offset + listing.limit)
        if listing.offset + listing.limit < listing.total
        else None,
    )


async def finding_page(request: Request) -> Response:
    history = settings_of(request).history
    if history is None:
        return pages_of(request).render(request, "no_history_page.html")
    prefix = request.path_params["fingerprint"]
    try:
        timeline = await run_in_threadpool(usecase.timeline, history, prefix)
    except BilldriftError as error:
        return store_error(request, error)
    mask = masker(session_of(request))
    mask.register(
        value
        for value in (
            timeline.state.account_id,
            timeline.state.customer_id,
            timeline.state.subscription_id,
        )
        if value
    )
    return pages_of(request).render(
        request,
        "finding.html",
        finding=finding_view(timeline.state, mask),
        observations=[observation_view(o, mask) for o in reversed(timeline.observations)],
        reviews=[review_view(r, mask) for r in reversed(timeline.reviews)],
        can_expect=settings_of(request).config_path is not None,
        config_path=settings_of(request).config_path,
        message=request.query_params.get("done"),
    )


def _until(text: str | None, required: bool) -> datetime | None:
    if not text or not text.strip():
        if required:
            raise BilldriftError("a snooze needs the date it ends")
        return None
    moment = parse_until(text.strip(), "until")
    if moment <= datetime.now(UTC):
        raise BilldriftError(f"until {text} is not in the future")
    return moment


async def decide(request: Request) -> Response:
    """Acknowledge, snooze or mark expected, as ``billdrift review`` does."""
    form = await checked_form(request)
    settings = settings_of(request)
    prefix = request.path_params["fingerprint"]
    action = request.path_params["action"]
    history = settings.history
    if history is None or action not in ("acknowledge", "snooze", "expect"):
        return pages_of(request).render(
            request, "error.html", status_code=404, message="no such action"
        )
    note = str(form.get("note") or "").strip()
    try:
        if action == "acknowledge":
            await run_in_threadpool(usecase.decide, history, prefix, "acknowledged", note)
            done = "acknowledged"
        elif action == "snooze":
            until = _until(str(form.get("until") or ""), required=True)
            if not note:
                raise BilldriftError("a snooze needs a note saying why")
            await run_in_threadpool(usecase.decide, history, prefix, "snoozed", note, None, until)
            done = "snoozed"
        else:
            if settings.config_path is None:
                raise BilldriftError("no config file: start billdrift serve with --config FILE")
            reason = str(form.get("reason") or "").strip()
            if not reason:
                raise BilldriftError("marking a finding expected needs a reason")
            until = _until(str(form.get("until") or ""), required=False)
            await run_in_threadpool(
                usecase.mark_expected, history, prefix, reason, until, settings.config_path
            )
            done = f"expected (exception added to {settings.config_path.name})"
    except BilldriftError as error:
        return store_error(request, error)
    return RedirectResponse(f"/findings/{prefix}?" + urlencode({"done": done}), status_code=303)
