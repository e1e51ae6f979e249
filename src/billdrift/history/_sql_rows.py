"""Stored rows and the model's objects, both ways, for the SQL history stores.

Split from :mod:`billdrift.history._sql` (the queries and transactions): the
column lists here are the single spelling of each table's columns that every
query uses, and the conversions are methods because how a timestamp or a JSON
value travels is the one thing a backend may change (its ``_ts_in``,
``_ts_out``, ``_json_in`` and ``_json_out`` override the defaults below).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, cast

import orjson

from billdrift.core.model import Exposure, Finding, Kind, Severity, Verdict
from billdrift.history.store import (
    Action,
    Change,
    FindingState,
    NewRun,
    Observation,
    Review,
    RunSummary,
    Status,
)

RUN_COLUMNS: Final = (
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
    "kind",
    "customers",
)
FINDING_IDENTITY: Final = ("fingerprint", "kind", "account_id", "customer_id")
FINDING_MUTABLE: Final = (
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
)
FINDING_COLUMNS: Final = FINDING_IDENTITY + FINDING_MUTABLE
#: The store's latest full run (0 for none).
LATEST_FULL: Final = "(SELECT coalesce(max(id), 0) FROM runs WHERE kind = 'full')"


def seen_run(alias: str = "f.") -> str:
    """A finding's last-seen run: the latest full run while it is live (``seen_live``,
    schema version 7: seen by every full run since, so a run that sees it again
    unchanged writes nothing), else its ``last_seen_run``. `alias`: the findings
    table's prefix in the query (``""`` for unqualified columns)."""
    return f"(CASE WHEN {alias}seen_live = 1 THEN {LATEST_FULL} ELSE {alias}last_seen_run END)"


def seen_at(alias: str = "f.") -> str:
    """A finding's last-seen time (the finish of :func:`seen_run`'s run)."""
    return (
        f"(CASE WHEN {alias}seen_live = 1 THEN (SELECT finished_at FROM runs "
        f"WHERE id = {LATEST_FULL}) ELSE {alias}last_seen_at END)"
    )


#: How the findings row's columns are read (the last-seen ones through the live flag).
_READ: Final = {"last_seen_run": seen_run(), "last_seen_at": seen_at()}
#: A finding's latest message and fix live in its current span (``findings.last_span``).
FINDING_TEXT: Final = ("message", "fix")


def finding_select(read: Mapping[str, str] = _READ) -> str:
    """What a finding's state is read from: the findings row (`read`: the expressions
    some of its columns are read through) and its current span."""
    return (
        f"SELECT {', '.join(read.get(c, 'f.' + c) for c in FINDING_COLUMNS)}, "
        "coalesce(s.message, ''), coalesce(s.fix, ''), f.last_span, s.digest "
        "FROM findings f LEFT JOIN finding_spans s ON s.id = f.last_span"
    )


FINDING_SELECT: Final = finding_select()
#: One observation read back: the run, the finding's identity, its span's content.
OBSERVATION_COLUMNS: Final = (
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
OBSERVATION_SELECT: Final = (
    "SELECT r.id, s.fingerprint, f.kind, f.account_id, f.customer_id, s.subscription_id, "
    "s.severity, s.confidence, s.exposure_amount, s.exposure_currency, s.message, s.fix, "
    "s.evidence, s.suppressed_by, r.finished_at, r.kind, r.customers, s.first_run "
    "FROM finding_spans s "
    "JOIN findings f ON f.fingerprint = s.fingerprint "
    "JOIN runs r ON r.id BETWEEN s.first_run "
    f"AND (CASE WHEN s.id = f.last_span THEN {seen_run()} ELSE s.last_run END)"
)
REVIEW_COLUMNS: Final = ("fingerprint", "action", "note", "until", "opened_run", "who", "at")


_KINDS: Final = {kind.value: kind for kind in Kind}
#: Exposures repeat (a few prices): one shared immutable object per amount and currency.
_exposure: Final = functools.lru_cache(maxsize=4096)(Exposure)


@functools.lru_cache(maxsize=16)
def _severity(label: str) -> Severity:
    return Severity.parse(label)


def dumps(value: object) -> str:
    """JSON text for the store: non-JSON values (dates, decimals) as strings, NaN as null."""
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


class RowMapping:
    """Rows to and from the model; a backend overrides how timestamps and JSON travel."""

    # -- how values travel: dialect hooks, with defaults ----------------------------------

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
            run.kind,
            self._json_in(run.customers),
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
            kind,
            customers,
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
            kind="targeted" if kind == "targeted" else "full",
            customers=[str(c) for c in self._json_out(customers)],
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
        }

    def _finding_from_row(self, row: Sequence[Any]) -> FindingState:
        """A row of :data:`FINDING_SELECT` (its span id and digest are left out).

        Unpacked by position, not through a dict: a run reads every open finding."""
        (
            fp,
            kind,
            account_id,
            customer_id,
            subscription_id,
            status,
            last_change,
            first_seen_run,
            first_seen_at,
            last_seen_run,
            last_seen_at,
            opened_run,
            opened_at,
            resolved_run,
            resolved_at,
            times_reopened,
            severity,
            confidence,
            amount,
            currency,
            message,
            fix,
        ) = row[: len(FINDING_COLUMNS) + len(FINDING_TEXT)]
        return FindingState(
            fingerprint=str(fp),
            kind=_KINDS[kind],
            account_id=account_id,
            customer_id=customer_id,
            subscription_id=subscription_id,
            status=cast(Status, status),
            last_change=cast(Change, last_change),
            first_seen_run=int(first_seen_run),
            first_seen_at=self._ts_out(first_seen_at),
            last_seen_run=int(last_seen_run),
            last_seen_at=self._ts_out(last_seen_at),
            opened_run=int(opened_run),
            opened_at=self._ts_out(opened_at),
            resolved_run=None if resolved_run is None else int(resolved_run),
            resolved_at=self._opt_ts(resolved_at),
            times_reopened=int(times_reopened),
            severity=_severity(severity),
            confidence=float(confidence),
            exposure=None if amount is None else _exposure(str(amount), str(currency)),
            message=str(message),
            fix=str(fix),
        )

    def _observation_from_row(self, row: Sequence[Any]) -> Observation:
        value = dict(zip((*OBSERVATION_COLUMNS, "observed_at"), row, strict=True))
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
