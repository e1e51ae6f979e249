"""``doctor`` and ``init`` talk to the app database within one overall deadline, as
``check`` does: a server that answers one byte a second cannot hold them (the
peer is a real socket on 127.0.0.1 that trickles a PostgreSQL greeting)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.errors import SourceError
from billdrift.onboarding.doctor import run_doctor
from billdrift.onboarding.init import read_catalog
from tests.fakes.trickle import TrickleServer
from tests.infra.db.test_deadline import PG_TRICKLE, SLACK, UNCUT


def test_doctor_ends_a_trickling_app_database_at_app_timeout_seconds(tmp_path: Path) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text("[app]\ntimeout_seconds = 2\n", encoding="utf-8")
    with TrickleServer(PG_TRICKLE, read_request=False) as server:
        url = f"postgresql://admin:pw@127.0.0.1:{server.port}/app"
        report = run_doctor(str(config), app=url)
        took = server.since_first_connection()  # doctor's other checks aside
    (app,) = [check for check in report.checks if check.name == "app source"]
    assert app.status == "fail"
    assert "no complete answer within 2 s" in app.detail and "app.timeout_seconds" in app.detail
    assert took < 2 + SLACK < UNCUT, took


def test_init_reads_a_catalog_within_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("billdrift.onboarding.init.CATALOG_SECONDS", 2.0)
    with TrickleServer(PG_TRICKLE, read_request=False) as server:
        with pytest.raises(SourceError, match="no complete answer within 2 s"):
            read_catalog(f"postgresql://admin:pw@127.0.0.1:{server.port}/app")
        took = server.since_first_connection()
    assert took < 2 + SLACK < UNCUT, took
