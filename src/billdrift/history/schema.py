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
    Migration(
        2,
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
