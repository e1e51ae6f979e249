"""Doctor, app side: the source is reachable, and then what ``check`` will read from it.

A database is connected to (and asked whether the session is read-only and
whether these credentials could write); a CSV or SQLite file is looked at and
then read through its source, as ``check`` will. Choosing the table and
mapping its columns live in :mod:`~billdrift.onboarding.doctor.app_table`, the
column types in :mod:`~billdrift.onboarding.doctor.column_types`.
"""

from __future__ import annotations

import os
from pathlib import Path

from billdrift.config import AppConfig, Policy
from billdrift.core.model import Skip
from billdrift.errors import BilldriftError, ConfigError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Deadline, Timeouts, bounded
from billdrift.infra.db.interface import Column, ReadOnlyConnection
from billdrift.infra.db.urls import DatabaseUrl, resolve
from billdrift.onboarding.catalog import (
    Catalog,
    app_kind,
    csv_catalog,
    database_catalog,
    sqlite_catalog,
)
from billdrift.onboarding.doctor.app_table import Target, choose_target, columns_check
from billdrift.onboarding.doctor.column_types import types_check
from billdrift.onboarding.doctor.report import Collector, fail, ok, warn
from billdrift.onboarding.doctor.rows import read_rows
from billdrift.onboarding.doctor.wording import many, url_fix
from billdrift.sources.app.sqlite import open_sqlite
from billdrift.sources.app.sqlite_file import database_path, is_sqlite_file
from billdrift.sources.registry import open_app


def app_checks(run: Collector, options: AppConfig, policy: Policy) -> None:
    location = options.source
    if not location:
        run.add(
            fail(
                "app source",
                "no app input",
                "pass --app FILE_OR_URL, or set app.source in the config file",
            )
        )
        return
    try:
        kind = app_kind(location)
    except BilldriftError as error:
        run.add(fail("app source", str(error), "check the path or URL given as app.source / --app"))
        return
    if kind == "database":
        _database_app(run, location, options, policy)
    else:
        _file_app(run, location, options, policy, kind)


def _database_app(run: Collector, location: str, options: AppConfig, policy: Policy) -> None:
    try:
        url = resolve(location)
    except ConfigError as error:
        run.add(fail("app source", str(error), url_fix(str(error), location)))
        return
    run.urls.append(url)
    if url.dialect == "sqlite":  # env:NAME may hold a sqlite:/// URL
        _file_app(run, url.raw, options, policy, "sqlite")
        return
    # One overall deadline for the whole conversation, as `check` reads within it.
    limits = Timeouts(options.timeout_seconds, "app.timeout_seconds")
    with bounded(url.shown, limits) as deadline:
        _database_checks(run, url, location, options, deadline)


def _database_checks(
    run: Collector, url: DatabaseUrl, location: str, options: AppConfig, deadline: Deadline
) -> None:
    try:
        conn = connect(url, deadline)
    except BilldriftError as error:
        if deadline.passed():
            raise  # said as the deadline, by bounded()
        run.add(fail("app source", str(error), url_fix(str(error), location)))
        return
    with conn:
        run.add(ok("app source", f"connected to {url.shown} ({conn.server_version()})"))
        catalog = database_catalog(conn)
        target = choose_target(run, catalog, options, conn.query_columns, conn.qualify)
        if target is not None and (mapping := columns_check(run, target, options)):
            types_check(run, target, mapping)
            _count_check(run, conn, target)
        _read_only_session(run, conn)
        _write_privileges(run, conn, catalog, target)


def _read_only_session(run: Collector, conn: ReadOnlyConnection) -> None:
    if conn.read_only():
        run.add(ok("app read-only session", "the server confirms the session is read-only"))
    else:
        run.add(
            fail(
                "app read-only session",
                "the server does not confirm a read-only session",
                "connect to a server or replica that supports read-only transactions",
            )
        )


def _write_privileges(
    run: Collector, conn: ReadOnlyConnection, catalog: Catalog, target: Target | None
) -> None:
    tables = list(target.tables) if target and target.tables else []
    if not tables:  # a query, or no table found: every table the role can see
        tables = [table.qualified for table in catalog.tables if table.kind == "table"]
    found = conn.write_access(tables)
    if not found:
        run.add(ok("app write privileges", "these credentials cannot write (SELECT only)"))
        return
    run.add(
        warn(
            "app write privileges",
            f"these credentials could write: {'; '.join(found)}; billdrift only reads",
            "create a read-only role and use it in the URL:\n" + conn.read_only_role_sql(tables),
        )
    )


def _count_check(run: Collector, conn: ReadOnlyConnection, target: Target) -> None:
    if target.count_sql is None:
        return
    rows = conn.fetch(target.count_sql)
    count = int(rows[0][0]) if rows else 0
    if count == 0:
        run.add(
            fail(
                "app rows",
                f"{target.label} has no rows; `check` would stop with an error",
                "point app.source at the database that holds the accounts, or correct "
                "app.table / app.query",
            )
        )
        return
    run.add(ok("app rows", f"{many(count, 'rows')} in {target.label}"))


def _file_app(run: Collector, location: str, options: AppConfig, policy: Policy, kind: str) -> None:
    path = database_path(location) if kind == "sqlite" else Path(location)
    what = "SQLite database" if kind == "sqlite" else "CSV file"
    problem = _file_problem(path, what)
    if problem is not None:
        run.add(
            fail(
                "app source",
                problem,
                "check the path given as app.source / --app "
                "(a relative path is taken from the directory billdrift runs in)",
            )
        )
        return
    if kind == "sqlite" and path.stat().st_size and not is_sqlite_file(path):
        run.add(
            fail(
                "app source",
                f"{path} is not a SQLite database (no SQLite header)",
                "point app.source at the database file, or at a CSV export",
            )
        )
        return
    run.add(ok("app source", f"{path}: {what}, {path.stat().st_size:,} bytes"))
    if kind == "sqlite":
        target = _sqlite_target(run, location, options)
    else:
        target = _csv_target(run, location, options)
    if target is None:
        return
    mapping = columns_check(run, target, options)
    if mapping is None:
        return
    types_check(run, target, mapping)
    read_rows(run, "app rows", lambda: _app_counts(location, options), policy, "accounts")


def _file_problem(path: Path, what: str) -> str | None:
    if not path.exists():
        return f"{what} not found: {path}"
    if path.is_dir():
        return f"{path} is a directory; expected a {what}"
    if not os.access(path, os.R_OK):
        return f"cannot read {path}: permission denied"
    return None


def _csv_target(run: Collector, location: str, options: AppConfig) -> Target | None:
    try:
        catalog = csv_catalog(location, options.encoding)
    except BilldriftError as error:
        run.add(fail("app columns", str(error), "export the accounts again with a header row"))
        return None
    return Target(f"the header of {catalog.shown}", catalog.tables[0].columns)


def _sqlite_target(run: Collector, location: str, options: AppConfig) -> Target | None:
    path, con = open_sqlite(location)
    try:
        catalog = sqlite_catalog(con, path.name)

        def query_columns(query: str) -> list[Column]:
            try:
                cursor = con.execute(f"SELECT * FROM (\n{query}\n) AS q LIMIT 0")
            except Exception as error:
                raise ConfigError(f"app.query failed on {path.name}: {error}") from None
            return [Column(str(column[0]), "") for column in cursor.description]

        return choose_target(run, catalog, options, query_columns, lambda name: name)
    finally:
        con.close()


def _app_counts(location: str, options: AppConfig) -> tuple[int, tuple[Skip, ...]]:
    data = open_app(location, options).read()
    return data.accounts.num_rows, data.skips
