"""A full run's findings seen again unchanged, picked out before the SQL lifecycle.

Why: a nightly run sees nearly all of its findings again, unchanged (35,000 at
1M x 1M). Since schema version 7 such a finding's row needs no write (it is live:
its last-seen run is the latest full run), yet every one of them was still loaded
into the run's temporary table (an ``executemany`` of 14 columns), joined with its
stored row and current span, written into the classification table, indexed and
read back: about 0.3 s of CPU, most of what recording cost. Here one SELECT reads
the store's open (and excused) findings, their lifecycle columns, details and
current span's content digest, and a Python pass over the run's columns (a dict
lookup and a tuple comparison per observation) picks out the *quiet* observations:
those :mod:`billdrift.history._sql_record`'s classification would find the same in
every column, with nothing to write (``same = 2`` there). Only the others go
through the SQL lifecycle; the quiet ones keep their stored change, first-seen
time and occurrence, which is what the classification would have read back.

An observation is quiet when, in a full run, its fingerprint is observed once in
the run, its finding is stored live, with status and last change
``open``/``ongoing`` (``suppressed``/``suppressed`` when a config exception excuses
it now), the same details (subscription, severity, confidence, money, e-mail
address), a current span with the same content digest, and no targeted run since
the previous full run named its customer (the span rule: such a span starts again).
Anything else (a change, a reopening, a first sighting, a targeted run) is the SQL
lifecycle's. The same stored rows tell which open findings the run did not see.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from billdrift.history._sql_rows import REVIEW_COLUMNS, placeholders
from billdrift.history.run_table import RunObservations
from billdrift.history.store import Review, chunks

if TYPE_CHECKING:
    from billdrift.history._sql import SqlStore

#: The open (and excused) findings, as the quiet test reads them.
_STORED: Final = """
SELECT f.fingerprint, f.status, f.last_change, f.seen_live, f.subscription_id, f.severity,
       f.confidence, f.exposure_amount, f.exposure_currency, f.email, s.digest, f.first_seen_at,
       f.opened_run,
       CASE WHEN EXISTS (SELECT 1 FROM reviews r WHERE r.fingerprint = f.fingerprint)
            THEN 1 ELSE 0 END
FROM findings f LEFT JOIN finding_spans s ON s.id = f.last_span
WHERE f.status IN ('open', 'suppressed')
"""

#: The run table's columns the quiet test compares, in ``_STORED``'s order of details.
_DETAILS: Final = (
    "subscription_id",
    "severity",
    "confidence",
    "exposure_amount",
    "exposure_currency",
    "email",
)


@dataclass(frozen=True)
class Quiet:
    """The quiet observations of a run and what the lifecycle reads back for them."""

    #: One flag per observation of the run (its ``ord``): quiet or not.
    mask: Sequence[bool]
    #: fingerprint -> its change, stored first-seen time (as stored) and occurrence.
    change: dict[str, str] = field(default_factory=dict)
    first_seen: dict[str, Any] = field(default_factory=dict)
    opened_run: dict[str, int] = field(default_factory=dict)
    #: Quiet findings with reviews (read with :func:`reviews`).
    reviewed: list[str] = field(default_factory=list)
    #: Every open or excused finding stored before the run.
    open_before: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.mask)


def quiet(store: SqlStore, run: RunObservations, covered: Collection[str]) -> Quiet:
    """The run's quiet observations (a full run's; see the module). `covered`: the
    billing customers targeted runs named since the previous full run."""
    columns = run.columns
    excuses, customers = columns["suppressed_by"], columns["customer_id"]
    details = list(zip(*(columns[name] for name in _DETAILS), strict=True))
    firsts = columns["is_first"]
    repeated = {fp for fp, first in zip(run.fingerprints, firsts, strict=True) if not first}
    stored = {row[0]: row for row in store._exec(_STORED)}
    mask = [False] * run.num_rows
    result = Quiet(mask=mask, open_before=list(stored))
    for ord_, fp in enumerate(run.fingerprints):
        row = stored.get(fp)
        if row is None or row[3] != 1 or row[10] != run.digests[ord_]:
            continue
        expected = ("open", "ongoing") if excuses[ord_] is None else ("suppressed", "suppressed")
        if (
            (row[1], row[2]) != expected
            or row[4:10] != details[ord_]
            or fp in repeated
            or customers[ord_] in covered
        ):
            continue
        mask[ord_] = True
        result.change[fp] = row[2]
        result.first_seen[fp] = row[11]
        result.opened_run[fp] = int(row[12])
        if row[13]:
            result.reviewed.append(fp)
    return result


def reviews(store: SqlStore, fingerprints: Sequence[str], size: int) -> list[Review]:
    """Every review of `fingerprints`, oldest first per finding."""
    found: list[Review] = []
    for batch in chunks(sorted(fingerprints), size):
        found += map(
            store._review_from_row,
            store._exec(
                f"SELECT id, {', '.join(REVIEW_COLUMNS)} FROM reviews "
                f"WHERE fingerprint IN ({placeholders(len(batch))}) ORDER BY id",
                batch,
            ),
        )
    return found


def absent(open_before: Sequence[str], observed: Collection[str]) -> list[str]:
    """The open findings the run did not observe, by fingerprint (sorted)."""
    return sorted(fp for fp in open_before if fp not in observed)
