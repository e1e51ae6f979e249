"""A full run's findings seen again unchanged, picked out before the SQL lifecycle.

Why: a nightly run sees nearly all of its findings again, unchanged (35,000 at
1M x 1M). Since schema version 7 such a finding's row needs no write (it is live:
its last-seen run is the latest full run), yet every one of them was still loaded
into the run's temporary table (an ``executemany`` of 14 columns), joined with its
stored row and current span, written into the classification table, indexed and
read back: about 0.3 s of CPU, most of what recording cost. Here one SELECT reads
the store's open (and excused) findings' lifecycle columns and text digests, and a
Python pass over the run's columns (a dict lookup and a few comparisons per
observation) picks out the *quiet* observations: those
:mod:`billdrift.history._sql_record`'s classification would find the same in every
column, with nothing to write (``same = 2`` there). Only the others go through the
SQL lifecycle; the quiet ones keep their stored change, first-seen time and
occurrence, which is what the classification would have read back.

An observation is quiet when, in a full run, its fingerprint is observed once in
the run, its finding is stored live, with status and last change
``open``/``ongoing`` (``suppressed``/``suppressed`` when a config exception excuses
it now; ``open``/``new``, see below), the same text digest (schema version 9, see
:mod:`billdrift.history.run_table`), and no targeted run since the previous full
run named its customer (the span rule: such a span starts again). The text digest
covers the finding's details (subscription, severity, confidence, money) and its
evidence (so its e-mail address), and a finding's row is written with the details,
current span and text digest of one observation, so an equal text digest means equal
details and the same current span content: neither is read. Anything else (a
change, a reopening, a first sighting, a targeted run) is the SQL lifecycle's, but
for one case: the run after findings first appear sees every one of them again, and
their change goes from ``new`` to ``ongoing``; such an observation is quiet too, and
its row gets the three columns the SQL lifecycle would write (:func:`renew`, by
fingerprint: loading, joining and classifying 35,000 rows cost 0.45 s at 1M x 1M).
The same stored rows tell which open findings the run did not see, and which
observations the SQL lifecycle gets with their content already stored (``known``:
their evidence is not parsed).
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
SELECT fingerprint, status, last_change, seen_live, text_digest, first_seen_at, opened_run
FROM findings
WHERE status IN ('open', 'suppressed')
"""

#: The findings with reviews (a few: people review one at a time).
_REVIEWED: Final = "SELECT DISTINCT fingerprint FROM reviews"


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
    #: The first observations (not quiet) whose text digest their finding's row holds.
    known: set[int] = field(default_factory=set)
    #: Quiet findings that were new: their change becomes ``ongoing`` (see :func:`renew`).
    renewed: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.mask)


def quiet(store: SqlStore, run: RunObservations, covered: Collection[str]) -> Quiet:
    """The run's quiet observations (a full run's; see the module). `covered`: the
    billing customers targeted runs named since the previous full run."""
    columns = run.columns
    excuses, customers = run.excuses, columns["customer_id"]
    firsts, texts = columns["is_first"], run.text_digests
    repeated = {fp for fp, first in zip(run.fingerprints, firsts, strict=True) if not first}
    stored = {row[0]: row for row in store._exec(_STORED)}
    reviewed = {row[0] for row in store._exec(_REVIEWED)}
    mask = [False] * run.num_rows
    result = Quiet(mask=mask, open_before=list(stored))
    for ord_, fp in enumerate(run.fingerprints):
        row = stored.get(fp)
        if row is None or row[4] != texts[ord_] or not firsts[ord_]:
            continue
        state = (row[1], row[2])
        expected = ("open", "ongoing") if excuses[ord_] is None else ("suppressed", "suppressed")
        renewed = state == ("open", "new") and excuses[ord_] is None
        if (
            row[3] != 1
            or (state != expected and not renewed)
            or fp in repeated
            or customers[ord_] in covered
        ):
            result.known.add(ord_)
            continue
        mask[ord_] = True
        if renewed:
            result.renewed.append(fp)
        result.change[fp] = expected[1]
        result.first_seen[fp] = row[5]
        result.opened_run[fp] = int(row[6])
        if fp in reviewed:
            result.reviewed.append(fp)
    return result


def renew(store: SqlStore, found: Quiet, run_id: int, when: Any, size: int) -> None:
    """Write what the SQL lifecycle writes for a quiet observation whose finding was
    new (the run after findings first appear: every one of them): its change becomes
    ``ongoing`` and it was last seen by this run (``same = 1`` there; no span starts,
    the details and text digest are the same). `size` fingerprints a statement."""
    for batch in chunks(found.renewed, size):
        store._exec(
            "UPDATE findings SET last_change = 'ongoing', last_seen_run = ?, last_seen_at = ? "
            f"WHERE fingerprint IN ({placeholders(len(batch))})",
            (run_id, when, *batch),
        )


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
