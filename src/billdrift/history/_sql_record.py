"""Recording a run's findings as SQL over the whole run (both SQL backends).

Why SQL: at 65,000 findings a run, turning every open finding's stored row into a
Python object, deciding its change and writing it back one by one was most of
what recording cost (about a quarter of a 1M x 1M check). Here the run's
observations (:mod:`billdrift.history.run_table`) are bulk-loaded into a
temporary table (SQLite: one executemany; PostgreSQL: one COPY), joined once
with the stored findings and their current spans, and every write is one
statement over that join: new findings inserted, findings seen again updated,
replaced spans closed. Python only touches the rows that change: the spans a run
starts (new or changed content, whose evidence the store has not got) and the
findings that were open and are absent now.

A full run that sees a live finding again unchanged (most of a nightly run) writes
nothing for it: its last-seen run is the latest full run (schema version 7,
``findings.seen_live``), and the live findings a full run does not see get their
last-seen run written back. Such *quiet* observations are picked out before the
SQL (:mod:`billdrift.history._sql_quiet`) and never loaded: only the rest of the
run goes through the statements below.

The rules are the lifecycle's (:mod:`billdrift.history.lifecycle`) and the spans'
(:mod:`billdrift.history._spans`), row for row:

* the first observation of a fingerprint in the run decides its change: excused
  by a config exception -> ``suppressed``; never stored -> ``new``; stored open ->
  ``ongoing``; stored resolved or suppressed -> ``reopened``;
* a reopened finding opens a new occurrence (``opened_run``) and counts a reopen;
  every other keeps its stored first-seen and opened run;
* that first observation extends the finding's current span when the span ended
  at the previous run with the same content digest; anything else (a change, a
  gap, a new finding, a second observation in one run) starts a span, and a
  current span that a new one replaces is closed at the run that last saw it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import pyarrow.csv as pacsv

from billdrift.history import _spans, _sql_quiet
from billdrift.history._sql_rows import (
    FINDING_COLUMNS,
    REVIEW_COLUMNS,
    finding_select,
    placeholders,
)
from billdrift.history.run_table import SCHEMA, RunObservations
from billdrift.history.store import FindingState, Review, Seen, chunks

if TYPE_CHECKING:
    from billdrift.history._sql import SqlStore

#: The run's observations, as loaded (the columns of ``run_table.SCHEMA``).
_INPUT: Final = """
CREATE TEMP TABLE run_input (
  ord INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  kind TEXT NOT NULL,
  account_id TEXT,
  customer_id TEXT,
  subscription_id TEXT,
  severity TEXT NOT NULL,
  confidence {float} NOT NULL,
  exposure_amount TEXT,
  exposure_currency TEXT,
  suppressed_by TEXT,
  digest TEXT,
  is_first INTEGER NOT NULL,
  email TEXT,
  text_digest TEXT NOT NULL
)
"""

#: Each observation joined with its finding's stored row (first observations only):
#: the finding's new lifecycle columns, whether it starts a span, and how much of the
#: finding's row changes (``same``): 2, nothing (a full run sees a live finding again,
#: the same in every column: most of a nightly run's findings, no write at all; see
#: schema version 7); 1, only when it was seen (written without touching the indexes
#: on the other columns); 0, more. ``same_text``: the finding's row holds the
#: observation's text digest (schema version 9), so its content is the current span's
#: and its details and e-mail address are the stored ones (the observation's content
#: digest and address were left null: see ``run_table.RunObservations.subset``).
_OBSERVED: Final = """
CREATE TEMP TABLE run_observed (
  ord INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  is_first INTEGER NOT NULL,
  known INTEGER NOT NULL,
  change TEXT NOT NULL,
  first_seen_run {ref},
  first_seen_at {ts},
  opened_run {ref},
  opened_at {ts},
  times_reopened INTEGER,
  prior_span {ref},
  prior_seen_run {ref},
  starts INTEGER NOT NULL,
  same INTEGER NOT NULL,
  same_text INTEGER NOT NULL
)
"""

#: The billing customers targeted runs since the previous full run covered, with the
#: latest such run for each (see :func:`_load_covered`).
_COVERED: Final = """
CREATE TEMP TABLE run_covered (
  customer_id TEXT PRIMARY KEY,
  last_run {ref} NOT NULL
)
"""

#: Parameters: the previous full run's id (0 for none: a live finding's last-seen run
#: before this one) twice, 1 if this run is targeted (else 0), this run's id and time
#: twice each (first seen, opened), then 1 if this run is targeted again.
_CLASSIFY: Final = """
INSERT INTO run_observed
WITH joined AS (
  SELECT i.*, f.status AS prior_status, f.first_seen_run, f.first_seen_at, f.opened_run,
         f.opened_at, f.times_reopened, f.last_span, s.digest AS span_digest, f.resolved_run,
         CASE WHEN f.seen_live = 1 THEN ? ELSE f.last_seen_run END AS last_seen_run,
         f.seen_live, f.last_change,
         CASE WHEN f.text_digest = i.text_digest THEN 1 ELSE 0 END AS same_text,
         CASE WHEN f.text_digest = i.text_digest THEN 1
              WHEN (i.subscription_id = f.subscription_id
                    OR (i.subscription_id IS NULL AND f.subscription_id IS NULL))
                   AND i.severity = f.severity AND i.confidence = f.confidence
                   AND (i.exposure_amount = f.exposure_amount
                        OR (i.exposure_amount IS NULL AND f.exposure_amount IS NULL))
                   AND (i.exposure_currency = f.exposure_currency
                        OR (i.exposure_currency IS NULL AND f.exposure_currency IS NULL))
                   AND (i.email = f.email OR (i.email IS NULL AND f.email IS NULL))
              THEN 1 ELSE 0 END AS same_details
  FROM run_input i
  LEFT JOIN findings f ON i.is_first = 1 AND f.fingerprint = i.fingerprint
  LEFT JOIN finding_spans s ON s.id = f.last_span
), classified AS (
  SELECT joined.*,
         CASE WHEN suppressed_by IS NOT NULL THEN 'suppressed'
              WHEN prior_status IS NULL THEN 'new'
              WHEN prior_status = 'open' THEN 'ongoing'
              ELSE 'reopened' END AS change,
         CASE WHEN is_first = 1 AND last_span IS NOT NULL
                   AND (same_text = 1 OR span_digest = digest)
                   AND last_seen_run >= ? AND prior_status <> 'resolved'
                   AND CASE WHEN joined.customer_id IS NULL THEN ? = 0
                            ELSE NOT EXISTS (
                              SELECT 1 FROM run_covered c
                              WHERE c.customer_id = joined.customer_id
                                AND c.last_run > joined.last_seen_run) END
              THEN 0
              ELSE 1 END AS starts
  FROM joined
)
SELECT ord, fingerprint, is_first,
       CASE WHEN prior_status IS NULL THEN 0 ELSE 1 END,
       change,
       coalesce(first_seen_run, ?),
       coalesce(first_seen_at, ?),
       CASE WHEN prior_status IS NOT NULL AND change <> 'reopened' THEN opened_run ELSE ? END,
       CASE WHEN prior_status IS NOT NULL AND change <> 'reopened' THEN opened_at ELSE ? END,
       coalesce(times_reopened, 0) + CASE WHEN change = 'reopened' THEN 1 ELSE 0 END,
       last_span, last_seen_run, starts,
       CASE WHEN prior_status IS NOT NULL AND change <> 'reopened' AND resolved_run IS NULL
                 AND prior_status = CASE WHEN change = 'suppressed' THEN 'suppressed'
                                         ELSE 'open' END
                 AND same_details = 1
            THEN CASE WHEN ? = 0 AND seen_live = 1 AND last_change = change AND starts = 0
                           AND same_text = 1
                      THEN 2 ELSE 1 END
            ELSE 0 END,
       same_text
FROM classified
"""

#: New findings (their first observation always starts their first span).
#: Parameters: this run's id, its time, the first new span's id, live (1 for a full run).
_INSERT_NEW: Final = f"""
INSERT INTO findings ({", ".join(FINDING_COLUMNS)}, last_span, email, seen_live, text_digest)
SELECT o.fingerprint, i.kind, i.account_id, i.customer_id, i.subscription_id,
       CASE WHEN o.change = 'suppressed' THEN 'suppressed' ELSE 'open' END, o.change,
       o.first_seen_run, o.first_seen_at, ?, ?, o.opened_run, o.opened_at, NULL, NULL,
       o.times_reopened, i.severity, i.confidence, i.exposure_amount, i.exposure_currency,
       ? + o.ord, i.email, ?, i.text_digest
FROM run_observed o JOIN run_input i ON i.ord = o.ord
WHERE o.is_first = 1 AND o.known = 0
ORDER BY o.ord
"""

#: Findings seen again whose row changes beyond when they were seen. Parameters:
#: this run's id, its time, the first span id of the run, live (1 for a full run).
_UPDATE_CHANGED: Final = """
UPDATE findings SET
  subscription_id = i.subscription_id,
  status = CASE WHEN o.change = 'suppressed' THEN 'suppressed' ELSE 'open' END,
  last_change = o.change,
  first_seen_run = o.first_seen_run,
  first_seen_at = o.first_seen_at,
  last_seen_run = ?,
  last_seen_at = ?,
  opened_run = o.opened_run,
  opened_at = o.opened_at,
  resolved_run = NULL,
  resolved_at = NULL,
  times_reopened = o.times_reopened,
  severity = i.severity,
  confidence = i.confidence,
  exposure_amount = i.exposure_amount,
  exposure_currency = i.exposure_currency,
  email = CASE WHEN o.same_text = 1 THEN findings.email ELSE i.email END,
  last_span = CASE WHEN o.starts = 1 THEN ? + o.ord ELSE findings.last_span END,
  seen_live = ?,
  text_digest = i.text_digest
FROM run_observed o JOIN run_input i ON i.ord = o.ord
WHERE findings.fingerprint = o.fingerprint AND o.is_first = 1 AND o.known = 1 AND o.same = 0
"""

#: Findings seen again, the same but for when: three columns (and the current span and
#: text digest if the content or its text changed), so the indexes on the others are
#: not rewritten. Parameters: this run's id, its time, the first span id of the run,
#: live (1 for a full run).
_UPDATE_SAME: Final = """
UPDATE findings SET
  last_change = o.change,
  last_seen_run = ?,
  last_seen_at = ?,
  last_span = CASE WHEN o.starts = 1 THEN ? + o.ord ELSE findings.last_span END,
  seen_live = ?,
  text_digest = i.text_digest
FROM run_observed o JOIN run_input i ON i.ord = o.ord
WHERE findings.fingerprint = o.fingerprint AND o.same = 1
"""

#: A full run: the live findings it did not see (resolved or kept) were last seen by
#: the previous full run; their rows say so from now on (schema version 7).
#: Parameters: the previous full run's id, twice, then the fingerprints.
_SETTLE: Final = """
UPDATE findings SET
  seen_live = 0,
  last_seen_run = ?,
  last_seen_at = (SELECT finished_at FROM runs WHERE id = ?)
WHERE seen_live = 1 AND fingerprint IN ({in_list})
"""

#: A current span a new one replaces ends at the run that last saw its finding.
_CLOSE_SPANS: Final = """
UPDATE finding_spans SET last_run = o.prior_seen_run
FROM run_observed o
WHERE finding_spans.id = o.prior_span AND o.is_first = 1 AND o.starts = 1
"""

#: A finding's state as it was before this run (a live finding: last seen by the
#: previous full run, the parameter, twice).
_BEFORE: Final = finding_select(
    {
        "last_seen_run": "CASE WHEN f.seen_live = 1 THEN ? ELSE f.last_seen_run END",
        "last_seen_at": "CASE WHEN f.seen_live = 1 THEN "
        "(SELECT finished_at FROM runs WHERE id = ?) ELSE f.last_seen_at END",
    }
)
#: Findings open (or excused) before this run that it did not report.
_ABSENT: Final = (
    _BEFORE + " WHERE f.status IN ('open', 'suppressed') AND NOT EXISTS "
    "(SELECT 1 FROM run_observed o WHERE o.fingerprint = f.fingerprint) "
    "ORDER BY f.fingerprint"
)

_REVIEWS: Final = (
    f"SELECT r.id, {', '.join('r.' + c for c in REVIEW_COLUMNS)} FROM reviews r "
    "JOIN run_observed o ON o.fingerprint = r.fingerprint AND o.is_first = 1 ORDER BY r.id"
)


def record(store: SqlStore, run_id: int, at: datetime, run: RunObservations) -> Seen:
    """Write what a run saw (inside the caller's locked transaction); see the module."""
    for table in _TEMP_TABLES:
        store._exec(f"DROP TABLE IF EXISTS {table}")
    store._exec(_INPUT.format(**store.types))
    store._exec(_OBSERVED.format(**store.types))
    previous_full, targeted, covered = _load_covered(store, run_id)
    # A targeted run sees a few findings: reading every open one would cost it more.
    found = None if targeted else _sql_quiet.quiet(store, run, covered)
    if found is not None:
        rest = [ord_ for ord_, quiet in enumerate(found.mask) if not quiet]
        table = run.subset(rest, known=frozenset(found.known))
    else:
        table = run.table
    store._load("run_input", table)
    store._analyze("run_input")
    when = store._ts_in(at)
    store._exec(
        _CLASSIFY,
        (previous_full, previous_full, int(targeted), run_id, when, run_id, when, int(targeted)),
    )
    store._exec("CREATE INDEX run_observed_fingerprint ON run_observed (fingerprint)")
    store._analyze("run_observed")
    starting = [
        int(row[0])
        for row in store._exec("SELECT ord FROM run_observed WHERE starts = 1 ORDER BY ord")
    ]
    # One id per observation, the run's new spans taking theirs (base + ord): the ids
    # follow the run's order without numbering the spans in SQL (the rest go unused).
    ids = store._reserve_ids("finding_spans", run.num_rows if starting else 0)
    base = ids[0] if ids else 0
    live = int(not targeted)
    absent = _absent(store, previous_full, run, found)
    if live:
        for batch in chunks([state.fingerprint for state in absent], _BATCH):
            store._exec(
                _SETTLE.format(in_list=placeholders(len(batch))),
                (previous_full, previous_full, *batch),
            )
    store._exec(_INSERT_NEW, (run_id, when, base, live))
    store._exec(_UPDATE_CHANGED, (run_id, when, base, live))
    store._exec(_UPDATE_SAME, (run_id, when, base, live))
    if found is not None:
        _sql_quiet.renew(store, found, run_id, when, _BATCH)
    store._exec(_CLOSE_SPANS)
    _start_spans(store, run_id, run, base, starting)
    seen = _read_back(store, run, found)
    for name in _TEMP_TABLES:
        store._exec(f"DROP TABLE {name}")
    return Seen(*seen, absent)


def _absent(
    store: SqlStore, previous_full: int, run: RunObservations, found: _sql_quiet.Quiet | None
) -> list[FindingState]:
    """The findings open (or excused) before this run that it did not report, as they
    were before it (ordered by fingerprint)."""
    if found is None:
        rows = store._exec(_ABSENT, (previous_full, previous_full))
    else:  # the quiet ones are not in run_observed: the run's fingerprints say
        rows = []
        for batch in chunks(_sql_quiet.absent(found.open_before, set(run.fingerprints)), _BATCH):
            rows += store._exec(
                f"{_BEFORE} WHERE f.fingerprint IN ({placeholders(len(batch))}) "
                "ORDER BY f.fingerprint",
                (previous_full, previous_full, *batch),
            )
    return [store._finding_from_row(row) for row in rows]


#: Fingerprints a statement (as ``_sql.BATCH``, which imports this module).
_BATCH: Final = 500

#: The temporary tables a recording builds, in the order they are dropped.
_TEMP_TABLES: Final = ("run_observed", "run_input", "run_covered")


def _load_covered(store: SqlStore, run_id: int) -> tuple[int, bool, dict[str, int]]:
    """Fill ``run_covered``; return the previous full run's id (0 for none), whether
    this run is a targeted one, and the covered customers (with their latest run).

    The span rule (:mod:`billdrift.history._spans`) with targeted runs: a finding's
    span continues when no run since the one that last saw it could have seen it.
    Every full run could; a targeted run only the findings of the customers it names
    (``runs.customers``: those it covered and those of the findings it reported). So
    a finding last seen at or after the previous full run, and not resolved since,
    continues unless a targeted run since then named its customer and did not see
    it (it held it back). A finding without a billing customer is named by no run:
    it continues across targeted runs (one that judged it without seeing it resolved
    it), and a targeted run that sees it starts it a span, so the reader knows that
    run saw it. Targeted runs name a few dozen customers each; their lists are read
    here, not per finding in SQL (where each dialect spells a JSON array its way)."""
    store._exec(_COVERED.format(**store.types))
    rows = store._exec("SELECT max(id) FROM runs WHERE id < ? AND kind = 'full'", (run_id,))
    previous_full = 0 if rows[0][0] is None else int(rows[0][0])
    covered: dict[str, int] = {}
    for ident, customers in store._exec(
        "SELECT id, customers FROM runs WHERE kind = 'targeted' AND id > ? AND id < ? ORDER BY id",
        (previous_full, run_id),
    ):
        for customer in store._json_out(customers):
            covered[str(customer)] = int(ident)
    store._exec_many("INSERT INTO run_covered VALUES (?, ?)", list(covered.items()))
    kind = store._exec("SELECT kind FROM runs WHERE id = ?", (run_id,))
    return previous_full, kind[0][0] == "targeted", covered


def resolve(
    store: SqlStore, fingerprints: Sequence[str], run_id: int, at: datetime, size: int
) -> None:
    """Mark findings resolved by this run (they were open or excused, and are gone),
    `size` fingerprints a statement. A live finding (a targeted run resolves it; a full
    run settled its absent ones already) was last seen by the latest full run before."""
    when = store._ts_in(at)
    for batch in chunks(fingerprints, size):
        store._exec(
            "UPDATE findings SET status = 'resolved', last_change = 'resolved', "
            f"resolved_run = ?, resolved_at = ?, last_seen_run = {_SETTLED_RUN}, "
            f"last_seen_at = {_SETTLED_AT}, seen_live = 0 "
            f"WHERE fingerprint IN ({placeholders(len(batch))})",
            (run_id, when, run_id, run_id, *batch),
        )


#: A live finding's last-seen run and time, as of before run ``?`` (its id; each once).
_LATEST_BEFORE: Final = "(SELECT max(id) FROM runs WHERE kind = 'full' AND id < ?)"
_SETTLED_RUN: Final = f"CASE WHEN seen_live = 1 THEN {_LATEST_BEFORE} ELSE last_seen_run END"
_SETTLED_AT: Final = (
    f"CASE WHEN seen_live = 1 THEN (SELECT finished_at FROM runs WHERE id = {_LATEST_BEFORE}) "
    "ELSE last_seen_at END"
)


def _start_spans(
    store: SqlStore,
    run_id: int,
    run: RunObservations,
    base: int,
    starting: Sequence[int],
) -> None:
    """Insert the spans this run starts, with the content only Python holds."""
    rows = []
    for ord_, content in zip(starting, run.contents(starting), strict=True):
        rows.append(
            (
                base + ord_,
                run.fingerprints[ord_],
                run_id,
                run_id,
                *content[:7],
                store._json_in(content[7]),
                content[8],
                run.digest(ord_),
            )
        )
    store._copy("finding_spans", ("id", *_spans.SPAN_COLUMNS), rows)


def _read_back(
    store: SqlStore, run: RunObservations, found: _sql_quiet.Quiet | None
) -> tuple[dict[str, str], dict[str, datetime], dict[str, int], dict[str, list[Review]]]:
    """Each finding's change, first-seen time, occurrence (those with reviews) and
    reviews: the classified ones from ``run_observed``, the quiet ones as stored; in
    the run's order and the reviews' (as one query over all of them would give)."""
    change: dict[str, str] = {}
    first_seen: dict[str, Any] = {}
    opened: dict[str, int] = {}
    for fp, what, first, opened_run in store._exec(
        "SELECT fingerprint, change, first_seen_at, opened_run FROM run_observed WHERE is_first = 1"
    ):
        change[fp] = what
        first_seen[fp] = first
        opened[fp] = int(opened_run)
    reviewed = [store._review_from_row(row) for row in store._exec(_REVIEWS)]
    if found is not None and found.count:
        change.update(found.change)
        first_seen.update(found.first_seen)
        opened.update(found.opened_run)
        reviewed += _sql_quiet.reviews(store, found.reviewed, _BATCH)
        reviewed.sort(key=lambda review: review.review_id or 0)
    # In the run's order on every backend (a server returns the rows in its own).
    change = {fp: change[fp] for fp in dict.fromkeys(run.fingerprints)}
    reviews: dict[str, list[Review]] = {}
    for review in reviewed:
        reviews.setdefault(review.fingerprint, []).append(review)
    ts_out = store._ts_out
    return (
        change,
        {fp: ts_out(first_seen[fp]) for fp in change},
        {fp: opened[fp] for fp in reviews},
        reviews,
    )


def load_csv(table: Any) -> bytes:
    """An Arrow table as CSV for PostgreSQL's COPY (no header; a null is an empty
    unquoted field, an empty string a quoted one, as COPY ... CSV reads them)."""
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


__all__ = ["SCHEMA", "Seen", "load_csv", "record", "resolve"]
