"""Doctor, app side: which table (or query) ``check`` will read, and its column mapping.

The same choice ``init`` and ``check`` make: the configured query or table, or
else the one table that looks like accounts; several such tables are a failure
that names them, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from billdrift.config import AppConfig
from billdrift.errors import BilldriftError, ConfigError
from billdrift.infra.db.interface import Column
from billdrift.onboarding.accounts import no_fit_message, survey
from billdrift.onboarding.catalog import Catalog
from billdrift.onboarding.doctor.report import Collector, fail, ok
from billdrift.onboarding.doctor.wording import INIT_HINT
from billdrift.sources.app.columns import ColumnMapping, detect_columns
from billdrift.sources.app.read_only_query import check_read_only_query


@dataclass(frozen=True)
class Target:
    """What ``check`` will read on the app side."""

    label: str
    columns: tuple[Column, ...]
    #: count(*) of the rows (databases); None: count by reading through the source.
    count_sql: str | None = None
    #: Tables read, for privilege checks (qualified names).
    tables: tuple[str, ...] = ()


def choose_target(
    run: Collector,
    catalog: Catalog,
    options: AppConfig,
    query_columns: Callable[[str], Sequence[Column]],
    qualify: Callable[[str], str],
) -> Target | None:
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
        return Target("the result of app.query", columns, _count(f"(\n{query}\n) AS q"))
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
                    "that holds your accounts, and map its columns; " + INIT_HINT,
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
    return Target(label, table.columns, _count(qualify(table.qualified)), (table.qualified,))


def _count(from_sql: str) -> str:
    return f"SELECT count(*) FROM {from_sql}"


def columns_check(run: Collector, target: Target, options: AppConfig) -> ColumnMapping | None:
    try:
        mapping = detect_columns([column.name for column in target.columns], options, target.label)
    except BilldriftError as error:
        fix = (
            "name existing columns in app.columns.*, app.access_fields, app.status_fields "
            f"and app.primary_access_field; {INIT_HINT}"
        )
        run.add(fail("app columns", str(error), fix))
        return None
    guessed = (
        f" (auto-detected: {', '.join(mapping.auto_detected)})" if mapping.auto_detected else ""
    )
    run.add(ok("app columns", f"{mapping.describe()}{guessed}"))
    run.mapping = mapping
    return mapping
