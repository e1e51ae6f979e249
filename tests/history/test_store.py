"""The store itself: migrations, refusing a newer schema, locations, isolation, reviews."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from billdrift.errors import ConfigError
from billdrift.history import (
    HistoryError,
    HistoryMissingError,
    HistoryStore,
    Review,
    fingerprint,
    open_store,
    record_run,
    schema,
)
from billdrift.history.postgres_store import PostgresStore
from billdrift.history.sqlite_store import SqliteStore
from tests.history.helpers import at, finding, report
from tests.infra.db.conftest import Database

TABLES = {
    "schema_version",
    "runs",
    "findings",
    "finding_spans",
    "reviews",
    "fix_applications",
}


def _tables(store_location: str, database: Database | None) -> set[str]:
    if database is None:
        with sqlite3.connect(store_location) as con:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {name for (name,) in rows} - {"sqlite_sequence"}
    rows = database.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'billdrift'"
    )
    return {name for (name,) in rows}


def _execute(store_location: str, database: Database | None, sql: str) -> None:
    if database is None:
        with sqlite3.connect(store_location) as con:
            con.execute(sql)
    else:
        database.execute(sql.replace("schema_version", "billdrift.schema_version"))


@pytest.fixture
def database(request: pytest.FixtureRequest, store_location: str) -> Database | None:
    """The PostgreSQL database behind store_location, or None for SQLite."""
    if store_location.startswith("postgresql://"):
        pg: Database = request.getfixturevalue("pg")
        return pg
    return None


def test_migrations_create_every_table_from_an_empty_store(
    store_location: str, database: Database | None
) -> None:
    schema.check_numbering()
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST
    assert _tables(store_location, database) == TABLES
    # Opening again applies nothing twice.
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST
        assert store.recent_runs() == []


def test_a_store_newer_than_the_code_is_refused_and_left_alone(
    store_location: str, database: Database | None
) -> None:
    with open_store(store_location) as store:
        record_run(store, report(finding()), at(0), at(0.1))
    newer = schema.LATEST + 1
    _execute(
        store_location,
        database,
        "INSERT INTO schema_version (version, description, applied_at, billdrift_version) "
        f"VALUES ({newer}, 'from the future', '2030-01-01T00:00:00.000000Z', '9.0')",
    )
    with pytest.raises(HistoryError, match=rf"schema version {newer}, newer than this billdrift"):
        open_store(store_location)
    _execute(store_location, database, f"DELETE FROM schema_version WHERE version = {newer}")
    with open_store(store_location) as store:
        assert len(store.recent_runs()) == 1


def test_reading_a_store_that_was_never_written_is_an_error_not_a_new_store(
    store_location: str, database: Database | None
) -> None:
    with pytest.raises(HistoryMissingError, match="no history store"):
        open_store(store_location, create=False)
    if database is None:
        assert not Path(store_location).exists()
    else:
        assert _tables(store_location, database) == set()


def test_the_backend_follows_the_location(tmp_path: Path, pg: Database) -> None:
    with open_store(tmp_path / "a" / "b.sqlite") as store:
        assert isinstance(store, SqliteStore)
    with open_store(pg.url) as store:
        assert isinstance(store, PostgresStore)
        assert "adminpw" not in store.shown and "***" in store.shown


def test_sqlite_urls_and_env_names_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg: Database
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///rel/history.sqlite") as store:
        assert isinstance(store, SqliteStore)
    assert (tmp_path / "rel" / "history.sqlite").exists()
    monkeypatch.setenv("HISTORY_URL", pg.url)
    with open_store("env:HISTORY_URL") as store:
        assert isinstance(store, PostgresStore)
        assert store.shown.startswith("env:HISTORY_URL")
    monkeypatch.setenv("BILLDRIFT_HISTORY", str(tmp_path / "from_env.sqlite"))
    with open_store() as store:
        assert store.shown == str(tmp_path / "from_env.sqlite")


def test_mysql_is_not_a_history_store(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SQLite file or a PostgreSQL database"):
        open_store("mysql://u:secret@localhost/db")


def test_the_sqlite_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    open_store(path).close()
    assert path.stat().st_mode & 0o077 == 0


def test_the_directories_created_for_the_sqlite_file_are_private_too(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    before = os.umask(0o022)
    try:
        open_store(tmp_path / ".billdrift" / "runs" / "history.sqlite").close()
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / ".billdrift").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".billdrift" / "runs").stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # the user's, left alone


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database " * 100)
    with pytest.raises(HistoryError, match="not a billdrift history store"):
        open_store(path)


def test_postgres_keeps_to_its_own_schema(pg: Database) -> None:
    pg.run(
        "CREATE TABLE runs (id INT PRIMARY KEY, note TEXT)",
        "INSERT INTO runs VALUES (1, 'the app''s own table')",
    )
    with open_store(pg.url) as store:
        record_run(store, report(finding()), at(0), at(0.1))
    assert pg.execute("SELECT id, note FROM public.runs") == [(1, "the app's own table")]
    public = pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )
    assert public == [("runs",)]
    assert pg.execute("SELECT count(*) FROM billdrift.runs") == [(1,)]


def test_a_wrong_postgres_password_is_an_error_without_the_password(pg: Database) -> None:
    url = pg.url_as("admin", "not-the-password-xyz")
    with pytest.raises(HistoryError) as caught:
        open_store(url)
    assert "not-the-password-xyz" not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_user_without_create_gets_a_clear_message(pg: Database) -> None:
    pg.run(
        "CREATE ROLE history_reader LOGIN PASSWORD 'readerpw'",
        f"REVOKE CREATE ON DATABASE {pg.name} FROM PUBLIC",
    )
    with pytest.raises(HistoryError, match="CREATE SCHEMA billdrift AUTHORIZATION"):
        open_store(pg.url_as("history_reader", "readerpw"))
    pg.run("DROP ROLE history_reader")


def test_reviews_are_append_only_and_returned_per_fingerprint(store: HistoryStore) -> None:
    one, two = finding(account="u1"), finding(account="u2", customer="cus_2")
    record_run(store, report(one, two), at(0), at(0.1))
    fp1, fp2 = fingerprint(one), fingerprint(two)
    store.add_review(
        Review(fingerprint=fp1, action="noted", note="called them", who="ann", at=at(1))
    )
    saved = store.add_review(
        Review(
            fingerprint=fp1,
            action="snoozed",
            note="waiting on the bank",
            who="bob",
            at=at(2),
            until=at(48),
            opened_run=1,
        )
    )
    assert saved.review_id is not None
    reviews = store.reviews_for([fp1, fp2, "0" * 64])
    assert list(reviews) == [fp1]
    assert [(r.action, r.note, r.who) for r in reviews[fp1]] == [
        ("noted", "called them", "ann"),
        ("snoozed", "waiting on the bank", "bob"),
    ]
    assert reviews[fp1][1].until == at(48) and reviews[fp1][1].opened_run == 1
    assert reviews[fp1][0].at == at(1)
    assert store.reviews_for([]) == {}


def test_a_review_must_name_a_known_finding(store: HistoryStore) -> None:
    with pytest.raises(HistoryError):
        store.add_review(Review(fingerprint="f" * 64, action="noted", note="x", who="a", at=at(0)))


def test_fingerprint_prefixes(store: HistoryStore) -> None:
    record_run(store, report(finding()), at(0), at(0.1))
    fp = fingerprint(finding())
    assert store.fingerprints_starting(fp[:6]) == [fp]
    assert store.fingerprints_starting("ffff" if not fp.startswith("ffff") else "0000") == []


def test_a_later_migration_upgrades_a_store_and_keeps_its_data(
    store_location: str, database: Database | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(store_location) as store:
        record_run(store, report(finding()), at(0), at(0.1))
    later = schema.LATEST + 1
    added = schema.Migration(later, "runs.host", ("ALTER TABLE runs ADD COLUMN host TEXT",))
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, added))
    monkeypatch.setattr(schema, "LATEST", later)
    with open_store(store_location) as store:
        assert store.schema_version() == later
        assert len(store.recent_runs()) == 1
        assert store.open_findings()[0].fingerprint == fingerprint(finding())
    if database is None:
        with sqlite3.connect(store_location) as con:
            columns = [row[1] for row in con.execute("PRAGMA table_info(runs)")]
    else:
        columns = [
            name
            for (name,) in database.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'billdrift' AND table_name = 'runs'"
            )
        ]
    assert "host" in columns


def test_a_failing_migration_changes_nothing(
    store_location: str, database: Database | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(store_location) as store:
        record_run(store, report(finding()), at(0), at(0.1))
    later = schema.LATEST + 1
    broken = schema.Migration(
        later, "half of it works", ("CREATE TABLE extra (id INTEGER)", "THIS IS NOT SQL")
    )
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    monkeypatch.setattr(schema, "LATEST", later)
    with pytest.raises(HistoryError):
        open_store(store_location)
    monkeypatch.undo()
    with open_store(store_location) as store:
        assert store.schema_version() == later - 1
        assert len(store.recent_runs()) == 1
    assert "extra" not in _tables(store_location, database)


def test_a_finding_seen_again_has_every_lifecycle_column_written() -> None:
    """Findings seen again are updated by one statement over the run
    (billdrift.history._sql_record): a column left out of it would keep its value
    from the run that inserted the finding."""
    import re

    from billdrift.history._sql_record import _UPDATE_CHANGED
    from billdrift.history._sql_rows import FINDING_MUTABLE

    assigned = set(re.findall(r"^  (\w+) = ", _UPDATE_CHANGED, re.MULTILINE))
    assert assigned == {*FINDING_MUTABLE, "last_span", "email", "seen_live", "text_digest"}
