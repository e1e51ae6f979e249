"""The SQL both backends share: one set of queries, dialect details behind hooks.

Why one implementation: the lifecycle must behave identically on SQLite and
PostgreSQL, and two hand-written copies of every query would drift. The
backends only supply a connection, the write lock, parameter style and how
timestamps and JSON travel (:class:`SqlStore`'s abstract hooks, and the value
hooks of :class:`~billdrift.history._sql_rows.RowMapping`, which maps rows to
the model and back). Queries are written with ``?`` placeholders; a backend
that wants ``%s`` rewrites them (no query here contains a literal ``?`` or ``%``).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, Final

from billdrift._version import __version__
from billdrift.history import schema
from billdrift.history._sql_rows import (
    FINDING_COLUMNS,
    FINDING_MUTABLE,
    OBSERVATION_COLUMNS,
    REVIEW_COLUMNS,
    RUN_COLUMNS,
    RowMapping,
    placeholders,
)
from billdrift.history.store import (
    FindingState,
    FixApplication,
    HistoryStore,
    NewRun,
    Observation,
    Review,
    RunSummary,
    Status,
    chunks,
)

FIX_COLUMNS: Final = (
    "plan_digest",
    "applied_at",
    "who",
    "app",
    "app_table",
    "outcome",
    "rows_changed",
    "statements",
)
#: Bound parameters per IN list / batch: well under SQLite's 32766 and PostgreSQL's 65535.
BATCH: Final = 500


class SqlStore(RowMapping, HistoryStore):
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

    def _deadline(self, writes: bool = False) -> AbstractContextManager[object]:
        """The time a transaction (`writes`: with its lock wait) may take; a server
        store bounds it (a trickling server cannot hold a run), a file store needs not."""
        return nullcontext()

    @abc.abstractmethod
    def _prepare_schema(self) -> None:
        """Dialect set-up inside the migration transaction (PostgreSQL: the schema)."""

    # -- transactions -------------------------------------------------------------------

    _in_transaction: bool = False

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """A transaction holding the store's write lock: committed if the block
        finishes, rolled back if anything (even KeyboardInterrupt) escapes it."""
        if self._in_transaction:
            raise RuntimeError("history store: write transactions do not nest")
        with self._deadline(writes=True):
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
        with self._deadline():
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

    # -- fix applications (migration 2) --------------------------------------------------

    def add_fix_application(self, record: FixApplication) -> int:
        with self._locked():
            return self._insert(
                f"INSERT INTO fix_applications ({', '.join(FIX_COLUMNS)}) "
                f"VALUES ({placeholders(len(FIX_COLUMNS))})",
                (
                    record.plan_digest,
                    self._ts_in(record.applied_at),
                    record.who,
                    record.app,
                    record.app_table,
                    record.outcome,
                    record.rows_changed,
                    self._json_in(record.statements),
                ),
            )

    def fix_applications(self, plan_digest: str | None = None) -> list[FixApplication]:
        sql = f"SELECT id, {', '.join(FIX_COLUMNS)} FROM fix_applications"
        params: tuple[str, ...] = ()
        if plan_digest is not None:
            sql, params = sql + " WHERE plan_digest = ?", (plan_digest,)
        with self._snapshot():
            rows = self._exec(sql + " ORDER BY id", params)
        return [
            FixApplication(
                record_id=int(row[0]),
                plan_digest=row[1],
                applied_at=self._ts_out(row[2]),
                who=row[3],
                app=row[4],
                app_table=row[5],
                outcome=row[6],
                rows_changed=int(row[7]),
                statements=self._json_out(row[8]),
            )
            for row in rows
        ]

    # -- reading --------------------------------------------------------------------------

    def recent_runs(self, limit: int = 30) -> list[RunSummary]:
        with self._snapshot():
            rows = self._exec(
                f"SELECT id, {', '.join(RUN_COLUMNS)} FROM runs ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        return [self._run_from_row(row) for row in reversed(rows)]

    def last_run(self) -> RunSummary | None:
        runs = self.recent_runs(1)
        return runs[0] if runs else None

    def findings_with_status(self, *statuses: Status) -> list[FindingState]:
        with self._snapshot():
            rows = self._exec(
                f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings "
                f"WHERE status IN ({placeholders(len(statuses))}) ORDER BY fingerprint",
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
                f"SELECT {', '.join('o.' + c for c in OBSERVATION_COLUMNS)}, r.finished_at "
                "FROM finding_observations o JOIN runs r ON r.id = o.run_id "
                "WHERE o.fingerprint = ? ORDER BY o.run_id, o.id",
                (fingerprint,),
            )
        return [self._observation_from_row(row) for row in rows]

    def reviews_for(self, fingerprints: Iterable[str]) -> dict[str, list[Review]]:
        result: dict[str, list[Review]] = {}
        rows = self._by_fingerprints(
            f"SELECT id, {', '.join(REVIEW_COLUMNS)} FROM reviews "
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
            f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings WHERE fingerprint IN ({{in_list}})",
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
                rows += self._exec(sql.format(in_list=placeholders(len(batch))), batch)
        return rows


class _Transaction:
    """:class:`~billdrift.history.store.StoreTransaction` over a locked SqlStore."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def insert_run(self, run: NewRun) -> int:
        store = self._store
        return store._insert(
            f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) "
            f"VALUES ({placeholders(len(RUN_COLUMNS))})",
            store._run_to_row(run),
        )

    def findings(self, fingerprints: Iterable[str]) -> dict[str, FindingState]:
        return self._store._findings(fingerprints)

    def active_findings(self) -> dict[str, FindingState]:
        store = self._store
        rows = store._exec(
            f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings "
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
                f"INSERT INTO findings ({', '.join(FINDING_COLUMNS)}) "
                f"VALUES ({placeholders(len(FINDING_COLUMNS))})",
                [
                    tuple(row[c] for c in FINDING_COLUMNS)
                    for row in map(store._finding_to_row, inserted)
                ],
            )
        if updated:
            assignments = ", ".join(f"{column} = ?" for column in FINDING_MUTABLE)
            store._exec_many(
                f"UPDATE findings SET {assignments} WHERE fingerprint = ?",
                [
                    (*(row[c] for c in FINDING_MUTABLE), row["fingerprint"])
                    for row in map(store._finding_to_row, updated)
                ],
            )

    def add_observations(self, observations: Sequence[Observation]) -> None:
        if observations:
            store = self._store
            store._exec_many(
                f"INSERT INTO finding_observations ({', '.join(OBSERVATION_COLUMNS)}) "
                f"VALUES ({placeholders(len(OBSERVATION_COLUMNS))})",
                [store._observation_to_row(o) for o in observations],
            )

    def add_review(self, review: Review) -> int:
        store = self._store
        return store._insert(
            f"INSERT INTO reviews ({', '.join(REVIEW_COLUMNS)}) "
            f"VALUES ({placeholders(len(REVIEW_COLUMNS))})",
            store._review_to_row(review),
        )
