"""Which table holds the accounts: every table the column detection accepts, best first.

A table *fits* when :func:`~billdrift.sources.app.columns.detect_columns`
finds an account id and at least one access column in it. Databases often
hold several that fit (``users`` and ``admins``, a view over ``users``), so
they are ranked: a table that links to the billing provider (a customer id
column) *and* has a boolean access flag comes first, because that is the
table billing webhooks keep in sync. The rest are kept, so ``init`` can list
them for the user to switch to.
"""

from __future__ import annotations

from dataclasses import dataclass

from billdrift.config import AppConfig
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.interface import Table
from billdrift.onboarding.catalog import Catalog
from billdrift.sources.app.columns import ColumnMapping, detect_columns, normalize

#: Table names that usually hold accounts (normalized), a tie-breaker only.
ACCOUNT_TABLE_NAMES = frozenset(
    {
        "users",
        "user",
        "accounts",
        "account",
        "workspaces",
        "workspace",
        "organizations",
        "organization",
        "organisations",
        "orgs",
        "teams",
        "tenants",
        "companies",
        "customers",
        "members",
        "profiles",
        "auth_user",
    }
)


@dataclass(frozen=True)
class Candidate:
    """A table that fits, with the mapping detection found in it."""

    table: Table
    #: The name to write as ``app.table`` (empty for a CSV file).
    name: str
    mapping: ColumnMapping

    @property
    def linked_and_flagged(self) -> bool:
        """Has a customer-id column *and* a boolean access flag: the best kind of fit."""
        return self.mapping.customer_id is not None and bool(self.mapping.access_fields)

    def rank(self) -> tuple[int, ...]:
        """Smaller is better (used as a sort key, with the name as the last tie-breaker)."""
        mapping = self.mapping
        found = sum(
            1 for role in ("subscription_id", "email", "plan", "role") if getattr(mapping, role)
        )
        return (
            0 if self.linked_and_flagged else 1,
            0 if mapping.customer_id is not None else 1,
            0 if mapping.access_fields else 1,
            0 if self.table.kind == "table" else 1,
            0 if normalize(self.table.name) in ACCOUNT_TABLE_NAMES else 1,
            -found,
            -len(mapping.fields()),
        )


@dataclass(frozen=True)
class Misfit:
    """A table that does not fit, and why (shown when nothing fits)."""

    name: str
    reason: str


def survey(catalog: Catalog, options: AppConfig) -> tuple[list[Candidate], list[Misfit]]:
    """Every table that fits (best first) and every one that does not (with the reason)."""
    fits: list[Candidate] = []
    misfits: list[Misfit] = []
    for table in catalog.tables:
        name = catalog.table_name(table)
        try:
            mapping = detect_columns(
                [column.name for column in table.columns], options, _label(catalog, table)
            )
        except (SourceError, ConfigError) as error:
            misfits.append(Misfit(name or table.name, _short_reason(str(error))))
            continue
        fits.append(Candidate(table, name, mapping))
    fits.sort(key=lambda candidate: (*candidate.rank(), candidate.name))
    return fits, misfits


def candidate_for(catalog: Catalog, table: Table, options: AppConfig) -> Candidate:
    """The named table as a candidate; detection errors propagate with their advice."""
    columns = [column.name for column in table.columns]
    mapping = detect_columns(columns, options, _label(catalog, table))
    return Candidate(table, catalog.table_name(table), mapping)


def no_fit_message(catalog: Catalog, misfits: list[Misfit], limit: int = 10) -> str:
    """Why no table fits, table by table, with what to do about it."""
    if not catalog.tables:
        return (
            f"{catalog.shown} holds no tables these credentials can see; check the database "
            "name in the URL and that the user may read the accounts table"
        )
    lines = [
        f"no table in {catalog.shown} looks like app accounts (an account id column plus "
        "an access column):"
    ]
    lines += [f"  {misfit.name}: {misfit.reason}" for misfit in misfits[:limit]]
    if len(misfits) > limit:
        lines.append(f"  ... and {len(misfits) - limit} more")
    lines.append(
        "Name the table with --app-table and, in a config file, its columns with "
        "app.columns.account_id and app.access_fields / app.status_fields"
    )
    return "\n".join(lines)


def _label(catalog: Catalog, table: Table) -> str:
    if catalog.kind == "csv":
        return f"the header of {catalog.shown}"
    return f"table {catalog.table_name(table)!r} of {catalog.shown}"


def _short_reason(message: str) -> str:
    """The first clause of a detection error ("cannot find an access column")."""
    for marker in (" in table ", " in the header ", " (columns"):
        if marker in message:
            return message.split(marker, 1)[0]
    return message
