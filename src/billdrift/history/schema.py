"""The history schema, as numbered migrations shared by both backends.

Why migrations rather than "CREATE TABLE IF NOT EXISTS": a history store outlives
the billdrift version that created it, and a later version will need to add a
column or an index to a store full of data. Each migration is applied once, in
order, inside the same transaction as the ``schema_version`` row that records it,
so a store is always exactly at one version. A store whose version is newer than
the code knows is refused (:func:`check_version`): an older billdrift writing to
a newer layout could silently drop what the newer one relies on.

The DDL is written once with type placeholders (``{pk}``, ``{ts}``, ``{json}``...)
that each backend fills with its own types (TEXT timestamps and JSON in SQLite,
TIMESTAMPTZ and JSONB in PostgreSQL), so the two layouts cannot drift apart.
Never edit a released migration: add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from billdrift.history.store import HistoryError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    #: Statements run after the backend's data conversion for this version, if it
    #: has one (``SqlStore._convert``): e.g. dropping what the conversion moved.
    finish: tuple[str, ...] = ()


#: ``schema_version`` itself is created before any migration runs (it says which ran).
VERSION_TABLE: Final = """
CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at {ts} NOT NULL,
  billdrift_version TEXT NOT NULL
)
"""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "runs, findings, finding_observations, reviews",
        (
            """
            CREATE TABLE runs (
              id {pk},
              started_at {ts} NOT NULL,
              finished_at {ts} NOT NULL,
              as_of {ts} NOT NULL,
              verdict TEXT NOT NULL,
              fail_on TEXT NOT NULL,
              sources {json} NOT NULL,
              rows_read {json} NOT NULL,
              counts_by_kind {json} NOT NULL,
              counts_by_severity {json} NOT NULL,
              exposure_by_currency {json} NOT NULL,
              classification {json} NOT NULL,
              n_findings INTEGER NOT NULL,
              n_suppressed INTEGER NOT NULL,
              n_skips INTEGER NOT NULL,
              duration_seconds {float} NOT NULL,
              errors {json} NOT NULL,
              notes {json} NOT NULL,
              billdrift_version TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE findings (
              fingerprint TEXT PRIMARY KEY,
              kind TEXT NOT NULL,
              account_id TEXT,
              customer_id TEXT,
              subscription_id TEXT,
              status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'suppressed')),
              last_change TEXT NOT NULL
                CHECK (last_change IN ('new', 'ongoing', 'reopened', 'suppressed', 'resolved')),
              first_seen_run {ref} NOT NULL REFERENCES runs (id),
              first_seen_at {ts} NOT NULL,
              last_seen_run {ref} NOT NULL REFERENCES runs (id),
              last_seen_at {ts} NOT NULL,
              opened_run {ref} NOT NULL REFERENCES runs (id),
              opened_at {ts} NOT NULL,
              resolved_run {ref} REFERENCES runs (id),
              resolved_at {ts},
              times_reopened INTEGER NOT NULL DEFAULT 0,
              severity TEXT NOT NULL,
              confidence {float} NOT NULL,
              exposure_amount TEXT,
              exposure_currency TEXT,
              message TEXT NOT NULL,
              fix TEXT NOT NULL
            )
            """,
            "CREATE INDEX findings_by_status ON findings (status)",
            """
            CREATE TABLE finding_observations (
              id {pk},
              run_id {ref} NOT NULL REFERENCES runs (id),
              fingerprint TEXT NOT NULL REFERENCES findings (fingerprint),
              kind TEXT NOT NULL,
              account_id TEXT,
              customer_id TEXT,
              subscription_id TEXT,
              severity TEXT NOT NULL,
              confidence {float} NOT NULL,
              exposure_amount TEXT,
              exposure_currency TEXT,
              message TEXT NOT NULL,
              fix TEXT NOT NULL,
              evidence {json} NOT NULL,
              suppressed_by TEXT
            )
            """,
            "CREATE INDEX observations_by_fingerprint "
            "ON finding_observations (fingerprint, run_id)",
            "CREATE INDEX observations_by_run ON finding_observations (run_id)",
            """
            CREATE TABLE reviews (
              id {pk},
              fingerprint TEXT NOT NULL REFERENCES findings (fingerprint),
              action TEXT NOT NULL
                CHECK (action IN ('acknowledged', 'snoozed', 'expected', 'noted')),
              note TEXT NOT NULL,
              until {ts},
              opened_run {ref} REFERENCES runs (id),
              who TEXT NOT NULL,
              at {ts} NOT NULL
            )
            """,
            "CREATE INDEX reviews_by_fingerprint ON reviews (fingerprint, id)",
        ),
    ),
    # Store what changed, not what exists (issue 18). Version 1 wrote every finding's
    # message, fix and evidence again in every run (about 90 MB per run at 1M x 1M).
    # A span is one unchanged stretch of a finding's timeline: the runs first_run to
    # last_run (every run in between, none missing) all saw it say exactly this. The
    # content (message, fix, evidence) is written when it changes, with the run it
    # changed in. A finding's current span (findings.last_span) ends at the finding's
    # last_seen_run, which a run writes anyway; the span's own last_run is only set
    # when a new span replaces it, so a run that sees a finding unchanged rewrites no
    # span (a span ends at CASE WHEN id = last_span THEN last_seen_run ELSE last_run
    # END). ``digest`` (of the content, see ``history._spans``) is how a run tells
    # "unchanged" without reading the evidence back. The findings table no longer
    # repeats the latest message and fix (they are in the current span). Version 1's
    # observations become spans (each run's observation stays readable) and their
    # table is dropped.
    Migration(
        2,
        "finding_spans replace finding_observations; findings.last_span",
        (
            """
            CREATE TABLE finding_spans (
              id {pk},
              fingerprint TEXT NOT NULL REFERENCES findings (fingerprint),
              first_run {ref} NOT NULL REFERENCES runs (id),
              last_run {ref} NOT NULL REFERENCES runs (id),
              subscription_id TEXT,
              severity TEXT NOT NULL,
              confidence {float} NOT NULL,
              exposure_amount TEXT,
              exposure_currency TEXT,
              message TEXT NOT NULL,
              fix TEXT NOT NULL,
              evidence {json} NOT NULL,
              suppressed_by TEXT,
              digest TEXT NOT NULL
            )
            """,
            "CREATE INDEX spans_by_fingerprint ON finding_spans (fingerprint, first_run, id)",
            "CREATE INDEX spans_by_last_run ON finding_spans (last_run)",
            # No REFERENCES: a new finding's row is written before its first span.
            "ALTER TABLE findings ADD COLUMN last_span {ref}",
        ),
        finish=(
            "ALTER TABLE findings DROP COLUMN message",
            "ALTER TABLE findings DROP COLUMN fix",
            "DROP TABLE finding_observations",
        ),
    ),
    # The review queue's order as an index (issue 18), so its first page is an index
    # walk that stops after the page instead of a sort of every open finding (0.5 s at
    # 35,000 open findings, 1 ms with it). {queue_order} is the ORDER BY of
    # billdrift.history.queue in the backend's dialect; the planner uses the index only
    # while the two are identical, so a change of the queue order needs a migration that
    # drops and recreates it (tests/history/test_queue.py checks the plan).
    Migration(
        3,
        "findings_queue index in review-queue order",
        ("CREATE INDEX findings_queue ON findings (status, {queue_order})",),
    ),
    Migration(
        4,
        "fix_applications: what `billdrift fix apply` did to the app database",
        (
            """
            CREATE TABLE fix_applications (
              id {pk},
              plan_digest TEXT NOT NULL,
              applied_at {ts} NOT NULL,
              who TEXT NOT NULL,
              app TEXT NOT NULL,
              app_table TEXT NOT NULL,
              outcome TEXT NOT NULL
                CHECK (outcome IN ('applied', 'nothing_to_do', 'refused')),
              rows_changed INTEGER NOT NULL,
              statements {json} NOT NULL
            )
            """,
            "CREATE INDEX fix_applications_by_plan ON fix_applications (plan_digest, id)",
        ),
    ),
    # A targeted run (``billdrift listen``: the customers a webhook named) judges a
    # handful of customers, not the whole business (issue 16). Recorded as an ordinary
    # run it would be the trend chart's latest point (a few findings where there are
    # thousands), the "previous run" a full run is compared with, and the latest run
    # retention always keeps. ``kind`` tells the two apart; ``customers`` names the
    # billing customers a targeted run covered (empty for a full run). Runs recorded
    # before this version were all full runs.
    Migration(
        5,
        "runs.kind ('full' or 'targeted') and runs.customers",
        (
            "ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'full' "
            "CHECK (kind IN ('full', 'targeted'))",
            "ALTER TABLE runs ADD COLUMN customers {json} NOT NULL DEFAULT '[]'",
            "CREATE INDEX runs_by_kind ON runs (kind, id)",
        ),
    ),
    # The review queue at scale (issue 18). Searching by e-mail address scanned the
    # evidence text of every open finding: ``email`` holds the customer's address
    # (``history.run_table.email_of``: lower case; written when a run records the
    # finding's content, filled here from each finding's current span) and an index
    # makes a whole address one lookup. The queue's order compared amounts across
    # currencies (100 JPY above 99 USD): amounts are now compared within a currency
    # (findings with money first, by currency code, then by amount), so the index in
    # queue order is rebuilt with the new order.
    Migration(
        6,
        "findings.email (indexed) for the queue's search; queue order by currency, then amount",
        (
            "ALTER TABLE findings ADD COLUMN email TEXT",
            "DROP INDEX findings_queue",
        ),
        finish=(
            "CREATE INDEX findings_by_email ON findings (email)",
            "CREATE INDEX findings_queue ON findings (status, {queue_order})",
        ),
    ),
    # A finding seen again unchanged costs no write (issue 18). Every full run rewrote
    # the last-seen columns of each finding it saw (35,000 rows a night at 1M x 1M,
    # every page of the table and its journal copy: a quarter of recording's time on
    # SQLite). ``seen_live = 1`` says "seen by every full run since last_seen_run,
    # through the latest full run": the finding's last-seen run is the store's latest
    # full run (``history._sql_rows.SEEN_RUN``), so a full run that sees it again with
    # the same details and content leaves its row alone. Any run that does not see a
    # live finding it could judge (resolved, kept, or seen by a targeted run) writes
    # its real last-seen run and time back and clears the flag. Rows before this
    # version say their last-seen run themselves (0), as they did.
    Migration(
        7,
        "findings.seen_live: a finding seen by every full run through the latest",
        ("ALTER TABLE findings ADD COLUMN seen_live INTEGER NOT NULL DEFAULT 0",),
    ),
    # What a run changed, as it recorded it. The dashboard counted a run's changes from
    # the findings' lifecycle columns, which later runs overwrite: a listener's targeted
    # run that saw one of the full run's findings took it out of the full run's "still
    # there" count. ``changes`` holds the counts by change (new, reopened, ongoing,
    # suppressed, resolved) written when the run is recorded; NULL for runs recorded
    # before this version, whose counts are still derived from the findings.
    Migration(
        8,
        "runs.changes: what each run changed, as recorded",
        ("ALTER TABLE runs ADD COLUMN changes {json}",),
    ),
    # A finding seen again unchanged costs no evidence parse (issue 18). Telling that a
    # finding's content is unchanged took its evidence parsed, its content digest (keys
    # sorted, as every store and engine gives the same) and its e-mail address: 0.2 s
    # of a nightly run at 1M x 1M, for 35,000 findings that had not changed.
    # ``text_digest`` is the digest of the content as the run's columns held it
    # (``history.run_table.text_digests``: the evidence as the JSON text SQL wrote),
    # written with the details and current span of the same observation; equal, the
    # content is the current span's. The content digests of the spans are unchanged
    # (a text digest only says "the same", never "changed"): rows before this version
    # have none (NULL), and the first run after the upgrade compares their content
    # digests as before and writes their text digests.
    Migration(
        9,
        "findings.text_digest: a finding's content as the run's text, to skip the parse",
        ("ALTER TABLE findings ADD COLUMN text_digest TEXT",),
    ),
)

LATEST: Final = MIGRATIONS[-1].version


def check_numbering() -> None:
    """Migrations are numbered 1..N with no gap (checked by the tests)."""
    numbers = [migration.version for migration in MIGRATIONS]
    if numbers != list(range(1, len(numbers) + 1)):
        raise AssertionError(f"history migrations are misnumbered: {numbers}")


def pending(current: int) -> tuple[Migration, ...]:
    """The migrations a store at version `current` still needs, in order."""
    return tuple(migration for migration in MIGRATIONS if migration.version > current)


def check_version(current: int, shown: str) -> None:
    """Refuse a store written by a newer billdrift (see the module docstring)."""
    if current > LATEST:
        raise HistoryError(
            f"history store {shown} has schema version {current}, newer than this billdrift "
            f"understands (up to {LATEST}); upgrade billdrift to use it (it was not changed)"
        )
