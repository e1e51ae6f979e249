"""The quiet observations (:mod:`billdrift.history._sql_quiet`): a full run's findings
seen again unchanged skip the SQL lifecycle, and that changes nothing. Seeded random
sequences of runs (changes, gaps, duplicates in a run, excused findings, ERROR runs,
kept findings, targeted runs, reviews between runs) are recorded twice, with and
without the shortcut; the lifecycles, what the store reads back and its rows must be
identical, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from billdrift.core.model import Finding, Kind, Severity, Skip
from billdrift.core.report import Suppressed
from billdrift.history import Review, _sql_quiet, fingerprint, open_store, record_run
from billdrift.history._sql import SqlStore
from billdrift.history.lifecycle import Lifecycle, Scope
from billdrift.history.postgres_store import SCHEMA
from tests.history.helpers import at, error_report, finding, report
from tests.history.v6_store import snapshot

POOL = [finding(Kind.PAID_BUT_BLOCKED, f"u{i}", f"cus_{i % 5}", f"sub_{i}") for i in range(6)] + [
    finding(Kind.ORPHANED_SUBSCRIPTION, None, None, "sub_x", severity=Severity.MEDIUM)
]


def _variant(item: Finding, rng: random.Random) -> Finding:
    roll = rng.random()
    if roll < 0.1:
        return dataclasses.replace(item, severity=Severity.MEDIUM)
    if roll < 0.2:
        return dataclasses.replace(item, evidence={"app": {"email": f"a{rng.randint(0, 1)}@x.io"}})
    return item


def _runs(seed: int, count: int) -> list[tuple[str, Any]]:
    """The sequence: ("run", (report, scope)) or ("review", fingerprint)."""
    rng = random.Random(seed)
    steps: list[tuple[str, Any]] = []
    variants = {fingerprint(item): item for item in POOL}
    for _ in range(count):
        for fp in list(variants):
            if rng.random() < 0.1:
                variants[fp] = _variant(variants[fp], rng)
        roll = rng.random()
        seen = [item for item in variants.values() if rng.random() < 0.9]
        if roll < 0.05:
            steps.append(("run", (error_report(), None)))
            continue
        if roll < 0.25:
            customers = frozenset(rng.sample([f"cus_{i}" for i in range(5)], 2))
            seen = [item for item in seen if item.customer_id in customers]
            held = ()  # a customer it names but could not read: its findings are kept
            if rng.random() < 0.5:
                held = (Skip("app", "app.csv", "line 3", "bad", customer_id=min(customers)),)
            steps.append(("run", (report(*seen, skips=held), Scope(customers))))
            continue
        excused = tuple(Suppressed(item, "contract") for item in seen if rng.random() < 0.1)
        kept = {id(s.finding) for s in excused}
        shown = [item for item in seen if id(item) not in kept]
        shown += [item for item in shown if rng.random() < 0.05]  # twice in one run
        skips = ()
        if rng.random() < 0.1:
            skips = (
                Skip("app", "app.csv", "line 2", "bad", customer_id=f"cus_{rng.randint(0, 4)}"),
            )
        steps.append(("run", (report(*shown, suppressed=excused, skips=skips), None)))
        if rng.random() < 0.3:
            steps.append(("review", fingerprint(rng.choice(POOL))))
    return steps


def _record(
    location: str, steps: list[tuple[str, Any]], forget: bool = False
) -> tuple[list[Any], Any, Any]:
    """Record `steps`; `forget`: every finding's text digest dropped after each run (as
    if each run were the first after an upgrade to schema version 9). The findings'
    rows are compared without their text digests (the last column)."""
    lifecycles: list[Any] = []
    with open_store(location) as store:
        assert isinstance(store, SqlStore)
        for index, (what, value) in enumerate(steps):
            if what == "review":
                if store.finding(value) is not None:
                    action = ("acknowledged", "noted", "snoozed")[index % 3]
                    until = at(index + 5) if action == "snoozed" else None
                    store.add_review(
                        Review(
                            fingerprint=value,
                            action=action,  # type: ignore[arg-type]
                            note="n",
                            who="ann",
                            at=at(index + 0.5),
                            until=until,
                        )
                    )
                continue
            given, scope = value
            lifecycle = record_run(store, given, at(index), at(index + 0.1), scope=scope)
            lifecycles.append(_plain(lifecycle))
            if forget:
                with store._locked():
                    store._exec("UPDATE findings SET text_digest = NULL")
        with store._snapshot():
            findings = store._exec("SELECT * FROM findings ORDER BY fingerprint")
            texts = store._exec("SELECT text_digest FROM findings ORDER BY fingerprint")
            assert [row[-1:] for row in findings] == texts
            rows = (
                [row[:-1] for row in findings],
                store._exec("SELECT * FROM finding_spans ORDER BY id"),
            )
        return lifecycles, snapshot(store), rows


def _plain(lifecycle: Lifecycle) -> tuple[Any, ...]:
    """The lifecycle with its mappings' order (what renderers iterate)."""
    return (
        lifecycle,
        list(lifecycle.status_of.items()),
        list(lifecycle.first_seen.items()),
        list(lifecycle.decisions.items()),
        list(lifecycle.reviews.items()),
    )


@pytest.mark.parametrize(
    ("backend", "seed"), [("sqlite", 1), ("sqlite", 2), ("sqlite", 3), ("postgresql", 4)]
)
def test_quiet_observations_record_exactly_what_the_sql_lifecycle_records(
    backend: str,
    seed: int,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    steps = _runs(seed, 30)
    if backend == "sqlite":
        locations = iter(str(tmp_path / f"{name}.sqlite") for name in ("a", "b", "c", "d"))
    else:  # one database: the store's schema dropped between the recordings
        database = request.getfixturevalue("pg")
        locations = iter([database.url] * 4)

    def fresh() -> str:
        if backend == "postgresql":
            database.run(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        return next(locations)

    calls: list[int] = []
    real = _sql_quiet.quiet

    def counted(*args: Any) -> _sql_quiet.Quiet:
        found = real(*args)
        calls.append(found.count)
        return found

    monkeypatch.setattr(_sql_quiet, "quiet", counted)
    shortcut = _record(fresh(), steps)
    assert sum(calls) > 25  # the shortcut was taken, often
    known = [0]

    def unknown(*args: Any) -> _sql_quiet.Quiet:
        found = real(*args)
        known[0] += len(found.known)
        return dataclasses.replace(found, known=set())

    # Every observation that is not quiet has its content digest and address computed
    # (none taken from the store by its text digest).
    monkeypatch.setattr(_sql_quiet, "quiet", unknown)
    assert _record(fresh(), steps) == shortcut
    assert known[0] > 5  # the stored text digests spared some
    monkeypatch.setattr(_sql_quiet, "quiet", lambda *args: None)  # every observation in SQL
    assert _record(fresh(), steps) == shortcut
    # No text digest ever stored: every finding compared by its content digest, each
    # seen-again row written (when it was last seen, as the first run after an upgrade
    # writes it), and the same lifecycles, read-back and spans.
    monkeypatch.setattr(_sql_quiet, "quiet", real)
    lifecycles, read_back, (_, spans) = _record(fresh(), steps, forget=True)
    assert (lifecycles, read_back, spans) == (shortcut[0], shortcut[1], shortcut[2][1])
