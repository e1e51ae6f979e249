"""``billdrift doctor``: is this set-up ready for ``billdrift check``, and if not, why?

Each check has a name, a status (``ok``, ``warn`` or ``fail``), a detail and,
for every warning or failure, a concrete fix. The checks follow the path a
``check`` run takes: the config file, the environment variables it names,
the app side (reachable, the table, the mapped columns and their types, the
row count, read-only) and every billing input (recognized, rows). A failure
stops only the checks that depend on it, so one run shows every independent
problem. Nothing is written, and no secret is shown: database URLs appear
redacted, environment variables by name, and every text is scrubbed once more
before it leaves :func:`run_doctor`.

Exit codes follow ``check``: 0 all ok, 1 warnings only, 2 any failure.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from billdrift.config import AppConfig, Config, Policy, load_config
from billdrift.core.model import Skip
from billdrift.errors import EXIT_DRIFT, EXIT_ERROR, EXIT_PASS, BilldriftError, ConfigError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.interface import Column, ReadOnlyConnection
from billdrift.infra.db.urls import ENV_PREFIX, DatabaseUrl, is_database_url, resolve
from billdrift.onboarding.accounts import no_fit_message, survey
from billdrift.onboarding.catalog import (
    Catalog,
    app_kind,
    csv_catalog,
    database_catalog,
    sqlite_catalog,
)
from billdrift.onboarding.secrets import APP_URL_VARIABLE, carries_secret, scrub_urls, shown
from billdrift.sources.app.columns import ColumnMapping, detect_columns
from billdrift.sources.app.sqlite import (
    check_read_only_query,
    database_path,
    is_sqlite_file,
    open_sqlite,
)
from billdrift.sources.registry import billing_kinds, open_app, open_billing

Status = Literal["ok", "warn", "fail"]

#: Provider credentials billdrift may read from the environment (names only are shown).
PROVIDER_KEYS: Final = ("STRIPE_API_KEY", "STRIPE_SECRET_KEY", "PADDLE_API_KEY")
WIDTH: Final = 80
_ORDER: Final[dict[str, int]] = {"ok": 0, "warn": 1, "fail": 2}
_INIT_HINT: Final = "`billdrift init --app FILE_OR_URL --force` drafts a config that maps them"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    #: What to do about it; None when the check is ok.
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def status(self) -> Status:
        worst = max((_ORDER[check.status] for check in self.checks), default=0)
        return "fail" if worst == 2 else "warn" if worst == 1 else "ok"

    @property
    def exit_code(self) -> int:
        return {"ok": EXIT_PASS, "warn": EXIT_DRIFT, "fail": EXIT_ERROR}[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"checks": [check.as_dict() for check in self.checks], "status": self.status}


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, "warn", detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


# --------------------------------------------------------------------------- the run


@dataclass
class _Run:
    """Checks collected so far, and every URL seen (to scrub their passwords)."""

    checks: list[Check] = field(default_factory=list)
    urls: list[DatabaseUrl] = field(default_factory=list)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def guarded(self, name: str, step: Callable[[], None]) -> None:
        """Run one group of checks; an unexpected error becomes a failed check, not a crash."""
        try:
            step()
        except Exception as error:
            message = (
                str(error)
                if isinstance(error, BilldriftError)
                else (f"internal error: {type(error).__name__}: {error}")
            )
            self.add(fail(name, message, "rerun with --debug and report it if it persists"))

    def scrub(self, text: str | None) -> str | None:
        if text is None:
            return None
        for url in self.urls:
            text = url.scrub(text)
        for key in PROVIDER_KEYS:
            value = os.environ.get(key, "").strip()
            if len(value) >= 8:
                text = text.replace(value, "***")
        return scrub_urls(text)

    def report(self) -> DoctorReport:
        return DoctorReport(
            tuple(
                Check(
                    check.name,
                    check.status,
                    self.scrub(check.detail) or "",
                    self.scrub(check.fix),
                )
                for check in self.checks
            )
        )


def run_doctor(
    config_path: str | None = None,
    app: str | None = None,
    app_table: str | None = None,
    billing: Sequence[str] = (),
) -> DoctorReport:
    """Every check, in the order ``check`` would meet the problems."""
    run = _Run()
    config = _config_checks(run, config_path)
    options = config.app
    if app:
        options = options.model_copy(update={"source": app})
    if app_table:
        options = options.model_copy(update={"table": app_table})
    sources = tuple(billing) or config.billing.sources
    run.guarded("environment", lambda: _environment_checks(run, options, sources))
    run.guarded("app source", lambda: _app_checks(run, options, config.policy))
    run.guarded("billing source", lambda: _billing_checks(run, config, sources))
    return run.report()


# --------------------------------------------------------------------------- config


def _config_checks(run: _Run, path: str | None) -> Config:
    if path is None:
        run.add(ok("config", "no config file given: defaults and command-line options apply"))
        return Config()
    try:
        config = load_config(path)
    except ConfigError as error:
        message = str(error)
        if "not found" in message:
            fix = f"check the path, or create one with {_INIT_HINT.split('`')[1]}"
        elif "not valid TOML" in message:
            fix = f"correct the TOML syntax in {path} at the line named"
        else:
            fix = (
                f"correct the keys named in {path} (see the configuration reference in the README)"
            )
        run.add(fail("config", message, fix))
        return Config()
    run.add(ok("config", f"{path} loads and is valid"))
    in_file = [("app.source", config.app.source)]
    in_file += [("billing.sources", source) for source in config.billing.sources]
    keys = sorted({key for key, value in in_file if value and carries_secret(value)})
    if keys:
        run.add(
            warn(
                "config secrets",
                f"{path} holds a database password ({', '.join(keys)})",
                f"keep the URL in an environment variable (export {APP_URL_VARIABLE}=...) and "
                f'write source = "{ENV_PREFIX}{APP_URL_VARIABLE}" in {path} instead',
            )
        )
    return config


# --------------------------------------------------------------------------- environment


def _environment_checks(run: _Run, options: AppConfig, sources: Sequence[str]) -> None:
    referenced: dict[str, str] = {}
    named = [("app.source", options.source)]
    named += [("billing", _without_kind(source)) for source in sources]
    for where, value in named:
        if value and value.startswith(ENV_PREFIX):
            referenced.setdefault(value[len(ENV_PREFIX) :].strip(), where)
    for name, where in referenced.items():
        check = f"env {name}"
        if not os.environ.get(name, "").strip():
            run.add(
                fail(
                    check,
                    f"environment variable {name} is not set ({where} is {ENV_PREFIX}{name})",
                    f"export {name}='postgresql://user:password@host:5432/dbname' (the "
                    f"database's URL) before running billdrift, or change {where}",
                )
            )
            continue
        try:
            url = resolve(f"{ENV_PREFIX}{name}")
        except ConfigError as error:
            run.add(
                fail(check, str(error), f"set {name} to a URL like postgresql://user:pw@host/db")
            )
            continue
        run.urls.append(url)
        run.add(ok(check, f"{name} is set (a {url.dialect} URL, used by {where})"))
    states = [f"{key} {'set' if os.environ.get(key) else 'not set'}" for key in PROVIDER_KEYS]
    files = bool(sources) and all(not is_database_url(_without_kind(s)) for s in sources)
    needed = " (not needed: billing is read from files)" if files else ""
    run.add(ok("provider keys", f"{', '.join(states)}{needed}"))


# --------------------------------------------------------------------------- app side


@dataclass(frozen=True)
class _Target:
    """What ``check`` will read on the app side."""

    label: str
    columns: tuple[Column, ...]
    #: count(*) of the rows (databases); None: count by reading through the source.
    count_sql: str | None = None
    #: Tables read, for privilege checks (qualified names).
    tables: tuple[str, ...] = ()


def _app_checks(run: _Run, options: AppConfig, policy: Policy) -> None:
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


def _database_app(run: _Run, location: str, options: AppConfig, policy: Policy) -> None:
    try:
        url = resolve(location)
    except ConfigError as error:
        run.add(fail("app source", str(error), _url_fix(str(error), location)))
        return
    run.urls.append(url)
    if url.dialect == "sqlite":  # env:NAME may hold a sqlite:/// URL
        _file_app(run, url.raw, options, policy, "sqlite")
        return
    try:
        conn = connect(url)
    except BilldriftError as error:
        run.add(fail("app source", str(error), _url_fix(str(error), location)))
        return
    with conn:
        run.add(ok("app source", f"connected to {url.shown} ({conn.server_version()})"))
        catalog = database_catalog(conn)
        target = _choose_target(run, catalog, options, conn.query_columns, conn.qualify)
        if target is not None and (mapping := _columns_check(run, target, options)):
            _types_check(run, target, mapping)
            _count_check(run, conn, target)
        _read_only_session(run, conn)
        _write_privileges(run, conn, catalog, target)


def _read_only_session(run: _Run, conn: ReadOnlyConnection) -> None:
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
    run: _Run, conn: ReadOnlyConnection, catalog: Catalog, target: _Target | None
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


def _choose_target(
    run: _Run,
    catalog: Catalog,
    options: AppConfig,
    query_columns: Callable[[str], Sequence[Column]],
    qualify: Callable[[str], str],
) -> _Target | None:
    """The configured query or table, or the one table that looks like accounts."""
    name = "app table"
    if options.query is not None:
        try:
            query = check_read_only_query(options.query)
            columns = tuple(query_columns(query))
        except BilldriftError as error:
            run.add(fail(name, str(error), "correct app.query: one read-only SELECT statement"))
            return None
        run.add(ok(name, f"app.query runs and returns {len(columns)} columns"))
        return _Target("the result of app.query", columns, _count(f"(\n{query}\n) AS q"))
    if options.table is not None:
        try:
            table = catalog.find(options.table)
        except ConfigError as error:
            run.add(fail(name, str(error), "set app.table (or --app-table) to an existing table"))
            return None
        run.add(ok(name, f"{catalog.table_name(table)} exists ({len(table.columns)} columns)"))
    else:
        fits, misfits = survey(catalog, options)
        if not fits:
            run.add(
                fail(
                    name,
                    no_fit_message(catalog, misfits),
                    "set app.table to the table "
                    "that holds your accounts, and map its columns; " + _INIT_HINT,
                )
            )
            return None
        if len(fits) > 1:
            names = ", ".join(fit.name for fit in fits)
            run.add(
                fail(
                    name,
                    f"no app.table set, and several tables look like accounts: {names}",
                    f"set app.table (or pass --app-table) to one of them; {fits[0].name} "
                    "looks most likely (it is what `billdrift init` picks)",
                )
            )
            return None
        table = fits[0].table
        run.add(ok(name, f"no app.table set; {fits[0].name} is the one table like accounts"))
    label = f"table {catalog.table_name(table)!r} of {catalog.shown}"
    return _Target(label, table.columns, _count(qualify(table.qualified)), (table.qualified,))


def _count(from_sql: str) -> str:
    return f"SELECT count(*) FROM {from_sql}"


def _columns_check(run: _Run, target: _Target, options: AppConfig) -> ColumnMapping | None:
    try:
        mapping = detect_columns([column.name for column in target.columns], options, target.label)
    except BilldriftError as error:
        fix = (
            "name existing columns in app.columns.*, app.access_fields, app.status_fields "
            f"and app.primary_access_field; {_INIT_HINT}"
        )
        run.add(fail("app columns", str(error), fix))
        return None
    guessed = (
        f" (auto-detected: {', '.join(mapping.auto_detected)})" if mapping.auto_detected else ""
    )
    run.add(ok("app columns", f"{mapping.describe()}{guessed}"))
    return mapping


#: Base type names (arguments and sign left out) by kind, for PostgreSQL, MySQL/MariaDB
#: (``information_schema`` names and PyMySQL's result-type names) and SQLite.
_TYPE_KINDS: Final[dict[str, frozenset[str]]] = {
    "boolean": frozenset({"boolean", "bool"}),
    "integer": frozenset(
        {
            "int",
            "integer",
            "smallint",
            "bigint",
            "tinyint",
            "mediumint",
            "int2",
            "int4",
            "int8",
            "serial",
            "bigserial",
            "smallserial",
            "long",
            "longlong",
            "short",
            "int24",
            "tiny",
            "bit",
        }
    ),
    "text": frozenset(
        {
            "text",
            "varchar",
            "char",
            "character",
            "character varying",
            "nvarchar",
            "nchar",
            "tinytext",
            "mediumtext",
            "longtext",
            "enum",
            "set",
            "citext",
            "string",
            "var_string",
            "varstring",
            "name",
            "bpchar",
            "clob",
            "blob",
            "tinyblob",
            "mediumblob",
            "longblob",
        }
    ),
    "number": frozenset(
        {
            "numeric",
            "decimal",
            "newdecimal",
            "float",
            "float4",
            "float8",
            "double",
            "double precision",
            "real",
            "money",
        }
    ),
    "json": frozenset({"json", "jsonb"}),
    "binary": frozenset({"bytea", "binary", "varbinary", "geometry", "point"}),
}
_TIME_PREFIXES: Final = ("timestamp", "datetime", "date", "time", "interval", "year", "newdate")
_BASE: Final = re.compile(r"[a-z_][a-z0-9_ ]*")
_SIGN: Final = re.compile(r"\s+(?:unsigned|signed|zerofill)\b")


def type_kind(type_name: str) -> str:
    """A database type name as one of: boolean, integer, text, number, time, json,
    binary, array, other; "" when there is no type (a CSV column, an untyped SQLite one)."""
    name = type_name.strip().lower()
    if not name:
        return ""
    if name.endswith("[]") or name.startswith("_") or name == "array":
        return "array"  # PostgreSQL names array types text[] (or _text internally)
    if name in ("tinyint(1)", "bit(1)"):  # MySQL's BOOLEAN
        return "boolean"
    match = _BASE.match(name)
    base = _SIGN.sub("", match.group(0)).strip() if match else name
    if base.startswith(_TIME_PREFIXES):
        return "time"
    for kind, names in _TYPE_KINDS.items():
        if base in names:
            return kind
    return "other"


def _field_type_problem(column: str, type_name: str, field_kind: str) -> tuple[Status, str] | None:
    kind = type_kind(type_name)
    if kind == "":
        return None
    if field_kind == "flag":
        if kind in ("boolean", "integer", "text"):
            return None
        if kind in ("time", "json", "binary", "array"):
            return (
                "fail",
                f"{column} is {type_name}, not a yes/no value: as an access flag every row "
                "would be unreadable or misread",
            )
        return ("warn", f"{column} is {type_name}: only 0/1 and true/false values are read")
    if kind in ("text", "other"):
        return None
    if kind in ("boolean", "integer"):
        return ("warn", f"{column} is {type_name}; a status field holds text like 'active'")
    return ("fail", f"{column} is {type_name}, not a status text like 'active' or 'canceled'")


def _types_check(run: _Run, target: _Target, mapping: ColumnMapping) -> None:
    types = {column.name: column.type for column in target.columns}
    if not any(types.get(name) for name, _ in mapping.fields()):
        return  # untyped (CSV): the read itself checks the values
    problems = [
        problem
        for name, kind in mapping.fields()
        if (problem := _field_type_problem(name, types.get(name, ""), kind)) is not None
    ]
    if not problems:
        usable = ", ".join(f"{name} {types.get(name) or '?'}" for name, _ in mapping.fields())
        run.add(ok("app column types", f"access columns have usable types: {usable}"))
        return
    status: Status = "fail" if any(status == "fail" for status, _ in problems) else "warn"
    fix = (
        "map a boolean (or 0/1, or text true/false) column in app.access_fields and text "
        "status columns in app.status_fields; to derive a flag from a date, use app.query, "
        "e.g. SELECT id, stripe_customer_id, (canceled_at IS NULL) AS has_paid_access "
        "FROM users"
    )
    run.add(Check("app column types", status, "; ".join(text for _, text in problems), fix))


def _count_check(run: _Run, conn: ReadOnlyConnection, target: _Target) -> None:
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
    run.add(ok("app rows", f"{_many(count, 'rows')} in {target.label}"))


def _file_app(run: _Run, location: str, options: AppConfig, policy: Policy, kind: str) -> None:
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
    mapping = _columns_check(run, target, options)
    if mapping is None:
        return
    _types_check(run, target, mapping)
    _read_rows(run, "app rows", lambda: _app_counts(location, options), policy, "accounts")


def _many(count: int, plural: str) -> str:
    """``1 account``, ``2,000 accounts`` (plural nouns given, ending in s)."""
    return f"{count:,} {plural[:-1] if count == 1 else plural}"


def _file_problem(path: Path, what: str) -> str | None:
    if not path.exists():
        return f"{what} not found: {path}"
    if path.is_dir():
        return f"{path} is a directory; expected a {what}"
    if not os.access(path, os.R_OK):
        return f"cannot read {path}: permission denied"
    return None


def _csv_target(run: _Run, location: str, options: AppConfig) -> _Target | None:
    try:
        catalog = csv_catalog(location, options.encoding)
    except BilldriftError as error:
        run.add(fail("app columns", str(error), "export the accounts again with a header row"))
        return None
    return _Target(f"the header of {catalog.shown}", catalog.tables[0].columns)


def _sqlite_target(run: _Run, location: str, options: AppConfig) -> _Target | None:
    path, con = open_sqlite(location)
    try:
        catalog = sqlite_catalog(con, path.name)

        def query_columns(query: str) -> list[Column]:
            try:
                cursor = con.execute(f"SELECT * FROM (\n{query}\n) AS q LIMIT 0")
            except Exception as error:
                raise ConfigError(f"app.query failed on {path.name}: {error}") from None
            return [Column(str(column[0]), "") for column in cursor.description]

        return _choose_target(run, catalog, options, query_columns, lambda name: name)
    finally:
        con.close()


def _app_counts(location: str, options: AppConfig) -> tuple[int, tuple[Skip, ...]]:
    data = open_app(location, options).read()
    return data.accounts.num_rows, data.skips


def _read_rows(
    run: _Run,
    name: str,
    read: Callable[[], tuple[int, tuple[Skip, ...]]],
    policy: Policy,
    noun: str,
) -> None:
    """Read a file side through its source: row count, and whether rows would be skipped."""
    try:
        count, skips = read()
    except BilldriftError as error:
        run.add(fail(name, str(error), "fix the input named above; `billdrift check` stops here"))
        return
    if count == 0:
        run.add(
            fail(
                name,
                f"no {noun} read; `check` would stop with an error",
                "check that the export is complete (Stripe: list with status=all)",
            )
        )
        return
    if not skips:
        run.add(ok(name, f"{_many(count, noun)} read, no row skipped"))
        return
    first = skips[0]
    share = len(skips) / (count + len(skips))
    detail = (
        f"{_many(count, noun)} read, {_many(len(skips), 'rows')} skipped (first: {first.source} "
        f"{first.location}: {first.reason})"
    )
    if share > policy.max_skipped_ratio:
        run.add(
            fail(
                name,
                f"{detail}; more than policy.max_skipped_ratio ({policy.max_skipped_ratio:g})",
                "correct the skipped rows at the source; `billdrift check` lists them all",
            )
        )
    else:
        run.add(warn(name, detail, "correct the skipped rows; `billdrift check` lists them all"))


# --------------------------------------------------------------------------- billing side


def _billing_checks(run: _Run, config: Config, sources: Sequence[str]) -> None:
    if not sources:
        run.add(
            fail(
                "billing source",
                "no billing input",
                "pass --billing FILE, or set billing.sources in the config file",
            )
        )
        return
    for spec in sources:
        _billing_one(run, spec, config)


def _without_kind(spec: str) -> str:
    """``PATH`` or ``URL`` from ``KIND:PATH`` / ``KIND:URL``."""
    kind, sep, rest = spec.partition(":")
    return rest if sep and kind in billing_kinds() else spec


def _billing_one(run: _Run, spec: str, config: Config) -> None:
    target = _without_kind(spec)
    database = is_database_url(target)
    label = shown(target) if database else Path(target).name
    name = f"billing source {label}"
    where = spec
    if database:
        try:
            url = resolve(target)
            run.urls.append(url)
            with connect(url) as conn:
                where = f"connected to {url.shown} ({conn.server_version()})"
        except BilldriftError as error:
            run.add(fail(name, str(error), _url_fix(str(error), target)))
            return
    try:
        source = open_billing(spec, config.billing)
    except BilldriftError as error:
        message = str(error)
        if "cannot tell what" in message:
            fix = f"name the format as KIND:PATH, KIND one of {', '.join(billing_kinds())}"
        elif "empty" in message:
            fix = "export the subscriptions again"
        else:
            fix = "check the path given in billing.sources / --billing"
        run.add(fail(name, message, fix))
        return
    run.add(ok(name, f"{source.kind}: {where}"))

    def counts() -> tuple[int, tuple[Skip, ...]]:
        data = source.read()
        return data.subscriptions.num_rows, data.skips

    _read_rows(run, f"billing rows {label}", counts, config.policy, "subscriptions")


def _url_fix(message: str, location: str) -> str:
    """What to do about a failed connection, from the (scrubbed) error text."""
    lowered = message.lower()
    where = location if location.startswith(ENV_PREFIX) else "the URL"
    if "environment variable" in lowered:
        name = location[len(ENV_PREFIX) :] if location.startswith(ENV_PREFIX) else "it"
        return f"export {name}='postgresql://user:password@host:5432/dbname' first"
    if "password" in lowered or "access denied" in lowered or "1045" in lowered:
        return f"correct the user name and password in {where}"
    if "refused" in lowered or "2003" in lowered or "can't connect" in lowered:
        return f"start the database server, or correct the host and port in {where}"
    if "database" in lowered and ("does not exist" in lowered or "unknown" in lowered):
        return f"correct the database name at the end of {where}"
    if "host name" in lowered or "resolve" in lowered:
        return f"correct the host name in {where}"
    return f"check {where}: postgresql://user:password@host:5432/dbname (or mysql://...)"


# --------------------------------------------------------------------------- output

_LABELS: Final = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
_INDENT: Final = " " * 7


def _wrap(text: str, first: str, rest: str) -> list[str]:
    lines = textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return lines or [first.rstrip()]


def render_text(report: DoctorReport) -> str:
    """One entry per check, fixes under warnings and failures; 80 columns."""
    lines = ["billdrift doctor"]
    for check in report.checks:
        head = f"[{_LABELS[check.status]}]".ljust(len(_INDENT))
        lines += _wrap(f"{check.name}: {check.detail}", head, _INDENT)
        if check.fix:
            first, *more = check.fix.split("\n")
            lines += _wrap(f"fix: {first}", _INDENT, _INDENT + "  ")
            for extra in more:  # SQL and the like: one statement per line
                lines += _wrap(extra, _INDENT + "  ", _INDENT + "    ")
    counts = {status: sum(1 for c in report.checks if c.status == status) for status in _ORDER}
    summary = ", ".join(
        f"{counts[status]} {word}" if status != "warn" else _many(counts[status], word)
        for status, word in (("fail", "failed"), ("warn", "warnings"), ("ok", "ok"))
        if counts[status]
    )
    lines.append(f"billdrift doctor: {_LABELS[report.status]} ({summary})")
    return "\n".join(lines) + "\n"


def render_json(report: DoctorReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def render(report: DoctorReport, format: str) -> str:
    if format == "json":
        return render_json(report)
    return _CONTROL.sub("?", render_text(report))
