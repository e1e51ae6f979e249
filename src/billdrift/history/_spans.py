"""Spans: a finding's timeline stored as what changed, not what every run saw.

Why: version 1 of the store wrote every finding's message, fix and evidence again
in every run; at 1M x 1M that is about 90 MB a run, 30 GB for a year of nightly
runs. A span (table ``finding_spans``, schema version 2) is one unchanged stretch
of a finding's timeline: every run from ``first_run`` to ``last_run`` saw the
finding say exactly the span's content. A change (or a gap: runs that did not
see it) starts a new span in the run it happened in. A run that sees a finding
unchanged extends its current span (``findings.last_span``) without writing it: a
current span ends at the finding's last-seen run (``history._sql_rows.seen_run``:
the latest full run while the finding is live, schema version 7), and its
``last_run`` is set when a new span replaces it (rewriting 35,000 wide span rows per
run was most of a run's write time, and on PostgreSQL as many dead rows).
Reading the spans back, joined with the runs they cover, gives exactly the per-run
observations version 1 stored.

The rule, shared by recording (:mod:`billdrift.history._sql_record`, in SQL) and the
version-1 conversion (:func:`convert_observations`) so both build the same spans: a finding's first
observation in a run extends the finding's current span when that span ended at
the previous run and its content digest is the same; anything else (a changed
content, a gap, a new finding, a second observation of the same finding in one
run) starts a span. The current span (``findings.last_span``) is the one the
finding's first observation in its latest run extended or started.

Targeted runs (a listener's check of a few customers, schema version 5) see only
their customers' findings, so "the previous run" is the previous run that could
have seen the finding: a full run, or a targeted run naming its customer. A span
therefore passes over targeted runs of other customers (a full run after one
continues every span outside it instead of starting them all again), and the
runs a span covers are the full runs in its range, its first run, and the
targeted runs that name its finding's customer (:func:`saw`). A finding without
a billing customer is named by no targeted run; a targeted run that sees one
starts it a span, so that run is a first run. The version-1 conversion has no
targeted runs to pass over.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import orjson

#: The span columns a run writes, in order (``id`` aside).
SPAN_COLUMNS: Final = (
    "fingerprint",
    "first_run",
    "last_run",
    "subscription_id",
    "severity",
    "confidence",
    "exposure_amount",
    "exposure_currency",
    "message",
    "fix",
    "evidence",
    "suppressed_by",
    "digest",
)
#: The content columns (what a digest covers), as version 1's observations name them too.
CONTENT: Final = SPAN_COLUMNS[3:12]
_DIGEST_OPTIONS: Final = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def digest(content: Sequence[Any]) -> str:
    """A digest of a span's content (:data:`CONTENT` order, evidence as an object).

    Keys are sorted so a store that reorders JSON keys (PostgreSQL's JSONB) gives the
    same digest for the same evidence; non-JSON values go as strings, as stored."""
    text = orjson.dumps(content, default=str, option=_DIGEST_OPTIONS)
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def saw(
    kind: str, customers: Sequence[str], first_run: int, run_id: int, customer: str | None
) -> bool:
    """Whether run `run_id` (of `kind`, naming `customers`), inside the range of a span
    starting at `first_run` of a finding of `customer`, saw that finding (see the module)."""
    return kind == "full" or run_id == first_run or (customer is not None and customer in customers)


def convert_observations(
    runs: Sequence[int],
    fingerprints: Sequence[str],
    observations: Callable[[Sequence[str]], Iterator[tuple[str, int, Sequence[Any]]]],
    batch: int,
) -> Iterator[tuple[list[tuple[Any, ...]], dict[str, int]]]:
    """Version 1's observations as spans, `batch` fingerprints at a time.

    `runs`: every run id, ascending. `observations(fps)` yields (fingerprint, run_id,
    content) for those fingerprints ordered by fingerprint, run, observation id. Yields
    the spans to insert (``first_run``, ``last_run``, then :data:`SPAN_COLUMNS` from
    ``fingerprint``, ids left to the caller's numbering in yield order) and each
    finding's current span as an index into them.
    """
    previous = {run: before for before, run in itertools.pairwise(runs)}
    for start in range(0, len(fingerprints), batch):
        spans: list[list[Any]] = []
        current: dict[str, int] = {}
        state: dict[str, tuple[int, int]] = {}  # fp -> (last run seen, first-observation run)
        for fp, run_id, content in observations(fingerprints[start : start + batch]):
            content_digest = digest(content)
            seen = state.get(fp)
            first_in_run = seen is None or seen[0] != run_id
            if first_in_run:
                index = current.get(fp)
                span = spans[index] if index is not None else None
                if (
                    span is not None
                    and seen is not None
                    and previous.get(run_id) == seen[0]
                    and span[2] == seen[0]
                    and span[-1] == content_digest
                ):
                    span[2] = run_id
                    state[fp] = (run_id, run_id)
                    continue
                current[fp] = len(spans)
                state[fp] = (run_id, run_id)
            spans.append([fp, run_id, run_id, *content, content_digest])
        yield [tuple(span) for span in spans], current
