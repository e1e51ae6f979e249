"""The SQL both backends share: one set of queries, dialect details behind hooks.

Why one implementation: the lifecycle must behave identically on SQLite and
PostgreSQL, and two hand-written copies of every query would drift. The
backends only supply a connection, the write lock, parameter style and how
timestamps and JSON travel (:class:`SqlStore`'s abstract hooks). Queries are
written with ``?`` placeholders; a backend that wants ``%s`` rewrites them (no
query here contains a literal ``?`` or ``%``).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, cast

import orjson

from billdrift import __version__
from billdrift.core.model import Exposure, Finding, Kind, Severity, Verdict
from billdrift.history import schema
from billdrift.history.store import (
    Action,
    Change,
    FindingState,
    HistoryStore,
    NewRun,
    Observation,
    Review,
    RunSummary,
    Status,
    chunks,
)

#: Bound parameters per IN list / batch: well under SQLite's 32766 and PostgreSQL's 65535.
BATCH: Final = 500

_RUN_COLUMNS: Final = (
    "started_at",
    "finished_at",
    "as_of",
    "verdict",
    "fail_on",
    "sources",
    "rows_read",
    "counts_by_kind",
    "counts_by_severity",
    "exposure_by_currency",
    "classification",
    "n_findings",
    "n_suppressed",
    "n_skips",
    "duration_seconds",
    "errors",
    "notes",
    "billdrift_version",
)
_FINDING_IDENTITY: Final = ("fingerprint", "kind", "account_id", "customer_id")
_FINDING_MUTABLE: Final = (
    "subscription_id",
    "status",
    "last_change",
    "first_seen_run",
    "first_seen_at",
    "last_seen_run",
    "last_seen_at",
    "opened_run",
    "opened_at",
    "resolved_run",
    "resolved_at",
    "times_reopened",
    "severity",
    "confidence",
    "exposure_amount",
    "exposure_currency",
    "message",
    "fix",
)
_FINDING_COLUMNS: Final = _FINDING_IDENTITY + _FINDING_MUTABLE
_OBSERVATION_COLUMNS: Final = (
    "run_id",
    "fingerprint",
    "kind",
    "account_id",
    "customer_id",
    "subscription_id",
    "severity",
    "confidence",
    "exposure_amount",
    "exposure_currency",
    "message",
    "fix",
    "evidence",
    "suppressed_by",
)
_REVIEW_COLUMNS: Final = ("fingerprint", "action", "note", "until", "opened_run", "who", "at")


def dumps(value: object) -> str:
    """JSON text for the store: non-JSON values (dates, decimals) as strings, NaN as null."""
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


class SqlStore(HistoryStore):
    """A history store over a DB-API connection; subclasses supply the dialect."""

    #: Values for the ``{pk}``, ``{ref}``, ``{ts}``, ``{json}``, ``{float}`` DDL placeholders.
    types: Mapping[str, str]

    # -- dialect hooks ------------------------------------------------------------------

    @abc.abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; its rows (empty for statements without a result)."""

    @abc.abstractmethod
    def _exec_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abc.abstractmethod
    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT into a table with an ``id`` key; return the new id."""

    @abc.abstractmethod
    def _begin_write(self) -> None:
        """Open a transaction and take the write lock (HistoryLockedError on time-out)."""

    @abc.abstractmethod
    def _begin_read(self) -> None: ...

    @abc.abstractmethod
    def _commit(self) -> None: ...

    @abc.abstractmethod
    def _rollback(self) -> None: ...

    @abc.abstractmethod
    def _has_version_table(self) -> bool: ...

    @abc.abstractmethod
    def _prepare_schema(self) -> None:
        """Dialect set-up inside the migration transaction (PostgreSQL: the schema)."""

    def _ts_in(self, value: datetime | None) -> Any:
        return value

    def _ts_out(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        raise TypeError(f"expected a timestamp, got {value!r}")

    def _json_in(self, value: object) -> Any:
        return dumps(value)

    def _json_out(self, value: Any) -> Any:
        if isinstance(value, str | bytes):
            return orjson.loads(value)
        return value

    # -- transactions -------------------------------------------------------------------

    _in_transaction: bool = False

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """A transaction holding the store's write lock: committed if the block
        finishes, rolled back if anything (even KeyboardInterrupt) escapes it."""
        if self._in_transaction:
            raise RuntimeError("history store: write transactions do not nest")
        self._begin_write()
        self._in_transaction = True
        try:
            yield
            self._commit()
        except BaseException:
            self._rollback()
            raise
        finally:
            self._in_transaction = False

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read transaction, so multi-query reads see one state; inside a write
        transaction it is that transaction."""
        if self._in_transaction:
            yield
            return
        self._begin_read()
        self._in_transaction = True
        try:
            yield
        finally:
            self._in_transaction = False
            self._rollback()

    # -- schema ---------------------------------------------------------------------------

    def _current_version(self) -> int:
        rows = self._exec("SELECT max(version) FROM schema_version")
        return int(rows[0][0] or 0) if rows else 0

    def migrate(self) -> int:
        """Bring the store to the latest schema; refuse one newer than the code.

        Checked without the lock first, so opening an up-to-date store (the usual
        case) never waits for a run that is recording.
        """
        if self._has_version_table():
            with self._snapshot():
                current = self._current_version()
            schema.check_version(current, self.shown)
            if current == schema.LATEST:
                return current
        with self._locked():
            self._prepare_schema()
            self._exec(schema.VERSION_TABLE.format(**self.types))
            current = self._current_version()
            schema.check_version(current, self.shown)
            for migration in schema.pending(current):
                for statement in migration.statements:
                    self._exec(statement.format(**self.types))
                self._exec(
                    "INSERT INTO schema_version (version, description, applied_at, "
                    "billdrift_version) VALUES (?, ?, ?, ?)",
                    (
                        migration.version,
                        migration.description,
                        self._ts_in(datetime.now(UTC)),
                        __version__,
                    ),
                )
                current = migration.version
        return current

    def schema_version(self) -> int:
        with self._snapshot():
            return self._current_version()

    # -- writing --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._locked():
            yield _Transaction(self)

    # -- reading --------------------------------------------------------------------------

    def recent_runs(self, limit: int = 30) -> list[RunSummary]:
        with self._snapshot():
            rows = self._exec(
                f"SELECT id, {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        return [self._run_from_row(row) for row in reversed(rows)]

    def last_run(self) -> RunSummary | None:
        runs = self.recent_runs(1)
        return runs[0] if runs else None

    def findings_with_status(self, *statuses: Status) -> list[FindingState]:
        with self._snapshot():
            rows = self._exec(
                f"SELECT {', '.join(_FINDING_COLUMNS)} FROM findings "
                f"WHERE status IN ({_placeholders(len(statuses))}) ORDER BY fingerprint",
                statuses,
            )
        return [self._finding_from_row(row) for row in rows]

    def finding(self, fingerprint: str) -> FindingState | None:
        found = self._findings([fingerprint])
        return found.get(fingerprint)

    def fingerprints_starting(self, prefix: str, limit: int = 10) -> list[str]:
        with self._snapshot():
            rows = self._exec(
                "SELECT fingerprint FROM findings WHERE fingerprint LIKE ? "
                "ORDER BY fingerprint LIMIT ?",
                (prefix + "%", limit),
            )
        return [str(row[0]) for row in rows]

    def observations(self, fingerprint: str) -> list[Observation]:
        with self._snapshot():
            rows = self._exec(
                f"SELECT {', '.join('o.' + c for c in _OBSERVATION_COLUMNS)}, r.finished_at "
                "FROM finding_observations o JOIN runs r ON r.id = o.run_id "
                "WHERE o.fingerprint = ? ORDER BY o.run_id, o.id",
                (fingerprint,),
            )
        return [self._observation_from_row(row) for row in rows]

    def reviews_for(self, fingerprints: Iterable[str]) -> dict[str, list[Review]]:
        result: dict[str, list[Review]] = {}
        rows = self._by_fingerprints(
            f"SELECT id, {', '.join(_REVIEW_COLUMNS)} FROM reviews "
            "WHERE fingerprint IN ({in_list}) ORDER BY id",
            fingerprints,
        )
        for row in rows:
            review = self._review_from_row(row)
            result.setdefault(review.fingerprint, []).append(review)
        return result

    # -- shared by the transaction --------------------------------------------------------

    def _findings(self, fingerprints: Iterable[str]) -> dict[str, FindingState]:
        rows = self._by_fingerprints(
            f"SELECT {', '.join(_FINDING_COLUMNS)} FROM findings "
            "WHERE fingerprint IN ({in_list})",
            fingerprints,
        )
        states = (self._finding_from_row(row) for row in rows)
        return {state.fingerprint: state for state in states}

    def _by_fingerprints(self, sql: str, fingerprints: Iterable[str]) -> list[tuple[Any, ...]]:
        """Rows of `sql` for every distinct fingerprint, in one snapshot; `sql` has an
        ``{in_list}`` slot, filled per batch so no statement exceeds the driver's
        parameter limit."""
        rows: list[tuple[Any, ...]] = []
        with self._snapshot():
            for batch in chunks(sorted(set(fingerprints)), BATCH):
                rows += self._exec(sql.format(in_list=_placeholders(len(batch))), batch)
        return rows

    # -- row mapping ----------------------------------------------------------------------

    def _opt_ts(self, value: Any) -> datetime | None:
        return None if value is None else self._ts_out(value)

    def _run_to_row(self, run: NewRun) -> tuple[Any, ...]:
        return (
            self._ts_in(run.started_at),
            self._ts_in(run.finished_at),
            self._ts_in(run.as_of),
            run.verdict.value,
            run.fail_on,
            self._json_in(run.sources),
            self._json_in(run.rows),
            self._json_in(run.counts_by_kind),
            self._json_in(run.counts_by_severity),
            self._json_in(run.exposure_by_currency),
            self._json_in(run.classification),
            run.n_findings,
            run.n_suppressed,
            run.n_skips,
            run.duration_seconds,
            self._json_in(run.errors),
            self._json_in(run.notes),
            run.billdrift_version,
        )

    def _run_from_row(self, row: Sequence[Any]) -> RunSummary:
        (
            run_id,
            started_at,
            finished_at,
            as_of,
            verdict,
            fail_on,
            sources,
            rows_read,
            by_kind,
            by_severity,
            exposure,
            classification,
            n_findings,
            n_suppressed,
            n_skips,
            duration,
            errors,
            notes,
            version,
        ) = row
        return RunSummary(
            run_id=int(run_id),
            started_at=self._ts_out(started_at),
            finished_at=self._ts_out(finished_at),
            as_of=self._ts_out(as_of),
            verdict=Verdict(verdict),
            fail_on=str(fail_on),
            sources=list(self._json_out(sources)),
            rows=dict(self._json_out(rows_read)),
            counts_by_kind=dict(self._json_out(by_kind)),
            counts_by_severity=dict(self._json_out(by_severity)),
            exposure_by_currency=dict(self._json_out(exposure)),
            classification=dict(self._json_out(classification)),
            n_findings=int(n_findings),
            n_suppressed=int(n_suppressed),
            n_skips=int(n_skips),
            duration_seconds=float(duration),
            errors=list(self._json_out(errors)),
            notes=list(self._json_out(notes)),
            billdrift_version=str(version),
        )

    def _finding_to_row(self, state: FindingState) -> dict[str, Any]:
        exposure = state.exposure
        return {
            "fingerprint": state.fingerprint,
            "kind": state.kind.value,
            "account_id": state.account_id,
            "customer_id": state.customer_id,
            "subscription_id": state.subscription_id,
            "status": state.status,
            "last_change": state.last_change,
            "first_seen_run": state.first_seen_run,
            "first_seen_at": self._ts_in(state.first_seen_at),
            "last_seen_run": state.last_seen_run,
            "last_seen_at": self._ts_in(state.last_seen_at),
            "opened_run": state.opened_run,
            "opened_at": self._ts_in(state.opened_at),
            "resolved_run": state.resolved_run,
            "resolved_at": self._ts_in(state.resolved_at),
            "times_reopened": state.times_reopened,
            "severity": state.severity.label,
            "confidence": state.confidence,
            "exposure_amount": exposure.monthly_amount if exposure else None,
            "exposure_currency": exposure.currency if exposure else None,
            "message": state.message,
            "fix": state.fix,
        }

    def _finding_from_row(self, row: Sequence[Any]) -> FindingState:
        value = dict(zip(_FINDING_COLUMNS, row, strict=True))
        amount, currency = value["exposure_amount"], value["exposure_currency"]
        return FindingState(
            fingerprint=str(value["fingerprint"]),
            kind=Kind(value["kind"]),
            account_id=value["account_id"],
            customer_id=value["customer_id"],
            subscription_id=value["subscription_id"],
            status=cast(Status, value["status"]),
            last_change=cast(Change, value["last_change"]),
            first_seen_run=int(value["first_seen_run"]),
            first_seen_at=self._ts_out(value["first_seen_at"]),
            last_seen_run=int(value["last_seen_run"]),
            last_seen_at=self._ts_out(value["last_seen_at"]),
            opened_run=int(value["opened_run"]),
            opened_at=self._ts_out(value["opened_at"]),
            resolved_run=None if value["resolved_run"] is None else int(value["resolved_run"]),
            resolved_at=self._opt_ts(value["resolved_at"]),
            times_reopened=int(value["times_reopened"]),
            severity=Severity.parse(value["severity"]),
            confidence=float(value["confidence"]),
            exposure=None if amount is None else Exposure(str(amount), str(currency)),
            message=str(value["message"]),
            fix=str(value["fix"]),
        )

    def _observation_to_row(self, observation: Observation) -> tuple[Any, ...]:
        finding = observation.finding
        exposure = finding.exposure
        return (
            observation.run_id,
            observation.fingerprint,
            finding.kind.value,
            finding.account_id,
            finding.customer_id,
            finding.subscription_id,
            finding.severity.label,
            finding.confidence,
            exposure.monthly_amount if exposure else None,
            exposure.currency if exposure else None,
            finding.message,
            finding.fix,
            self._json_in(finding.evidence),
            observation.suppressed_by,
        )

    def _observation_from_row(self, row: Sequence[Any]) -> Observation:
        value = dict(zip((*_OBSERVATION_COLUMNS, "observed_at"), row, strict=True))
        amount, currency = value["exposure_amount"], value["exposure_currency"]
        finding = Finding(
            kind=Kind(value["kind"]),
            severity=Severity.parse(value["severity"]),
            confidence=float(value["confidence"]),
            account_id=value["account_id"],
            customer_id=value["customer_id"],
            subscription_id=value["subscription_id"],
            exposure=None if amount is None else Exposure(str(amount), str(currency)),
            message=str(value["message"]),
            fix=str(value["fix"]),
            evidence=dict(self._json_out(value["evidence"])),
        )
        return Observation(
            run_id=int(value["run_id"]),
            fingerprint=str(value["fingerprint"]),
            finding=finding,
            suppressed_by=value["suppressed_by"],
            observed_at=self._ts_out(value["observed_at"]),
        )

    def _review_to_row(self, review: Review) -> tuple[Any, ...]:
        return (
            review.fingerprint,
            review.action,
            review.note,
            self._ts_in(review.until),
            review.opened_run,
            review.who,
            self._ts_in(review.at),
        )

    def _review_from_row(self, row: Sequence[Any]) -> Review:
        review_id, fingerprint, action, note, until, opened_run, who, at = row
        return Review(
            review_id=int(review_id),
            fingerprint=str(fingerprint),
            action=cast(Action, action),
            note=str(note),
            until=self._opt_ts(until),
            opened_run=None if opened_run is None else int(opened_run),
            who=str(who),
            at=self._ts_out(at),
        )


class _Transaction:
    """:class:`~billdrift.history.store.StoreTransaction` over a locked SqlStore."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def insert_run(self, run: NewRun) -> int:
        store = self._store
        return store._insert(
            f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) "
            f"VALUES ({_placeholders(len(_RUN_COLUMNS))})",
            store._run_to_row(run),
        )

    def findings(self, fingerprints: Iterable[str]) -> dict[str, FindingState]:
        return self._store._findings(fingerprints)

    def active_findings(self) -> dict[str, FindingState]:
        store = self._store
        rows = store._exec(
            f"SELECT {', '.join(_FINDING_COLUMNS)} FROM findings "
            "WHERE status IN ('open', 'suppressed')"
        )
        states = (store._finding_from_row(row) for row in rows)
        return {state.fingerprint: state for state in states}

    def save_findings(
        self, inserted: Sequence[FindingState], updated: Sequence[FindingState]
    ) -> None:
        store = self._store
        if inserted:
            store._exec_many(
                f"INSERT INTO findings ({', '.join(_FINDING_COLUMNS)}) "
                f"VALUES ({_placeholders(len(_FINDING_COLUMNS))})",
                [
                    tuple(row[c] for c in _FINDING_COLUMNS)
                    for row in map(store._finding_to_row, inserted)
                ],
            )
        if updated:
            assignments = ", ".join(f"{column} = ?" for column in _FINDING_MUTABLE)
            store._exec_many(
                f"UPDATE findings SET {assignments} WHERE fingerprint = ?",
                [
                    (*(row[c] for c in _FINDING_MUTABLE), row["fingerprint"])
                    for row in map(store._finding_to_row, updated)
                ],
            )

    def add_observations(self, observations: Sequence[Observation]) -> None:
        if observations:
            store = self._store
            store._exec_many(
                f"INSERT INTO finding_observations ({', '.join(_OBSERVATION_COLUMNS)}) "
                f"VALUES ({_placeholders(len(_OBSERVATION_COLUMNS))})",
                [store._observation_to_row(o) for o in observations],
            )

    def add_review(self, review: Review) -> int:
        store = self._store
        return store._insert(
            f"INSERT INTO reviews ({', '.join(_REVIEW_COLUMNS)}) "
            f"VALUES ({_placeholders(len(_REVIEW_COLUMNS))})",
            store._review_to_row(review),
        )
