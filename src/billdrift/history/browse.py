"""Paged, filtered, sorted reads of the store for screens that list findings and runs.

Why SQL here rather than filtering :meth:`HistoryStore.findings_with_status` in
Python: a store holds 100,000 findings and more, and a page shows 50. The filter,
the sort, the count and the page are one statement each on both backends (the
SQL is written once, with ``?`` placeholders, as :mod:`billdrift.history._sql` does),
and only the rows of the page become objects.

The review state is the decision in force, computed as
:func:`billdrift.history.review.decision_in_force` does it: the latest deciding
review (acknowledged, snoozed, expected) of the finding's current occurrence
(``opened_run``), unless its ``until`` has passed. ``none`` means no decision
applies (the finding needs a person, when it is open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from billdrift.history._sql import SqlStore
from billdrift.history._sql_rows import FINDING_COLUMNS, placeholders
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


def _number(store: SqlStore) -> str:
    return "REAL" if store.dialect == "sqlite" else "NUMERIC"


def _ilike(store: SqlStore) -> str:
    """Case-insensitive LIKE: SQLite's LIKE already is (for ASCII); PostgreSQL's ILIKE."""
    return "LIKE" if store.dialect == "sqlite" else "ILIKE"


#: The decision in force per finding (see the module docstring); ``?`` is "now".
_DECISION: Final = """
LEFT JOIN (
  SELECT fingerprint, opened_run, max(id) AS id FROM reviews
  WHERE action IN ('acknowledged', 'snoozed', 'expected')
  GROUP BY fingerprint, opened_run
) latest ON latest.fingerprint = f.fingerprint AND latest.opened_run = f.opened_run
LEFT JOIN reviews d ON d.id = latest.id AND (d.until IS NULL OR d.until > ?)
"""

_SEVERITY_RANK: Final = "CASE f.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END"


def _where(store: SqlStore, wanted: FindingFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    lifecycle = wanted.lifecycle
    if lifecycle == "open":
        clauses.append("f.status = 'open'")
    elif lifecycle in ("new", "ongoing", "reopened"):
        clauses.append("f.status = 'open' AND f.last_change = ?")
        params.append(lifecycle)
    elif lifecycle in ("resolved", "suppressed"):
        clauses.append("f.status = ?")
        params.append(lifecycle)
    for column, value in (
        ("f.kind", wanted.kind),
        ("f.severity", wanted.severity),
        ("f.exposure_currency", wanted.currency),
    ):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    amount = f"CAST(f.exposure_amount AS {_number(store)})"
    if wanted.min_amount is not None:
        clauses.append(f"{amount} >= ?")
        params.append(float(wanted.min_amount))
    if wanted.max_amount is not None:
        clauses.append(f"{amount} <= ?")
        params.append(float(wanted.max_amount))
    if wanted.review == "none":
        clauses.append("d.id IS NULL")
    elif wanted.review:
        clauses.append("d.action = ?")
        params.append(wanted.review)
    search = (wanted.search or "").strip()
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = f"{_ilike(store)} ? ESCAPE '\\'"
        ids = " ".join(
            f"OR f.{column} {like}" for column in ("account_id", "customer_id", "subscription_id")
        )
        prefix = search.lower() if all(c in "0123456789abcdef" for c in search.lower()) else "-"
        params += [prefix + "%", pattern, pattern, pattern]
        evidence = ""
        if "@" in search:  # an email: only the evidence holds them (one read per candidate)
            evidence = (
                # The latest evidence is the current span's (schema version 2).
                " OR EXISTS (SELECT 1 FROM finding_spans o WHERE o.id = f.last_span "
                f"AND CAST(o.evidence AS TEXT) {like})"
            )
            params.append(pattern)
        clauses.append(f"(f.fingerprint LIKE ? {ids}{evidence})")
    return clauses, params


def _order(store: SqlStore, wanted: FindingFilter) -> str:
    direction = "DESC" if wanted.descending else "ASC"
    flipped = "ASC" if wanted.descending else "DESC"
    amount = f"coalesce(CAST(f.exposure_amount AS {_number(store)}), 0)"
    orders = {
        # the review queue's order: urgent first, then severity, then money at stake
        "urgency": (
            f"CASE WHEN f.kind = 'paid_but_blocked' THEN 1 ELSE 0 END {direction}, "
            f"{_SEVERITY_RANK} {direction}, {amount} {direction}, f.first_seen_at {flipped}"
        ),
        "amount": f"{amount} {direction}, {_SEVERITY_RANK} DESC",
        "kind": f"f.kind {direction}, {_SEVERITY_RANK} DESC",
        "first_seen": f"f.first_seen_at {direction}",
        "last_seen": f"f.last_seen_at {direction}",
        "account": f"coalesce(f.account_id, f.customer_id) {direction}",
    }
    return orders[wanted.sort] + ", f.fingerprint ASC"


def list_findings(
    store: HistoryStore, wanted: FindingFilter, now: datetime, offset: int, limit: int
) -> FindingList:
    """One page of the findings `wanted` selects, and how many there are in all,
    read in one snapshot."""
    sql_store = _sql_store(store)
    offset, limit = max(offset, 0), min(max(limit, 1), MAX_LIMIT)
    clauses, params = _where(sql_store, wanted)
    where = " AND ".join(clauses) or "1 = 1"
    now_param = sql_store._ts_in(now)
    # A finding's latest message and fix live in its current span (schema version 2).
    columns = ", ".join(f"f.{column}" for column in FINDING_COLUMNS)
    columns += ", coalesce(s.message, ''), coalesce(s.fix, '')"
    # The decision join is needed to filter only when the filter names a review state;
    # otherwise the page is chosen on findings alone and only its rows are joined.
    joined = _DECISION if wanted.review else ""
    head = [now_param] if wanted.review else []
    with sql_store._snapshot():
        total = int(
            sql_store._exec(
                f"SELECT count(*) FROM findings f {joined} WHERE {where}", [*head, *params]
            )[0][0]
        )
        chosen = [
            str(row[0])
            for row in sql_store._exec(
                f"SELECT f.fingerprint FROM findings f {joined} WHERE {where} "
                f"ORDER BY {_order(sql_store, wanted)} LIMIT ? OFFSET ?",
                [*head, *params, limit, offset],
            )
        ]
        rows = (
            sql_store._exec(
                f"SELECT {columns}, d.action, d.until FROM findings f {_DECISION} "
                "LEFT JOIN finding_spans s ON s.id = f.last_span "
                f"WHERE f.fingerprint IN ({placeholders(len(chosen))})",
                [now_param, *chosen],
            )
            if chosen
            else []
        )
    width = len(FINDING_COLUMNS) + 2
    by_fingerprint = {
        str(row[0]): ListedFinding(
            sql_store._finding_from_row(row[:width]),
            row[width] or "none",
            sql_store._opt_ts(row[width + 1]),
        )
        for row in rows
    }
    listed = tuple(by_fingerprint[fp] for fp in chosen if fp in by_fingerprint)
    return FindingList(listed, total, offset, limit)


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
    """How the findings the run `run_id` saw (or resolved) stand after it, when it is
    the latest run (later runs overwrite the lifecycle columns)."""
    sql_store = _sql_store(store)
    with sql_store._snapshot():
        rows = sql_store._exec(
            "SELECT last_change, count(*) FROM findings "
            "WHERE last_seen_run = ? OR resolved_run = ? GROUP BY last_change",
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
