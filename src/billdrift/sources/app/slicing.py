"""The WHERE clause that reads one customer's accounts, never the whole table.

Values are bound as parameters (`placeholder` gives the dialect's marker for the
n-th one), columns are quoted identifiers from the mapping: nothing a webhook
sends is pasted into SQL. The columns are compared as stored, without a function
around them, so an index on the customer link or the email serves the query.
"""

from __future__ import annotations

from collections.abc import Callable

from billdrift.errors import SourceError
from billdrift.sources.app.columns import ColumnMapping
from billdrift.sources.app.interface import Slice

#: The mapping roles a slice matches on.
SLICE_ROLES = ("customer_id", "subscription_id", "email")


def slice_where(
    mapping: ColumnMapping,
    only: Slice,
    quote: Callable[[str], str],
    placeholder: Callable[[int], str],
) -> tuple[str, list[str]]:
    """`` WHERE a IN (...) OR b IN (...)`` and its parameters; SourceError when the
    mapping has no column to select one customer's accounts by."""
    columns = [(role, column) for role in SLICE_ROLES if (column := mapping.role_column(role))]
    if not columns:
        raise SourceError(
            "cannot read one customer's accounts: the app mapping has no customer id, "
            "subscription id or email column (set app.columns)"
        )
    terms: list[str] = []
    params: list[str] = []
    for role, column in columns:
        values = only.values(role)
        if not values:
            continue
        marks = ", ".join(placeholder(len(params) + i + 1) for i in range(len(values)))
        terms.append(f"{quote(column)} IN ({marks})")
        params += values
    return (" WHERE " + " OR ".join(terms) if terms else " WHERE 1 = 0"), params
