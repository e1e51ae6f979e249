"""A finding's evidence declared once, as data, and compiled two ways (issue 17).

A rule's evidence is the raw values from both sides that led to the finding, as a
nested JSON object. Building that object row by row in Python was the largest part
of turning a million-account run's 35,000 reported rows into a report. So each
rule declares its evidence's shape (:class:`Group` of :class:`Value`), and the shape is
compiled

* to one SQL expression (:func:`evidence_sql`) that the in-process engine evaluates
  over all of a rule's reported rows at once, giving each row its evidence as JSON
  text, parsed for all of a rule's rows in one call (:func:`evidence_of`); and
* to a Python evaluation over one row (:func:`evaluate`), for rows that come back from
  a pushed-down run (PostgreSQL, Spark) without that column.

There is no second copy of what the evidence holds, so the two cannot drift apart;
``tests/core/test_columnar_evidence.py`` compares both on every reported row of every
labelled rule case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from billdrift.infra.quoting import quote_identifier, sql_string

#: How a column's value is shown:
#: ``plain`` as read; ``instant`` an ISO-8601 UTC text (the engine formats timestamps
#: so already); ``number`` a JSON number (a SQL decimal would otherwise print "1.00");
#: ``fields`` the app's access fields, a list of {field, value}, as an object;
#: ``nonempty`` a list, absent when empty; ``ids`` a ", "-joined id list as a list of
#: at most 50 ids.
Show = Literal["plain", "instant", "number", "fields", "nonempty", "ids"]

#: The most ids an ``ids`` value lists (a customer linked from 10,000 accounts).
MAX_IDS = 50

#: The column the in-process engine adds to each reported row: its evidence as JSON
#: text in SQL, parsed into an object for all rows of a rule at once when fetched.
EVIDENCE_COLUMN = "_evidence"


@dataclass(frozen=True)
class Value:
    """One evidence value: a column of the rule's reported rows."""

    column: str
    show: Show = "plain"
    #: (column, value): the value is given only when that column holds that value.
    only_when: tuple[str, str] | None = None


@dataclass(frozen=True)
class Group:
    """A JSON object: keys in order, each a value or a nested group (always present)."""

    items: tuple[tuple[str, Value | Group], ...]
    #: Leave out keys whose value is null (most evidence), or keep them as null.
    drop_nulls: bool = True


def evaluate(group: Group, row: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence of one row, in Python (a pushed-down run's rows)."""
    out: dict[str, Any] = {}
    for key, item in group.items:
        value = evaluate(item, row) if isinstance(item, Group) else _value(item, row)
        if value is not None or not group.drop_nulls:
            out[key] = value
    return out


def _value(value: Value, row: Mapping[str, Any]) -> Any:
    if value.only_when is not None and row.get(value.only_when[0]) != value.only_when[1]:
        return None
    raw = row.get(value.column)
    if value.show == "instant":
        return _when(raw)
    if value.show == "number":
        return None if raw is None else float(raw)
    if value.show == "fields":
        return None if raw is None else {item["field"]: item["value"] for item in raw}
    if value.show == "nonempty":
        return raw or None
    if value.show == "ids":
        return str(raw or "").split(", ")[:MAX_IDS]
    return raw


def _when(value: object) -> object:
    """An ISO-8601 UTC instant (datetimes from callers other than the engine)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def evidence_sql(group: Group, relation: str = "f") -> str:
    """The SQL expression (DuckDB) giving `group` as JSON text for each row of
    `relation`: the same object :func:`evaluate` builds, serialized."""
    parts = []
    for key, item in group.items:
        value = evidence_sql(item, relation) if isinstance(item, Group) else _sql(item, relation)
        label = sql_string(orjson.dumps(key).decode() + ":")
        # `||` gives NULL when the value is NULL, and concat_ws leaves NULL parts out:
        # each value appears once (a CASE repeating it doubled the expression at every
        # level of nesting, and planning it cost 0.1 s of CPU a check)
        parts.append(f"{label} || {value if group.drop_nulls else f'coalesce({value}, {_NULL})'}")
    return f"('{{' || concat_ws(',', {', '.join(parts)}) || '}}')"


#: JSON null, as SQL text.
_NULL = "'null'"


def _sql(value: Value, relation: str) -> str:
    """A value as JSON text, NULL when the value is null (or its condition fails)."""
    column = f"{relation}.{quote_identifier(value.column)}"
    if value.show == "number":
        text = f"to_json(CAST({column} AS DOUBLE))"
    elif value.show == "fields":
        pair = "to_json(x.field) || ':' || coalesce(to_json(x.value), 'null')"
        text = (
            f"CASE WHEN {column} IS NOT NULL THEN "
            f"'{{' || array_to_string(list_transform({column}, lambda x: {pair}), ',') || '}}' END"
        )
    elif value.show == "nonempty":
        text = f"CASE WHEN len({column}) > 0 THEN to_json({column}) END"
    elif value.show == "ids":
        ids = f"string_split(coalesce(CAST({column} AS VARCHAR), ''), ', ')[1:{MAX_IDS}]"
        text = f"to_json({ids})"
    else:  # plain, instant: the engine hands timestamps over as ISO-8601 text already
        text = f"to_json({column})"
    if value.only_when is not None:
        other, wanted = value.only_when
        condition = f"{relation}.{quote_identifier(other)} = {sql_string(wanted)}"
        text = f"CASE WHEN {condition} THEN {text} END"
    return text


def evidence_of(group: Group, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row's evidence: the object the engine computed in SQL for all rows at once
    (parsed from its JSON in one call per rule) when present, else evaluated from
    the row (see the module's docstring)."""
    computed: dict[str, Any] | None = row.get(EVIDENCE_COLUMN)
    return evaluate(group, row) if computed is None else computed
