"""Schema version 9 (issue 18): a finding's row holds the digest of its content as the
run's text gave it (``findings.text_digest``), so a run that sees it again unchanged
parses no evidence and computes no content digest; the spans keep their content
digests, so a store written by version 8 upgrades without a spurious change. On SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from billdrift.core.found import Found
from billdrift.history import (
    HistoryStore,
    _spans,
    _sql_quiet,
    fingerprint,
    open_store,
    record_run,
    schema,
)
from billdrift.history._sql import SqlStore
from billdrift.history.postgres_store import SCHEMA as PG_SCHEMA
from tests.core.test_found import _every_kind
from tests.history.helpers import at, finding, report
from tests.history.old_stores import write_old_store
from tests.history.v8_store import TABLES, load_fixture, nightly, record_v8_scenario, snapshot

V8 = load_fixture()


def _no_content_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, computing a content digest or reading the engine's evidence
    objects fails the test."""

    def refused(*_: Any) -> Any:
        raise AssertionError("an unchanged finding's evidence was parsed")

    monkeypatch.setattr(_spans, "digest", refused)
    monkeypatch.setattr(Found, "evidence", refused)


def _spans_of(store: HistoryStore) -> list[tuple[Any, ...]]:
    assert isinstance(store, SqlStore)
    with store._snapshot():
        return store._exec("SELECT id, fingerprint, first_run FROM finding_spans ORDER BY id")


def test_a_run_seeing_the_engines_findings_again_parses_no_evidence(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = record_run(store, _every_kind(), at(0), at(0.1))
    assert len(first.new) >= 8
    spans = _spans_of(store)
    quiet: list[_sql_quiet.Quiet] = []
    real = _sql_quiet.quiet
    monkeypatch.setattr(_sql_quiet, "quiet", lambda *args: quiet.append(real(*args)) or quiet[-1])
    with monkeypatch.context() as patch:
        _no_content_digest(patch)
        # new -> ongoing: every row is written (by fingerprint), none parsed
        second = record_run(store, _every_kind(), at(1), at(1.1))
        # the nightly steady state: nothing written, nothing parsed
        third = record_run(store, _every_kind(), at(2), at(2.1))
    # neither run loaded an observation into the SQL lifecycle
    assert [(item.count, len(item.renewed)) for item in quiet] == [
        (len(first.new), len(first.new)),
        (len(first.new), 0),
    ]
    assert set(second.status_of.values()) == set(third.status_of.values()) == {"ongoing"}
    assert list(second.status_of) == list(third.status_of) == list(first.status_of)
    assert third.first_seen == first.first_seen
    assert _spans_of(store) == spans  # every finding's span continues
    for fp in first.status_of:
        assert [o.run_id for o in store.observations(fp)] == [1, 2, 3]


def test_the_same_content_written_as_another_text_continues_its_span(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text digest only ever says "the same": the same evidence with its keys in
    another order (another engine's text) is compared by content digest, continues
    its span, and the row takes the new text digest, so the next run is quiet."""
    one = finding(evidence={"billing": {"status": "active"}, "app": {"email": "A@x.io"}})
    other = finding(evidence={"app": {"email": "A@x.io"}, "billing": {"status": "active"}})
    record_run(store, report(one), at(0), at(0.1))
    record_run(store, report(one), at(1), at(1.1))
    spans = _spans_of(store)
    lifecycle = record_run(store, report(other), at(2), at(2.1))
    assert lifecycle.status_of == {fingerprint(one): "ongoing"}
    assert _spans_of(store) == spans
    with monkeypatch.context() as patch:
        _no_content_digest(patch)
        record_run(store, report(other), at(3), at(3.1))
    assert [o.run_id for o in store.observations(fingerprint(one))] == [1, 2, 3, 4]
    assert isinstance(store, SqlStore)
    with store._snapshot():
        assert store._exec("SELECT email FROM findings") == [("a@x.io",)]


def test_a_version_8_store_upgrades_and_reads_back_exactly_as_before(
    store_location: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    write_old_store(store_location, monkeypatch, 8, V8, TABLES)
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST == 9
        assert snapshot(store) == V8["expected"]
        # The first run after the upgrade compares content digests (no text digest is
        # stored yet): nothing the scenario's last runs saw has changed, so no span
        # starts; it writes the text digests, and the run after it parses nothing.
        spans = _spans_of(store)
        nightly(store, 15)
        assert _spans_of(store) == spans
        with monkeypatch.context() as patch:
            _no_content_digest(patch)
            nightly(store, 16)
        assert _spans_of(store) == spans
        upgraded = snapshot(store)
    # The same runs on a store this code wrote from the start read back the same.
    if "://" in store_location:
        request.getfixturevalue("pg").run(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        location = store_location
    else:
        location = store_location + "-fresh"
    with open_store(location) as store:
        record_v8_scenario(store)
        nightly(store, 15)
        nightly(store, 16)
        assert snapshot(store) == upgraded


def test_this_code_reads_back_what_version_8_read_for_the_same_runs(
    store: HistoryStore,
) -> None:
    record_v8_scenario(store)
    assert snapshot(store) == V8["expected"]
