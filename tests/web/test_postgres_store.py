"""The pages over a PostgreSQL history store, with a CLI-style recording alongside:
the list, a finding, an acknowledgement, and the store's own lock between writers."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import httpx

from billdrift.history import open_store
from billdrift.history.review import decision_in_force
from tests.infra.db.conftest import Database, pg  # noqa: F401  (fixture)
from tests.web.conftest import record_demo
from tests.web.server import served


def test_pages_and_a_decision_over_postgresql(tmp_path: Path, pg: Database) -> None:  # noqa: F811
    recorded = record_demo(tmp_path, pg.url, ("2026-11-20",))
    with open_store(recorded.history) as store:
        target = store.open_findings()[0]
    with served(recorded.settings()) as app, httpx.Client(base_url=app.url) as client:
        listing = client.get("/findings")
        assert listing.status_code == 200 and '<strong id="total">15</strong>' in listing.text
        finding = client.get(f"/findings/{target.fingerprint}")
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', finding.text)
        assert csrf is not None
        # a CLI run records while the web app acknowledges: both land, nothing is lost
        recording = threading.Thread(
            target=record_demo, args=(tmp_path / "again", pg.url, ("2026-11-21",))
        )
        (tmp_path / "again").mkdir()
        recording.start()
        response = client.post(
            f"/findings/{target.fingerprint}/acknowledge",
            data={"csrf": csrf.group(1), "note": "from the web"},
            headers={"Origin": app.url},
        )
        recording.join()
        assert response.status_code == 303
    with open_store(recorded.history) as store:
        assert len(store.recent_runs()) == 2
        state = store.finding(target.fingerprint)
        assert state is not None
        reviews = store.reviews_for([target.fingerprint])[target.fingerprint]
        from datetime import UTC, datetime

        decision = decision_in_force(state, reviews, datetime.now(UTC))
        assert decision is not None and decision.note == "from the web"
