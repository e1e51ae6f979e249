"""The runs page tells a listener's targeted runs from full runs (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from billdrift.history import open_store, record_run
from billdrift.history.lifecycle import Scope
from tests.history.helpers import report
from tests.web.conftest import Recorded
from tests.web.server import served


def test_a_targeted_run_is_listed_as_targeted_with_its_customers(demo_store: Recorded) -> None:
    now = datetime.now(UTC)
    scope = Scope(customers=frozenset({"cus_a", "cus_b"}))
    with open_store(demo_store.history) as store:
        record_run(store, report(), now, now, scope=scope)
    with served(demo_store.settings()) as app:
        html = httpx.get(app.url + "/runs").text
    assert html.count("run-targeted") == 1  # the demo's two full runs have no badge
    assert 'title="cus_a, cus_b">targeted: 2 customers<' in html
