"""The builders' quick constructor makes the same Finding the dataclass does (issue 17)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

from billdrift.core.model import Exposure, Finding, Kind, Severity, built_finding
from billdrift.core.words import Ref

VALUES = {
    "kind": Kind.PAID_BUT_BLOCKED,
    "severity": Severity.HIGH,
    "confidence": 0.95,
    "account_id": "a1",
    "customer_id": "cus_1",
    "subscription_id": None,
    "exposure": Exposure("9.00", "USD"),
    "message": "Account a1 ...",
    "fix": "Restore access.",
    "evidence": {"billing": {"status": "active"}},
    "message_words": ("Account ", Ref("id", "a1"), " ..."),
    "fix_words": ("Restore access.",),
}


def test_every_field_of_a_finding_is_a_parameter_or_tracking() -> None:
    """A field added to Finding must be added to built_finding too (or it would be
    missing from every finding the rules build)."""
    parameters = list(inspect.signature(built_finding).parameters)
    assert [*parameters, "tracking"] == [f.name for f in dataclasses.fields(Finding)]


def test_built_finding_is_the_dataclass_finding() -> None:
    built = built_finding(**VALUES)  # type: ignore[arg-type]
    made = Finding(**VALUES)  # type: ignore[arg-type]
    assert built == made and type(built) is Finding
    assert vars(built) == vars(made)  # every field, the uncompared words and tracking too
    assert built.tracking is None and repr(built) == repr(made)
    assert pickle.loads(pickle.dumps(built)) == made
    assert dataclasses.replace(built, message="other").message == "other"
    try:
        built.message = "changed"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:  # pragma: no cover - the assertion below fails
        raise AssertionError("a built finding must stay frozen")


def test_recording_fills_the_same_tracking_and_finding_the_dataclasses_make() -> None:
    """Recording gives each finding its tracking through ``filled`` (issue 18): the
    same objects as ``Tracking(...)`` and ``dataclasses.replace``, every field set."""
    from datetime import UTC, datetime

    from billdrift.core.found import HISTORY, Tracked
    from billdrift.core.model import Tracking

    fields = {
        "status": "new",
        "fingerprint": "f" * 16,
        "first_seen": datetime(2026, 12, 1, tzinfo=UTC),
        "review": None,
        "review_until": None,
    }
    assert list(HISTORY) == [f.name for f in dataclasses.fields(Tracking)]
    finding = Finding(**VALUES)  # type: ignore[arg-type]
    columns = {name: [value] for name, value in fields.items()}
    (tracked,) = Tracked(**columns, notes={}).given([finding])  # type: ignore[arg-type]
    tracking = tracked.tracking
    assert tracking is not None
    assert vars(tracking) == vars(Tracking(**fields))  # type: ignore[arg-type]
    assert vars(tracked) == vars(dataclasses.replace(finding, tracking=tracking))
    assert finding.tracking is None  # the original is untouched
