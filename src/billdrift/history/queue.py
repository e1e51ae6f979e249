"""The review queue as one SQL query: filtered, sorted and paged inside the store.

Why SQL and not Python: a large account keeps tens of thousands of open findings,
and a reviewer (or the web app's findings page) wants the first fifty of those
matching a filter. Loading every finding and every review into Python to sort them
took seconds and printed a quarter of a million lines; here the store filters
(WHERE), orders (ORDER BY) and cuts (LIMIT/OFFSET) and a second, aggregate query
counts what matched, so a page costs one scan of the findings table whatever its
size, and only the page's rows become Python objects.

The decision in force is computed in SQL with the same rule as
:func:`billdrift.history.review.decision_in_force` (the latest deciding review of
the finding's current occurrence, unless its ``until`` has passed); a test runs
both on the same store.

Queue order (``sort="severity"``, the default) is the one documented in
:mod:`billdrift.history.review`: urgent kinds, severity, money, kind order, oldest
first, then ids. Ids compare naturally by their trailing number ("acct_2" before
"acct_10", "2" before "19"), the rest of the id as text (byte order on both
backends). The other sorts put one key first and fall back to that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal

from billdrift.core.model import KIND_ORDER, Kind, Severity
from billdrift.history._sql_rows import seen_at
from billdrift.history.review import DECIDING, URGENT, QueueItem, decision_in_force
from billdrift.history.store import FindingState, HistoryStore

if TYPE_CHECKING:
    from billdrift.history._sql import SqlStore

#: Lifecycle filter values: how the latest run saw the finding (``resolved``: gone;
#: ``suppressed``: excused by a config exception).
LIFECYCLES: Final = ("new", "ongoing", "reopened", "resolved", "suppressed")
#: Review-state filter values; ``noted`` means someone added a note (it decides nothing).
REVIEW_STATES: Final = ("undecided", "acknowledged", "snoozed", "expected", "noted")
SORTS: Final = ("severity", "money", "first_seen", "last_seen", "kind", "account")
Sort = Literal["severity", "money", "first_seen", "last_seen", "kind", "account"]
#: Findings per page when the caller does not say.
DEFAULT_LIMIT: Final = 50
#: LIMIT for "no limit" (SQLite needs a LIMIT before an OFFSET; both take a big one).
NO_LIMIT: Final = 2**62
_DIGITS: Final = "'0123456789'"
#: A whole e-mail address (searched by the indexed ``findings.email``, not a scan).
ADDRESS: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, kw_only=True)
class QueueQuery:
    """What to list. Empty tuples mean "any"; filters of different fields all apply.

    Without `lifecycles` the queue is the open findings (new, ongoing, reopened);
    without `review_states` it is those no decision covers (``undecided``), or every
    state when `include_decided` is set.
    """

    kinds: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    lifecycles: tuple[str, ...] = ()
    review_states: tuple[str, ...] = ()
    include_decided: bool = False
    currencies: tuple[str, ...] = ()
    #: Monthly exposure at least / at most this much (findings without one are out).
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    #: Case-insensitive substring of the account, customer or subscription id, the
    #: message, or a fingerprint prefix; with an "@", also of the customer's e-mail
    #: address (``findings.email``); a whole address finds that address only, by its
    #: index.
    text: str = ""
    sort: Sort = "severity"
    #: The sort's order the other way round (e.g. least money first).
    reverse: bool = False
    #: None: no limit (every matching finding).
    limit: int | None = DEFAULT_LIMIT
    offset: int = 0

    def __post_init__(self) -> None:
        _check("kind", self.kinds, tuple(kind.value for kind in Kind))
        _check("severity", self.severities, tuple(s.label for s in Severity))
        _check("lifecycle", self.lifecycles, LIFECYCLES)
        _check("review state", self.review_states, REVIEW_STATES)
        _check("sort", (self.sort,), SORTS)
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1 (or None for no limit), not {self.limit}")
        if self.offset < 0:
            raise ValueError(f"offset must not be negative, not {self.offset}")

    @property
    def states(self) -> tuple[str, ...]:
        """The review states listed (the default: undecided only)."""
        if self.review_states:
            return self.review_states
        return REVIEW_STATES if self.include_decided else ("undecided",)


def _check(what: str, given: Sequence[str], allowed: Sequence[str]) -> None:
    unknown = [value for value in given if value not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}: expected one of {', '.join(allowed)}")


@dataclass(frozen=True)
class QueueCounts:
    """How many findings match the filters other than the review state, by state.

    `by_state` counts each finding once, under the decision in force (or
    ``undecided``); `noted_by_state` counts, per state, those that also carry a note."""

    by_state: dict[str, int] = field(default_factory=dict)
    noted_by_state: dict[str, int] = field(default_factory=dict)

    @property
    def noted(self) -> int:
        return sum(self.noted_by_state.values())


@dataclass(frozen=True)
class QueueSql:
    """The two statements of one queue page, with their parameters."""

    page: str
    page_params: tuple[Any, ...]
    counts: str
    counts_params: tuple[Any, ...]


def _in(column: str, values: Sequence[str], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def natural_order(column: str, text_order: Callable[[str], str]) -> list[str]:
    """ORDER BY terms that sort ids by their text before a trailing number, then that
    number as a number (leading zeros aside), then the id itself; no id last. Plain
    SQL both backends run (no regular expressions in SQLite)."""
    stem = f"rtrim({column}, {_DIGITS})"
    number = f"ltrim(substr({column}, length({stem}) + 1), '0')"
    return [
        f"CASE WHEN {column} IS NULL THEN 1 ELSE 0 END",
        text_order(stem),
        f"length({number})",
        text_order(number),
        text_order(column),
    ]


def money_order(amount: str, text_order: Callable[[str], str]) -> list[str]:
    """ORDER BY terms for money at stake: amounts compare within a currency only
    (100 JPY is not more than 99 USD), so findings with money come first, grouped by
    currency code, the largest amount first in each; findings without money last."""
    return [
        "CASE WHEN exposure_currency IS NULL THEN 1 ELSE 0 END",
        text_order("exposure_currency"),
        f"{amount} DESC",
    ]


def queue_order(amount: str, text_order: Callable[[str], str]) -> list[str]:
    """The queue's ORDER BY terms (also the key of the ``findings_queue`` index)."""
    urgent = ", ".join(f"'{kind.value}'" for kind in sorted(URGENT))
    severity = " ".join(f"WHEN '{s.label}' THEN {int(s)}" for s in Severity)
    kinds = " ".join(f"WHEN '{kind.value}' THEN {i}" for i, kind in enumerate(KIND_ORDER))
    return [
        f"CASE WHEN kind IN ({urgent}) THEN 0 ELSE 1 END",
        f"CASE severity {severity} ELSE 0 END DESC",
        *money_order(amount, text_order),
        f"CASE kind {kinds} ELSE {len(KIND_ORDER)} END",
        "first_seen_at",
        *natural_order("account_id", text_order),
        *natural_order("customer_id", text_order),
        *natural_order("subscription_id", text_order),
        text_order("fingerprint"),
    ]


def build(
    query: QueueQuery,
    now: Any,
    *,
    amount: str,
    like: str,
    text_order: Callable[[str], str],
) -> QueueSql:
    """The page (its fingerprints, in order) and count statements for `query`
    (``?`` placeholders).

    `amount` is the dialect's expression for ``exposure_amount`` as a number (0 when
    absent), `like` its case-insensitive LIKE operator, `text_order` makes a text
    expression sort in byte order; `now` is the store's form of the current instant
    (a decision whose ``until`` is at or before it no longer applies)."""
    where: list[str] = []
    params: list[Any] = []
    text = query.text.strip()
    address = ADDRESS.fullmatch(text)
    # Looking up a whole address, the status is written as an expression no index
    # serves, so SQLite (no statistics) looks the address up by findings_by_email
    # instead of walking every open finding in findings_queue order (2.2 s at 65,000).
    status = "(f.status || '')" if address else "f.status"
    if query.lifecycles:
        where.append(_in("f.last_change", query.lifecycles, params))
        where.append(f"{status} IN ('open', 'resolved', 'suppressed')")
    else:
        where.append(f"{status} = 'open'")
    if query.kinds:
        where.append(_in("f.kind", query.kinds, params))
    if query.severities:
        where.append(_in("f.severity", query.severities, params))
    if query.currencies:
        where.append(_in("f.exposure_currency", query.currencies, params))
    for bound, operator in ((query.min_amount, ">="), (query.max_amount, "<=")):
        if bound is not None:
            number = amount.replace("exposure_amount", "f.exposure_amount")
            where.append(f"f.exposure_amount IS NOT NULL AND {number} {operator} ?")
            params.append(float(bound))
    spans = ""
    if address:
        # A whole e-mail address: the indexed email column (schema version 6), no scan.
        where.append("f.email = ?")
        params.append(text.lower())
    elif text:
        pattern = _like_pattern(text)
        searched = ["f.account_id", "f.customer_id", "f.subscription_id", "s.message"]
        if "@" in text:  # part of an address ("@example.com"): the email column
            searched.append("f.email")
        ors = [f"{column} {like} ? ESCAPE '\\'" for column in searched]
        ors.append("f.fingerprint LIKE ? ESCAPE '\\'")
        params.extend([pattern] * len(searched))
        params.append(pattern[1:].lower())  # a fingerprint by its prefix
        where.append(f"({' OR '.join(ors)})")
        # The latest message lives in the finding's current span (schema version 2).
        spans = " LEFT JOIN finding_spans s ON s.id = f.last_span"
    deciding = ", ".join(f"'{action}'" for action in sorted(DECIDING))
    filters = " AND ".join(where)
    # The page: the review state as EXISTS / NOT EXISTS over the reviews (a decision
    # is in force when it is the latest deciding review of the finding's current
    # occurrence and has not expired), so the planner sees (anti-)joins it can
    # estimate from the reviews' statistics, walks the findings_queue index in order
    # and stops after the page. A join with every finding's decision first made
    # PostgreSQL read and sort all of them (5.6 s at 65,000 open findings).
    states = query.states
    decisions = [state for state in states if state != "noted"]
    page_params = list(params)
    state_terms = []
    chosen = [state for state in decisions if state != "undecided"]
    if "undecided" in decisions:
        state_terms.append(f"NOT {_in_force(deciding)}")
        page_params.append(now)
    if chosen:
        state_terms.append(_in_force(", ".join("?" * len(chosen))))
        page_params += [*chosen, now]
    if "noted" in states:
        state_terms.append(
            "EXISTS (SELECT 1 FROM reviews n WHERE n.fingerprint = f.fingerprint "
            "AND n.action = 'noted')"
        )
    matched = f"""
        WITH stated AS (
          SELECT f.* FROM findings f{spans}
          WHERE {filters} AND ({" OR ".join(state_terms)})
        )"""
    order = queue_order(amount, text_order)
    first = {
        "severity": [],
        "money": money_order(amount, text_order),
        "first_seen": ["first_seen_at"],
        "last_seen": [f"{seen_at('')} DESC"],
        "kind": [text_order("kind")],
        "account": natural_order("account_id", text_order),
    }[query.sort]
    terms = [*first, *order]
    if query.reverse:
        terms = [t.removesuffix(" DESC") if t.endswith(" DESC") else f"{t} DESC" for t in terms]
    page = f"{matched} SELECT fingerprint FROM stated ORDER BY {', '.join(terms)}"
    page += " LIMIT ? OFFSET ?"
    page_params += [query.limit if query.limit is not None else NO_LIMIT, query.offset]
    # The counts read every matching finding: the decisions in force as one
    # aggregate over the reviews, joined (hashed) rather than looked up per finding.
    counts = f"""
        WITH decided AS (
          SELECT fingerprint, opened_run, max(id) AS id FROM reviews
          WHERE action IN ({deciding}) GROUP BY fingerprint, opened_run
        ), noted AS (
          SELECT DISTINCT fingerprint FROM reviews WHERE action = 'noted'
        ), stated AS (
          SELECT
            CASE WHEN d.id IS NULL OR (d.until IS NOT NULL AND d.until <= ?) THEN 'undecided'
              ELSE d.action END AS review_state,
            CASE WHEN n.fingerprint IS NULL THEN 0 ELSE 1 END AS has_note
          FROM findings f{spans}
          LEFT JOIN decided x ON x.fingerprint = f.fingerprint AND x.opened_run = f.opened_run
          LEFT JOIN reviews d ON d.id = x.id
          LEFT JOIN noted n ON n.fingerprint = f.fingerprint
          WHERE {filters}
        )
        SELECT review_state, count(*), sum(has_note) FROM stated GROUP BY review_state"""
    return QueueSql(page, tuple(page_params), counts, (now, *params))


def _in_force(actions: str) -> str:
    """Whether finding ``f`` has a decision in force whose action is one of `actions`
    (SQL list items): the latest deciding review of its current occurrence, not
    expired at the ``?`` instant (the rule of :func:`~billdrift.history.review.
    decision_in_force`)."""
    deciding = ", ".join(f"'{action}'" for action in sorted(DECIDING))
    return f"""EXISTS (SELECT 1 FROM reviews d
          WHERE d.fingerprint = f.fingerprint AND d.opened_run = f.opened_run
            AND d.action IN ({actions}) AND (d.until IS NULL OR d.until > ?)
            AND NOT EXISTS (SELECT 1 FROM reviews l
              WHERE l.fingerprint = d.fingerprint AND l.opened_run = d.opened_run
                AND l.action IN ({deciding}) AND l.id > d.id))"""


def index_keys(amount: str, text_order: Callable[[str], str]) -> str:
    """:func:`queue_order` as the key of an index (PostgreSQL wants each expression in
    parentheses; the direction goes outside them)."""
    return ", ".join(
        f"({term.removesuffix(' DESC')}){' DESC' if term.endswith(' DESC') else ''}"
        for term in queue_order(amount, text_order)
    )


def store_sql(store: SqlStore, query: QueueQuery, now: datetime) -> QueueSql:
    """:func:`build` in `store`'s dialect (its amounts, LIKE, text order and times)."""
    return build(
        query,
        store._ts_in(now),
        amount=store.amount_sql,
        like=store.like_sql,
        text_order=store._text_order,
    )


def page_rows(
    store: SqlStore, query: QueueQuery, now: datetime
) -> tuple[list[FindingState], QueueCounts]:
    """Run the page and count statements on `store` in one snapshot; the page's states."""
    sql = store_sql(store, query, now)
    with store._snapshot():
        page = [str(row[0]) for row in store._exec(sql.page, sql.page_params)]
        counted = store._exec(sql.counts, sql.counts_params)
        found = store._findings(page)
    return [found[fp] for fp in page], counts_from_rows(counted)


def counts_from_rows(rows: Sequence[Sequence[Any]]) -> QueueCounts:
    """The counts statement's rows (state, findings, noted findings) as QueueCounts."""
    by_state = {state: 0 for state in REVIEW_STATES if state != "noted"}
    noted_by_state = dict(by_state)
    for state, count, noted in rows:
        by_state[str(state)] = int(count)
        noted_by_state[str(state)] = int(noted or 0)
    return QueueCounts(by_state, noted_by_state)


def matching(counts: QueueCounts, query: QueueQuery) -> int:
    """Findings matching every filter, the review state included; a finding that is
    both noted and in a listed decision state counts once."""
    states = query.states
    found = 0
    for state, count in counts.by_state.items():
        if state in states:
            found += count
        elif "noted" in states:
            found += counts.noted_by_state.get(state, 0)
    return found


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: its findings (with their reviews), and the counts a
    front-end needs to say how many more there are and how to see them."""

    query: QueueQuery
    items: tuple[QueueItem, ...]
    #: Findings matching every filter (all pages).
    total: int
    counts: QueueCounts

    @property
    def offset(self) -> int:
        return self.query.offset

    @property
    def limit(self) -> int | None:
        return self.query.limit

    @property
    def remaining(self) -> int:
        """Matching findings after this page."""
        return max(0, self.total - self.offset - len(self.items))

    @property
    def decided(self) -> int:
        """Findings matching the other filters that a decision covers (left out of
        the default queue)."""
        return sum(n for state, n in self.counts.by_state.items() if state != "undecided")


def queue_page(store: HistoryStore, query: QueueQuery, now: datetime | None = None) -> QueuePage:
    """The page of the review queue `query` asks for: the one library call behind
    ``billdrift review`` and the web app's findings page."""
    now = now or datetime.now(UTC)
    states, counts = store.queue_rows(query, now)
    reviews = store.reviews_for(state.fingerprint for state in states)
    items = []
    for state in states:
        mine = tuple(reviews.get(state.fingerprint, ()))
        items.append(QueueItem(state, mine, decision_in_force(state, mine, now)))
    return QueuePage(query, tuple(items), matching(counts, query), counts)


def review_queue(
    store: HistoryStore, now: datetime | None = None, include_decided: bool = False
) -> list[QueueItem]:
    """Every open finding that needs a person, in queue order (no paging). With
    `include_decided`, also those a decision currently covers."""
    query = QueueQuery(include_decided=include_decided, limit=None)
    return list(queue_page(store, query, now).items)
