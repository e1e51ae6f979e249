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

import pyarrow as pa

from billdrift._version import __version__
from billdrift.history import _spans, _sql_fixes, _sql_record, queue, retention, schema
from billdrift.history._sql_rows import (
    FINDING_SELECT,
    OBSERVATION_SELECT,
    REVIEW_COLUMNS,
    RUN_COLUMNS,
    RowMapping,
    placeholders,
)
from billdrift.history.queue import QueueCounts, QueueQuery
from billdrift.history.retention import Policy, Pruned
from billdrift.history.run_table import RunObservations, email_of
from billdrift.history.store import (
    FindingState,
    FixApplication,
    HistoryStore,
    NewRun,
    Observation,
    Review,
    RunKind,
    RunSummary,
    Seen,
    Status,
    chunks,
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

    @abc.abstractmethod
    def _delete(self, sql: str, params: Sequence[Any]) -> int:
        """Run a DELETE; return how many rows it removed."""

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Bulk-insert `rows` (the fastest way the backend has: COPY, executemany)."""

    def _load(self, table: str, data: pa.Table) -> None:
        """Bulk-insert an Arrow table whose columns are `table`'s, in order (a backend
        with a faster path than rows, such as COPY from CSV, overrides it)."""
        columns = [column.to_pylist() for column in data.columns]
        self._copy(table, data.column_names, list(zip(*columns, strict=True)))

    def _analyze(self, table: str) -> None:
        """Give the planner the statistics of a freshly loaded temporary table (a
        server planner has none for it; SQLite needs none)."""

    @abc.abstractmethod
    def _reserve_ids(self, table: str, count: int) -> list[int]:
        """`count` fresh ids for `table` (under the write lock), so rows inserted in bulk
        can be referred to without reading them back."""

    def _deadline(self, writes: bool = False) -> AbstractContextManager[object]:
        """The time a transaction (`writes`: with its lock wait) may take; a server
        store bounds it (a trickling server cannot hold a run), a file store needs not."""
        return nullcontext()

    @abc.abstractmethod
    def _prepare_schema(self) -> None:
        """Dialect set-up inside the migration transaction (PostgreSQL: the schema)."""

    #: ``exposure_amount`` (text) as a number to order by; 0 when absent or not a number.
    amount_sql: str = "COALESCE(CAST(exposure_amount AS REAL), 0)"
    #: The case-insensitive LIKE operator.
    like_sql: str = "LIKE"

    def _text_order(self, expression: str) -> str:
        """`expression` ordered by its bytes, not by a locale's collation."""
        return expression

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

    def prune(self, policy: Policy, now: datetime, dry_run: bool = False) -> Pruned:
        return retention.prune(self, policy, now, dry_run)

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
                    self._exec(statement.format(**self._ddl_values()))
                self._convert(migration.version)
                for statement in migration.finish:
                    self._exec(statement.format(**self._ddl_values()))
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

    def _convert(self, version: int) -> None:
        """Move existing data into the layout of `version` (inside its migration)."""
        if version == 2:
            self._spans_from_observations()
        elif version == 6:
            self._emails_from_spans()

    def _emails_from_spans(self) -> None:
        """Each finding's e-mail address from its current span's evidence, by the rule
        recording uses (:func:`~billdrift.history.run_table.email_of`, so an upgraded
        store and a new one hold the same addresses)."""
        rows = self._exec(
            "SELECT f.fingerprint, s.evidence FROM findings f "
            "JOIN finding_spans s ON s.id = f.last_span"
        )
        updates = []
        for fp, evidence in rows:
            value = self._json_out(evidence)
            email = email_of(value) if isinstance(value, Mapping) else None
            if email is not None:
                updates.append((email, fp))
        self._exec_many("UPDATE findings SET email = ? WHERE fingerprint = ?", updates)

    def _spans_from_observations(self) -> None:
        """Version 1's per-run observations become spans (see :mod:`._spans`); every
        run's observation stays readable, in the same order."""
        runs = [int(row[0]) for row in self._exec("SELECT id FROM runs ORDER BY id")]
        fingerprints = [
            str(row[0])
            for row in self._exec(
                "SELECT DISTINCT fingerprint FROM finding_observations ORDER BY fingerprint"
            )
        ]
        content = ", ".join(_spans.CONTENT)

        def observations(fps: Sequence[str]) -> Iterator[tuple[str, int, Sequence[Any]]]:
            rows = self._exec(
                f"SELECT fingerprint, run_id, {content} FROM finding_observations "
                f"WHERE fingerprint IN ({placeholders(len(fps))}) "
                "ORDER BY fingerprint, run_id, id",
                fps,
            )
            for fp, run_id, *values in rows:
                values[7] = self._json_out(values[7])  # evidence, as an object
                yield str(fp), int(run_id), values

        for spans, current in _spans.convert_observations(runs, fingerprints, observations, BATCH):
            ids = self._reserve_ids("finding_spans", len(spans))
            rows = [
                (span_id, *span[:10], self._json_in(span[10]), *span[11:])
                for span_id, span in zip(ids, spans, strict=True)
            ]
            self._copy("finding_spans", ("id", *_spans.SPAN_COLUMNS), rows)
            self._exec_many(
                "UPDATE findings SET last_span = ? WHERE fingerprint = ?",
                [(ids[index], fp) for fp, index in current.items()],
            )

    def _ddl_values(self) -> dict[str, str]:
        """A migration's placeholders: the dialect's types, the queue's index keys."""
        return {**self.types, "queue_order": queue.index_keys(self.amount_sql, self._text_order)}

    def schema_version(self) -> int:
        with self._snapshot():
            return self._current_version()

    # -- writing --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        with self._locked():
            yield _Transaction(self)

    def add_fix_application(self, record: FixApplication) -> int:
        return _sql_fixes.add(self, record)

    def fix_applications(self, plan_digest: str | None = None) -> list[FixApplication]:
        return _sql_fixes.read(self, plan_digest)

    # -- reading --------------------------------------------------------------------------

    def recent_runs(self, limit: int = 30, kind: RunKind | None = None) -> list[RunSummary]:
        where, params = ("", (limit,)) if kind is None else ("WHERE kind = ? ", (kind, limit))
        sql = f"SELECT id, {', '.join(RUN_COLUMNS)} FROM runs {where}ORDER BY id DESC LIMIT ?"
        with self._snapshot():
            rows = self._exec(sql, params)
        return [self._run_from_row(row) for row in reversed(rows)]

    def last_run(self, kind: RunKind | None = "full") -> RunSummary | None:
        runs = self.recent_runs(1, kind)
        return runs[0] if runs else None

    def findings_with_status(self, *statuses: Status) -> list[FindingState]:
        with self._snapshot():
            rows = self._exec(
                f"{FINDING_SELECT} WHERE f.status IN ({placeholders(len(statuses))}) "
                "ORDER BY f.fingerprint",
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
                f"{OBSERVATION_SELECT} WHERE s.fingerprint = ? ORDER BY r.id, s.id",
                (fingerprint,),
            )
        # The last three columns say whether the run saw it (a span may pass over
        # targeted runs of other customers).
        return [
            self._observation_from_row(row[:-3])
            for row in rows
            if _spans.saw(row[-3], self._json_out(row[-2]), row[-1], row[0], row[4])
        ]

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

    def queue_rows(
        self, query: QueueQuery, now: datetime
    ) -> tuple[list[FindingState], QueueCounts]:
        return queue.page_rows(self, query, now)

    # -- shared by the transaction --------------------------------------------------------

    def _findings(self, fingerprints: Iterable[str]) -> dict[str, FindingState]:
        rows = self._by_fingerprints(
            f"{FINDING_SELECT} WHERE f.fingerprint IN ({{in_list}})", fingerprints
        )
        return {state.fingerprint: state for state in map(self._finding_from_row, rows)}

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

    def record_findings(self, run_id: int, at: datetime, run: RunObservations) -> Seen:
        return _sql_record.record(self._store, run_id, at, run)

    def resolve(self, fingerprints: Sequence[str], run_id: int, at: datetime) -> None:
        _sql_record.resolve(self._store, fingerprints, run_id, at, BATCH)

    def set_changes(self, run_id: int, by_change: Mapping[str, int]) -> None:
        store = self._store
        store._exec(
            "UPDATE runs SET changes = ? WHERE id = ?", (store._json_in(dict(by_change)), run_id)
        )

    def add_review(self, review: Review) -> int:
        store = self._store
        return store._insert(
            f"INSERT INTO reviews ({', '.join(REVIEW_COLUMNS)}) "
            f"VALUES ({placeholders(len(REVIEW_COLUMNS))})",
            store._review_to_row(review),
        )
