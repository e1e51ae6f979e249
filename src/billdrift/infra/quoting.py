"""SQL quoting, defined once: a name or value read from data never becomes SQL.

Kept apart from :mod:`billdrift.infra.duck` (which re-exports both) so that code
building SQL text without running DuckDB (flag parsing, fix plans) does not load
it.
"""

from __future__ import annotations


def sql_string(text: str) -> str:
    """A SQL string literal for `text` (standard quoting: ``'`` doubled)."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A SQL identifier naming `name` (standard quoting: ``"`` around, ``"`` doubled):
    a name read from data (``users; DROP TABLE x``) never becomes SQL."""
    return '"' + name.replace('"', '""') + '"'
