"""A recorded report's findings get the same history whether the engine gave them as
columns or as objects (a pushed-down run's): one way of attaching it (issue 18)."""

from __future__ import annotations

from datetime import UTC, datetime

from billdrift.core.found import Found
from billdrift.core.model import Verdict
from billdrift.history.lifecycle import Lifecycle
from billdrift.history.store import Review
from billdrift.usecases.recording import _with_history
from tests.core.test_found import _every_kind

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def test_columns_and_objects_get_the_same_history() -> None:
    found = _every_kind().findings
    assert isinstance(found, Found)
    keys = tuple(f"{i:064x}" for i in range(len(found)))
    acknowledged = Review(
        fingerprint=keys[1], action="acknowledged", note="known", who="sam", at=WHEN
    )
    lifecycle = Lifecycle(
        run_id=2,
        verdict=Verdict.FAIL,
        new=(),
        reopened=(),
        ongoing=(),
        suppressed=(),
        resolved=(),
        kept=(),
        status_of={key: "new" if i else "ongoing" for i, key in enumerate(keys)},
        first_seen=dict.fromkeys(keys, WHEN),
        decisions={keys[1]: acknowledged},
        fingerprints=keys,
        reviews={keys[1]: [acknowledged]},
    )
    as_columns = tuple(_with_history(found, lifecycle))
    as_objects = _with_history(tuple(found), lifecycle)
    assert as_columns == as_objects
    assert [f.tracking.status for f in as_objects if f.tracking] == [
        "ongoing",
        *["new"] * (len(keys) - 1),
    ]
    reviewed = as_objects[1]
    assert reviewed.tracking is not None and reviewed.tracking.review == "acknowledged"
    assert reviewed.evidence["reviews"][0]["note"] == "known"
    assert "reviews" not in as_objects[0].evidence and found[1].tracking is None
