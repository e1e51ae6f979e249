"""Canonical relations written into a real PostgreSQL as tables, so that a plan can be
pushed down over exactly the rows an in-process run reads (test set-up only: the
admin connection writes; billdrift's own connection stays read-only)."""

from __future__ import annotations

import itertools
from typing import Any

import psycopg
import pyarrow as pa

from billdrift.core.engine import Inputs
from billdrift.core.load import load
from billdrift.core.model import Skip
from billdrift.infra import duck

_TYPES = {
    pa.string(): "text",
    pa.bool_(): "boolean",
    pa.int64(): "bigint",
    pa.int32(): "integer",
    pa.float64(): "double precision",
}
_SCHEMAS = itertools.count()


def _type(kind: pa.DataType) -> str:
    return "timestamptz" if pa.types.is_timestamp(kind) else _TYPES[kind]


def write_inputs(admin_url: str, inputs: Inputs) -> tuple[dict[str, str], tuple[Skip, ...]]:
    """The four canonical relations of `inputs`, as loading deduplicates them (with the
    rows it could not use and the repeats it dropped), written to a fresh schema;
    returns each relation's SQL for the plan and the copies loading could not use."""
    con = duck.connect()
    try:
        loaded = load(con, inputs.billing, inputs.app, inputs.policy, inputs.as_of)
        tables = {
            name: con.sql(f"SELECT * FROM {name}").to_arrow_table()
            for name in (
                "billing_subscriptions",
                "billing_items",
                "app_accounts",
                "app_access_signals",
                # what loading could not read, and the repeats it dropped, as loaded
                "unreadable_rows",
                "billing_repeats",
            )
        }
    finally:
        con.close()
    schema = f"canon_{next(_SCHEMAS)}"
    with psycopg.connect(admin_url) as pg:  # one transaction, committed on leaving
        pg.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        pg.execute(f'CREATE SCHEMA "{schema}"')
        pg.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO PUBLIC')
        for name, table in tables.items():
            columns = ", ".join(f'"{f.name}" {_type(f.type)}' for f in table.schema)
            pg.execute(f'CREATE TABLE "{schema}"."{name}" ({columns})')
            rows: list[tuple[Any, ...]] = [tuple(r.values()) for r in table.to_pylist()]
            if rows:
                marks = ", ".join(["%s"] * table.num_columns)
                with pg.cursor() as cursor:
                    cursor.executemany(f'INSERT INTO "{schema}"."{name}" VALUES ({marks})', rows)
    return {name: f'SELECT * FROM "{schema}"."{name}"' for name in tables}, loaded.skips
