"""Engine plumbing that is not a rule: process state it touches must be restored."""

from __future__ import annotations

import gc

import pytest

from billdrift.engine import reconcile
from billdrift.model import Kind
from tests.builders import account, app, billing, inputs, sub


@pytest.mark.parametrize("enabled_before", [True, False])
def test_garbage_collector_state_is_restored(enabled_before: bool) -> None:
    """Findings are built with the collector paused; the caller's setting comes back."""
    data = inputs(billing(sub("sub_1", "cus_1")), app(account("a1", "cus_1", access=False)))
    was = gc.isenabled()
    try:
        if enabled_before:
            gc.enable()
        else:
            gc.disable()
        report = reconcile(data)
        assert gc.isenabled() is enabled_before
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
    assert [finding.kind for finding in report.findings] == [Kind.PAID_BUT_BLOCKED]
