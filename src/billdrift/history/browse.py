"""What screens that list findings and runs read: a findings page, the filters'
values, a run's changes, open money per kind.

A findings page is the review queue's query (:mod:`billdrift.history.queue`): the
screen's filter (:class:`FindingFilter`, the web app's vocabulary) becomes a
:class:`~billdrift.history.queue.QueueQuery`, so the web list and ``billdrift
review`` filter, order, count and page with the same SQL, and a fix or an index
for one is for both. The review state shown is the decision in force
(:func:`billdrift.history.review.decision_in_force`); ``none`` means no decision
applies (the finding needs a person, when it is open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from billdrift.history import queue
from billdrift.history._sql import SqlStore
from billdrift.history._sql_rows import seen_run
from billdrift.history.queue import QueueQuery, Sort
from billdrift.history.store import FindingState, HistoryError, HistoryStore

#: Lifecycle choices: where a finding stands (``open``: any open one; the three open
#: changes; ``resolved``, ``suppressed``; ``all``).
Lifecycle = Literal["open", "new", "ongoing", "reopened", "resolved", "suppressed", "all"]
LIFECYCLES: Final[tuple[Lifecycle, ...]] = (
    "open",
    "new",
    "ongoing",
    "reopened",
    "resolved",
    "suppressed",
    "all",
)
ReviewState = Literal["none", "acknowledged", "snoozed", "expected"]
REVIEW_STATES: Final[tuple[ReviewState, ...]] = ("none", "acknowledged", "snoozed", "expected")
SortKey = Literal["urgency", "amount", "kind", "first_seen", "last_seen", "account"]
SORT_KEYS: Final[tuple[SortKey, ...]] = (
    "urgency",
    "amount",
    "kind",
    "first_seen",
    "last_seen",
    "account",
)
#: Rows a page may ask for at most.
MAX_LIMIT: Final = 500


@dataclass(frozen=True, kw_only=True)
class FindingFilter:
    """What to list: every field None (or empty) means "any"."""

    lifecycle: Lifecycle = "open"
    kind: str | None = None
    severity: str | None = None
    review: ReviewState | None = None
    currency: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    #: Matches the start of a fingerprint, or part of an account, customer or
    #: subscription id, or of the latest evidence (emails), case-insensitively.
    search: str | None = None
    sort: SortKey = "urgency"
    descending: bool = True


@dataclass(frozen=True)
class ListedFinding:
    """One row of a findings page: the finding and the decision in force, if any."""

    state: FindingState
    review: ReviewState
    review_until: datetime | None


@dataclass(frozen=True)
class FindingList:
    rows: tuple[ListedFinding, ...]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Facets:
    """The values the filters offer: what the store holds."""

    kinds: tuple[str, ...] = ()
    currencies: tuple[str, ...] = ()
    counts_by_lifecycle: dict[str, int] = field(default_factory=dict)


def _sql_store(store: HistoryStore) -> SqlStore:
    if not isinstance(store, SqlStore):  # pragma: no cover - both backends are SqlStores
        raise HistoryError(f"{store.shown}: this store cannot be browsed")
    return store


#: The screen's sort -> the queue's, and whether "descending" is the queue's own order
#: (most urgent, most money, latest seen first) or the other way (newest first seen,
#: names from Z).
_SORTS: Final[dict[SortKey, tuple[Sort, bool]]] = {
    "urgency": ("severity", True),
    "amount": ("money", True),
    "last_seen": ("last_seen", True),
    "first_seen": ("first_seen", False),
    "kind": ("kind", False),
    "account": ("account", False),
}
_LIFECYCLES: Final[dict[Lifecycle, tuple[str, ...]]] = {
    "open": (),
    "new": ("new",),
    "ongoing": ("ongoing",),
    "reopened": ("reopened",),
    "resolved": ("resolved",),
    "suppressed": ("suppressed",),
    "all": queue.LIFECYCLES,
}


def _number(store: SqlStore) -> str:
    return "REAL" if store.dialect == "sqlite" else "NUMERIC"


def as_queue_query(wanted: FindingFilter, offset: int, limit: int) -> QueueQuery:
    """The review queue's query for what a findings screen asks: the web list and
    ``billdrift review`` run the same SQL (:mod:`billdrift.history.queue`)."""
    sort, descending_is_natural = _SORTS[wanted.sort]
    review = wanted.review
    return QueueQuery(
        kinds=(wanted.kind,) if wanted.kind else (),
        severities=(wanted.severity,) if wanted.severity else (),
        lifecycles=_LIFECYCLES[wanted.lifecycle],
        review_states=() if review is None else ("undecided" if review == "none" else review,),
        include_decided=review is None,
        currencies=(wanted.currency,) if wanted.currency else (),
        min_amount=wanted.min_amount,
        max_amount=wanted.max_amount,
        text=wanted.search or "",
        sort=sort,
        reverse=wanted.descending != descending_is_natural,
        limit=min(max(limit, 1), MAX_LIMIT),
        offset=max(offset, 0),
    )


def list_findings(
    store: HistoryStore, wanted: FindingFilter, now: datetime, offset: int, limit: int
) -> FindingList:
    """One page of the findings `wanted` selects, and how many there are in all: the
    review queue's page (:func:`billdrift.history.queue.queue_page`)."""
    try:
        query = as_queue_query(wanted, offset, limit)
    except ValueError:  # a kind or severity the store cannot hold: nothing matches
        return FindingList((), 0, max(offset, 0), min(max(limit, 1), MAX_LIMIT))
    page = queue.queue_page(store, query, now)
    rows = tuple(
        ListedFinding(
            item.state,
            "none" if item.decision is None else item.decision.action,  # type: ignore[arg-type]
            None if item.decision is None else item.decision.until,
        )
        for item in page.items
    )
    return FindingList(rows, page.total, query.offset, query.limit or MAX_LIMIT)


def facets(store: HistoryStore) -> Facets:
    sql_store = _sql_store(store)
    with sql_store._snapshot():  # one pass over the table
        rows = sql_store._exec(
            "SELECT status, last_change, kind, exposure_currency, count(*) FROM findings "
            "GROUP BY status, last_change, kind, exposure_currency"
        )
    counts: dict[str, int] = {}
    kinds: set[str] = set()
    currencies: set[str] = set()
    for status, change, kind, currency, number in rows:
        n = int(number)
        kinds.add(str(kind))
        if currency is not None:
            currencies.add(str(currency))
        counts[status] = counts.get(status, 0) + n
        if status == "open":
            counts[change] = counts.get(change, 0) + n
        counts["all"] = counts.get("all", 0) + n
    return Facets(tuple(sorted(kinds)), tuple(sorted(currencies)), counts)


@dataclass(frozen=True)
class RunChanges:
    """What one run changed: findings by how it saw them (new, ongoing, reopened,
    suppressed, resolved)."""

    run_id: int
    by_change: dict[str, int]


def run_changes(store: HistoryStore, run_id: int) -> RunChanges:
    """What the run `run_id` changed, as it recorded it (schema version 8). For a run
    recorded before, how the findings it saw (or resolved) stand now: right while it is
    the latest run, since later runs overwrite the lifecycle columns."""
    sql_store = _sql_store(store)
    with sql_store._snapshot():
        kept = sql_store._exec("SELECT changes FROM runs WHERE id = ?", (run_id,))
        if kept and kept[0][0] is not None:
            recorded = sql_store._json_out(kept[0][0])
            return RunChanges(run_id, {str(name): int(n) for name, n in recorded.items()})
        rows = sql_store._exec(
            "SELECT last_change, count(*) FROM findings f "
            f"WHERE {seen_run()} = ? OR resolved_run = ? GROUP BY last_change",
            (run_id, run_id),
        )
    return RunChanges(run_id, {str(change): int(n) for change, n in rows})


@dataclass(frozen=True)
class KindExposure:
    kind: str
    currency: str
    findings: int
    monthly: Decimal


def open_exposure(store: HistoryStore) -> list[KindExposure]:
    """Money at stake per kind and currency over the open findings: the sum of each
    finding's monthly amount (a subscription two kinds name counts in both)."""
    sql_store = _sql_store(store)
    with sql_store._snapshot():
        rows = sql_store._exec(
            f"SELECT kind, exposure_currency, count(*), "
            f"sum(CAST(exposure_amount AS {_number(sql_store)})) FROM findings "
            "WHERE status = 'open' AND exposure_currency IS NOT NULL "
            "GROUP BY kind, exposure_currency ORDER BY exposure_currency, kind"
        )
    return [
        KindExposure(str(kind), str(currency), int(n), _money(total))
        for kind, currency, n, total in rows
    ]


def _money(value: Any) -> Decimal:
    """A summed amount to the cent (SQLite sums REAL: exact enough at cent scale for
    any count a store holds, and rounded here)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
