"""The history store's interface: what is kept between runs, and how it is written.

A store keeps four things (see :mod:`billdrift.history.schema` for the tables):
every run (its verdict, counts and money, for charts), every finding ever seen
(one row per fingerprint with its lifecycle), each run's observation of each
finding (the timeline of what each side said; stored as what changed, see
:mod:`billdrift.history._spans`), and the reviews people recorded (append-only:
notes and decisions are never updated or deleted).

Two backends implement it: an embedded SQLite file (the default, nothing to set
up) and PostgreSQL (a team's shared store, in its own ``billdrift`` schema). The
lifecycle logic (:mod:`billdrift.history.lifecycle`) only talks to this
interface, so both behave the same and are tested with the same tests.

Writes happen inside :meth:`HistoryStore.transaction`, which takes the store's
write lock first: one run is recorded whole or not at all, and two runs never
interleave. A lock that stays taken past the store's lock timeout raises
:class:`HistoryLockedError` rather than waiting forever.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from billdrift.core.model import Exposure, Finding, Kind, Severity, Verdict
from billdrift.errors import BilldriftError

if TYPE_CHECKING:
    from billdrift.history.queue import QueueCounts, QueueQuery
    from billdrift.history.retention import Policy, Pruned
    from billdrift.history.run_table import RunObservations

#: A finding's state in the store. ``suppressed``: seen, but excused by a config exception.
Status = Literal["open", "resolved", "suppressed"]
#: What the latest run that saw a finding (or resolved it) made of it.
Change = Literal["new", "ongoing", "reopened", "suppressed", "resolved"]
#: A full run judged everything it read; a targeted run only the customers it names.
RunKind = Literal["full", "targeted"]
#: Review actions. ``noted`` adds a note without deciding anything.
Action = Literal["acknowledged", "snoozed", "expected", "noted"]
ACTIONS: Final[tuple[Action, ...]] = ("acknowledged", "snoozed", "expected", "noted")

LOCKED_MESSAGE: Final = "another billdrift run is recording to this history store; try again"


class HistoryError(BilldriftError):
    """The history store cannot be opened, read or written (exit code 2)."""


class HistoryLockedError(HistoryError):
    """Another process held the store's write lock for longer than the lock timeout."""


class HistoryMissingError(HistoryError):
    """Reading a store that has never been written (no file, or no schema)."""


@dataclass(frozen=True, kw_only=True)
class NewRun:
    """One run as recorded: what the charts and audits need, not the findings."""

    started_at: datetime
    finished_at: datetime
    as_of: datetime
    verdict: Verdict
    fail_on: str
    #: [{"side": "billing", "description": "..."}], as the report named them.
    sources: list[dict[str, str]] = field(default_factory=list)
    #: Rows read per side: accounts, subscriptions, customers.
    rows: dict[str, int] = field(default_factory=dict)
    counts_by_kind: dict[str, int] = field(default_factory=dict)
    counts_by_severity: dict[str, int] = field(default_factory=dict)
    #: Never summed across currencies: {"USD": "120.00", "EUR": "9.00"}.
    exposure_by_currency: dict[str, str] = field(default_factory=dict)
    classification: dict[str, int] = field(default_factory=dict)
    n_findings: int = 0
    n_suppressed: int = 0
    n_skips: int = 0
    duration_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    billdrift_version: str = ""
    #: "targeted": a listener's check of `customers` only (kept out of trends and
    #: "since the previous run", see schema migration 5).
    kind: RunKind = "full"
    #: The billing customers a targeted run covered (empty for a full run).
    customers: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class RunSummary(NewRun):
    """A recorded run, with the id the store gave it."""

    run_id: int


@dataclass(frozen=True, kw_only=True)
class FindingState:
    """One fingerprint's row: its identity, lifecycle and latest observed details."""

    fingerprint: str
    kind: Kind
    account_id: str | None
    customer_id: str | None
    #: The subscription named by the latest observation (may change across resubscribes).
    subscription_id: str | None
    status: Status
    last_change: Change
    first_seen_run: int
    first_seen_at: datetime
    last_seen_run: int
    last_seen_at: datetime
    #: The run in which it last entered the open state (first seen, or reopened), and
    #: when. This names the *occurrence*: a review applies to the occurrence it was made
    #: about, so a finding that resolves and comes back needs a fresh look.
    opened_run: int
    opened_at: datetime
    resolved_run: int | None = None
    resolved_at: datetime | None = None
    times_reopened: int = 0
    severity: Severity
    confidence: float
    exposure: Exposure | None
    message: str
    fix: str


@dataclass(frozen=True, kw_only=True)
class Observation:
    """What one run said about one finding (the timeline entry)."""

    run_id: int
    fingerprint: str
    finding: Finding
    #: The exception's reason when a config exception suppressed it in this run.
    suppressed_by: str | None = None
    #: The run's finish time (filled in when read back; ignored when written).
    observed_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Review:
    """One human decision or note. Append-only: a later review supersedes, never edits."""

    fingerprint: str
    action: Action
    note: str
    who: str
    at: datetime
    #: snoozed: until when; expected: when the exception expires (None: no expiry).
    until: datetime | None = None
    #: The occurrence reviewed (the finding's ``opened_run`` when the review was made).
    opened_run: int | None = None
    review_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class FixApplication:
    """One ``billdrift fix apply``: which plan, where, by whom, and what each statement did."""

    plan_digest: str
    applied_at: datetime
    who: str
    #: The app database as reports name it (env:NAME or the redacted URL): never a password.
    app: str
    app_table: str
    #: applied (committed), nothing_to_do (every row already fixed), refused (rolled back).
    outcome: Literal["applied", "nothing_to_do", "refused"]
    rows_changed: int
    #: Per statement: {"account_id", "fingerprints", "rows", "state"}.
    statements: list[dict[str, Any]] = field(default_factory=list)
    record_id: int | None = None


@dataclass(frozen=True)
class Seen:
    """What recording made of a run's findings (one entry per fingerprint seen)."""

    #: fingerprint -> "new" | "ongoing" | "reopened" | "suppressed".
    change: dict[str, str]
    #: fingerprint -> when it was first seen (this run's time for new ones).
    first_seen: dict[str, datetime]
    #: fingerprint -> the occurrence it is in now (``opened_run``), for reviewed ones.
    opened_run: dict[str, int]
    #: fingerprint -> its reviews, oldest first (reviewed ones only).
    reviews: dict[str, list[Review]]
    #: Findings that were open or excused before this run and that it did not report.
    absent: list[FindingState]


class StoreTransaction(Protocol):
    """Operations available while the write lock is held (one transaction)."""

    def insert_run(self, run: NewRun) -> int:
        """Insert a run; return its id."""
        ...

    def record_findings(self, run_id: int, at: datetime, run: RunObservations) -> Seen:
        """Record what run `run_id` (finished `at`) observed: insert new findings,
        update those seen again, start or extend their timeline spans; say what each
        became and which open findings it did not report (see
        :mod:`billdrift.history._sql_record`)."""
        ...

    def resolve(self, fingerprints: Sequence[str], run_id: int, at: datetime) -> None:
        """Mark these findings resolved by run `run_id`."""
        ...

    def set_changes(self, run_id: int, by_change: Mapping[str, int]) -> None:
        """Keep what run `run_id` changed (findings by change) with the run: later
        runs rewrite the findings' lifecycle columns, not this."""
        ...

    def add_review(self, review: Review) -> int:
        """Append a review; return its id."""
        ...


class HistoryStore(abc.ABC):
    """A history store. Open one with :func:`billdrift.history.open_store`."""

    #: "sqlite" or "postgresql".
    dialect: str
    #: How messages name the store (a path, or a redacted URL / env:NAME).
    shown: str

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Take the write lock and open a transaction: committed when the block ends,
        rolled back if it raises. Raises HistoryLockedError after the lock timeout."""

    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def recent_runs(self, limit: int = 30, kind: RunKind | None = None) -> list[RunSummary]:
        """The latest `limit` runs (of `kind` only, if given), oldest first (the order
        a chart draws them)."""

    @abc.abstractmethod
    def last_run(self, kind: RunKind | None = "full") -> RunSummary | None:
        """The latest run of `kind` (None: of any kind). Full by default: a targeted
        run (a listener's check of a few customers) is not "the last check" a
        review header, the agent server or a dashboard means."""

    @abc.abstractmethod
    def findings_with_status(self, *statuses: Status) -> list[FindingState]: ...

    @abc.abstractmethod
    def finding(self, fingerprint: str) -> FindingState | None: ...

    @abc.abstractmethod
    def fingerprints_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Stored fingerprints that start with `prefix` (at most `limit`)."""

    @abc.abstractmethod
    def observations(self, fingerprint: str) -> list[Observation]:
        """A finding's timeline, oldest first."""

    @abc.abstractmethod
    def reviews_for(self, fingerprints: Iterable[str]) -> dict[str, list[Review]]:
        """Every review of these fingerprints, oldest first; fingerprints never
        reviewed are left out. Reports use it to show notes and decisions."""

    @abc.abstractmethod
    def queue_rows(
        self, query: QueueQuery, now: datetime
    ) -> tuple[list[FindingState], QueueCounts]:
        """One page of the review queue, filtered, ordered and cut in the store, and
        how many findings match (see :mod:`billdrift.history.queue`)."""

    @abc.abstractmethod
    def prune(self, policy: Policy, now: datetime, dry_run: bool = False) -> Pruned:
        """Remove what the retention `policy` lets go (see
        :mod:`billdrift.history.retention`); never a review."""

    @abc.abstractmethod
    def compact(self) -> tuple[int | None, int | None]:
        """Give the space pruning freed back (SQLite: VACUUM; PostgreSQL: left to
        autovacuum); the store's size in bytes before and after, where known."""

    @abc.abstractmethod
    def free_share(self) -> float:
        """The share of the store's space that is free (0 where not known)."""

    @abc.abstractmethod
    def add_fix_application(self, record: FixApplication) -> int:
        """Append what one ``fix apply`` did (own locked transaction); return its id."""

    @abc.abstractmethod
    def fix_applications(self, plan_digest: str | None = None) -> list[FixApplication]:
        """Recorded applications, oldest first (only those of one plan, if given)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def add_review(self, review: Review) -> Review:
        """Append one review in its own (locked) transaction."""
        with self.transaction() as tx:
            review_id = tx.add_review(review)
        return dataclasses.replace(review, review_id=review_id)

    def open_findings(self) -> list[FindingState]:
        return self.findings_with_status("open")

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.shown!r})"


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """`items` in slices of at most `size` (bounded IN lists and batches)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
