"""Doctor, app side: do the mapped access columns have types ``check`` can read?

Database type names differ by server (PostgreSQL, MySQL/MariaDB, SQLite), so
each is first reduced to a kind (boolean, integer, text, time...). A flag held
in a date or JSON column would make every row unreadable or misread, so it
fails before ``check`` is run; untyped sources (CSV) are checked by reading.
"""

from __future__ import annotations

import re
from typing import Final

from billdrift.onboarding.doctor.app_table import Target
from billdrift.onboarding.doctor.report import Check, Collector, Status, ok
from billdrift.sources.app.columns import ColumnMapping

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


def types_check(run: Collector, target: Target, mapping: ColumnMapping) -> None:
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
