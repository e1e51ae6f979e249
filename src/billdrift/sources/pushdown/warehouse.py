"""The plan run on a warehouse (Snowflake, BigQuery, Amazon Redshift, Databricks) through
its official Python connector; only finding rows come back. Untested against the real
services here: none is reachable from this machine, so the tests hand the statements to
stub connections (tests/pushdown/test_warehouse_connectors.py) and say so.

What is shared lives here; each target's module (:mod:`.snowflake`, :mod:`.bigquery`,
:mod:`.redshift`, :mod:`.databricks`) says how its URL becomes the connector's
arguments, which environment variables hold its secrets, how it connects (read-only
where the service has such a session) and how a statement's rows are fetched (as
Arrow where the connector offers it). The connector is the target's optional extra
(``pip install 'billdrift[snowflake]'``...): imported only when a run connects, and
its absence is a configuration error (exit 2) naming the extra.

The warehouse holds the four canonical relations (``billing_subscriptions``,
``billing_items``, ``app_accounts``, ``app_access_signals``, with the columns of
:mod:`billdrift.core.model`) as tables or views, named in ``[engine.warehouse]
tables`` or found by their own names in the URL's schema: the Stripe layouts are not
introspected on a warehouse (they are on PostgreSQL). Every statement is a ``WITH ...
SELECT`` (:mod:`billdrift.core.dialects.warehouse`): a role with SELECT grants suffices.

Secrets come from the environment only: a URL holding a password is refused (the
message names the variable to use instead), and every error leaving a connector is
scrubbed of the secrets' values in all their spellings before it is shown.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import ModuleType
from typing import Any, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

from billdrift.config import WarehouseConfig
from billdrift.core.dialects.warehouse import WAREHOUSES, Warehouse
from billdrift.core.plan import CANONICAL, build_plan, judge_answers, refuse_repeats
from billdrift.core.policy import Policy
from billdrift.core.refs import text_places
from billdrift.core.report import Report
from billdrift.errors import BilldriftError, ConfigError, SourceError
from billdrift.infra.secrets import scrub, scrub_urls
from billdrift.sources.pushdown import ENGINES
from billdrift.sources.pushdown.spark import Tables, _inputs

#: Every warehouse target and the module connecting to it (the ENGINES entries).
CONNECTORS: dict[str, str] = {name: ENGINES[name] for name in WAREHOUSES}

_ENV_PREFIX = "env:"


class Session(Protocol):
    """An open connection to a warehouse, as the runner uses it."""

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The rows one statement returns, as plain Python values by column name."""
        ...

    def close(self) -> None: ...


class Connector(Protocol):
    """What each target module provides."""

    NAME: str
    #: The optional extra holding the official connector.
    EXTRA: str
    #: Environment variables holding the target's secrets (password, token, key file).
    SECRETS: tuple[str, ...]

    def arguments(self, url: SplitResult) -> dict[str, Any]:
        """The connector's arguments from the URL (no secret: those come from the
        environment); a ConfigError names what is missing."""
        ...

    def connect(self, arguments: dict[str, Any], environ: Mapping[str, str]) -> Session:
        """A session on the warehouse (the connector imported here, or a ConfigError
        naming the extra)."""
        ...


#: How a connector reads an executed statement's rows off its DB-API cursor (as Arrow
#: where it can): the one step in which Snowflake, Redshift and Databricks differ.
Fetch = Callable[[Any], list[dict[str, Any]]]


class CursorSession:
    """The Session of a DB-API connector: one cursor per statement, closed whatever
    happens; a statement without a result (BEGIN, SET: no description) returns no rows,
    any other's rows come from the connector's `fetch`. `closing` is a last statement
    run before the connection closes (Redshift's ROLLBACK); its failure is swallowed
    so that a failure already in flight is the one shown."""

    def __init__(self, connection: Any, fetch: Fetch, closing: str | None = None) -> None:
        self._connection = connection
        self._fetch = fetch
        self._closing = closing

    def rows(self, sql: str) -> list[dict[str, Any]]:
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql)
            if cursor.description is None:
                return []
            return self._fetch(cursor)
        finally:
            cursor.close()

    def close(self) -> None:
        try:
            if self._closing is not None:
                with contextlib.suppress(Exception):
                    self.rows(self._closing)
        finally:
            self._connection.close()


def connector(name: str) -> Connector:
    module: Connector = importlib.import_module(CONNECTORS[name])
    return module


def install_hint(target: Connector, package: str) -> ConfigError:
    """The error for a connector that is not installed: exit 2, naming the extra."""
    label = WAREHOUSES[target.NAME].LABEL
    return ConfigError(
        f"--engine {target.NAME} connects with {package}, which is not installed: "
        f"pip install 'billdrift[{target.EXTRA}]' (running on {label} is untested here)"
    )


def imported(target: Connector, module: str, package: str) -> ModuleType:
    """The connector's module, or the install hint (exit 2)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise install_hint(target, package) from None


def split(target: Connector, location: str | None, environ: Mapping[str, str]) -> SplitResult:
    """The URL (from ``env:NAME`` too), checked: the target's scheme, and no password."""
    if not location:
        raise ConfigError(
            f"--engine {target.NAME} needs [engine.warehouse] url = "
            f'"{target.NAME}://..." (see the README: running on a warehouse)'
        )
    shown = location
    if location.startswith(_ENV_PREFIX):
        variable = location[len(_ENV_PREFIX) :].strip()
        location = environ.get(variable, "").strip()
        if not location:
            raise ConfigError(f"environment variable {variable} (the warehouse URL) is not set")
    else:
        shown = scrub_urls(location)
    url = urlsplit(location)
    if url.scheme != target.NAME:
        raise ConfigError(f"--engine {target.NAME} needs a {target.NAME}:// URL, not {shown}")
    if url.password is not None:
        raise ConfigError(
            f"the warehouse URL {shown} holds a password: secrets come from the environment "
            f"only ({' or '.join(target.SECRETS)}); remove it from the URL"
        )
    return url


def parameter(url: SplitResult, key: str) -> str | None:
    """One query parameter of the URL (the last if repeated), None when absent or empty."""
    found = None
    for part in url.query.split("&"):
        name, _, value = part.partition("=")
        if name == key and value:
            found = value
    return found


def options(url: SplitResult, keys: Sequence[str]) -> dict[str, str]:
    """The URL's query parameters named `keys` that are given, percent-decoded: the
    connector's optional arguments (an absent or empty one is left to its default)."""
    found = {key: parameter(url, key) for key in keys}
    return {key: unquote(value) for key, value in found.items() if value}


def path_parts(url: SplitResult, what: Sequence[str], target: Connector) -> list[str]:
    """The URL's path as exactly `what` parts (e.g. database, schema), or a ConfigError."""
    parts = [part for part in url.path.split("/") if part]
    if len(parts) != len(what):
        raise ConfigError(
            f"a {target.NAME}:// URL names {' and '.join(what)} as its path "
            f"({target.NAME}://...{''.join('/' + w.upper() for w in what)}); "
            f"found {len(parts)} part(s)"
        )
    return parts


def secrets(target: Connector, environ: Mapping[str, str]) -> list[str]:
    return [environ[name] for name in target.SECRETS if environ.get(name)]


@contextmanager
def scrubbed(label: str, hidden: Iterable[str]) -> Iterator[None]:
    """Any failure of the connector as a SourceError whose text holds none of `hidden`
    (nor a URL's password); billdrift's own errors pass through unchanged."""
    try:
        yield
    except BilldriftError:
        raise
    except Exception as error:  # a connector's own error types, whatever they are
        text = scrub_urls(scrub(f"{type(error).__name__}: {error}", hidden))
        raise SourceError(f"{label}: {text}") from None


def decode_json(rows: list[dict[str, Any]], columns: Iterable[str]) -> list[dict[str, Any]]:
    """Semi-structured columns the connector hands over as JSON text (Snowflake's ARRAY
    and OBJECT, Redshift's SUPER) as the lists and dicts the answers read."""
    names = list(columns)
    for row in rows:
        for name in names:
            value = row.get(name)
            if isinstance(value, str):
                row[name] = json.loads(value)
    return rows


def tables(settings: WarehouseConfig) -> Tables:
    """Each canonical relation's SELECT over the table named for it (or its own name)."""
    unknown = sorted(set(settings.tables) - set(CANONICAL))
    if unknown:
        raise ConfigError(
            f"[engine.warehouse] tables names {', '.join(unknown)}: expected any of "
            f"{', '.join(CANONICAL)}"
        )
    canonical: dict[str, str] = {}
    described: dict[str, str] = {}
    for name, relation in CANONICAL.items():
        table = settings.tables.get(name, name)
        canonical[name] = f"SELECT {text_places(relation)} FROM {table}"
        described[name] = table
    return Tables((), canonical, described)


def _fields(where: Tables) -> str:
    table = where.described["app_access_signals"]
    return f"SELECT DISTINCT field, kind, is_primary FROM {table} ORDER BY field"


@contextmanager
def session(
    name: str, settings: WarehouseConfig, environ: Mapping[str, str] | None = None
) -> Iterator[tuple[Session, Warehouse, list[str]]]:
    """An open session on target `name`, its dialect, and the secrets to scrub."""
    environ = os.environ if environ is None else environ
    target = connector(name)
    dialect = WAREHOUSES[name]
    url = split(target, settings.url, environ)
    arguments = target.arguments(url)
    hidden = secrets(target, environ)
    with scrubbed(f"{dialect.LABEL} ({scrub_urls(url.geturl())})", hidden):
        opened = target.connect(arguments, environ)
        try:
            yield opened, dialect, hidden
        finally:
            opened.close()


def run(
    name: str,
    settings: WarehouseConfig,
    policy: Policy,
    as_of: datetime,
    environ: Mapping[str, str] | None = None,
) -> Report:
    """The check on warehouse `name`: one small query for the app's access fields, then
    the plan's statements; only their rows (findings and the report's counts) come back."""
    where = tables(settings)
    with session(name, settings, environ) as (opened, dialect, _hidden):
        inputs = _inputs(where, _signals(opened, where), policy, as_of)
        plan = build_plan(inputs)
        if dialect.preamble:
            opened.rows(dialect.preamble)
        rows = {
            out.name: opened.rows(sql) for out, sql in dialect.statements(plan, where.canonical)
        }
    answers = dialect.answers(rows, plan)
    refuse_repeats(
        answers,
        lambda n: (
            f"{n} billing_subscriptions rows repeat a subscription id; fix the canonical "
            "table (one row per subscription id)"
        ),
    )
    return judge_answers(inputs, plan, answers)


def _signals(opened: Session, where: Tables) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in opened.rows(_fields(where))]  # by position


def explain(
    name: str,
    settings: WarehouseConfig,
    policy: Policy,
    as_of: datetime,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The SQL a check on warehouse `name` would run, for review: reads the app's access
    fields only (one small query), so it connects."""
    where = tables(settings)
    with session(name, settings, environ) as (opened, dialect, _hidden):
        inputs = _inputs(where, _signals(opened, where), policy, as_of)
    plan = build_plan(inputs)
    header = [
        f"-- {name}: {table} read as {relation}" for relation, table in where.described.items()
    ]
    return "\n".join(header) + "\n\n" + dialect.explain(plan, where.canonical)
