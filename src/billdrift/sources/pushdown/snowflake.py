"""Snowflake through snowflake-connector-python (the ``snowflake`` extra). Untested
against a real Snowflake here (no account is reachable); the tests hand the
statements to a stub connection.

URL: ``snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=W&role=R`` (``authenticator``
too, e.g. ``externalbrowser``). Secret, from the environment only:
``SNOWFLAKE_PASSWORD``, or ``SNOWFLAKE_PRIVATE_KEY_FILE`` (key-pair authentication;
``SNOWFLAKE_PRIVATE_KEY_FILE_PWD`` if the key is encrypted). Snowflake has no
read-only session: every statement is a ``WITH ... SELECT``, so give the role SELECT
grants only. Rows are fetched as Arrow (``fetch_arrow_all``); ARRAY, OBJECT and
VARIANT columns arrive as JSON text and are decoded; Snowflake upper-cases unquoted
column names, which are read back in lower case (the plan's names are lower case).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, unquote

from billdrift.errors import ConfigError
from billdrift.sources.pushdown import warehouse

NAME = "snowflake"
EXTRA = "snowflake"
SECRETS = ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY_FILE_PWD")
#: Snowflake's type codes (cursor.description) for ARRAY, OBJECT and VARIANT.
_SEMI_STRUCTURED = {5, 9, 10}
_OPTIONS = ("warehouse", "role", "authenticator")


def arguments(url: SplitResult) -> dict[str, Any]:
    if not url.username or not url.hostname:
        raise ConfigError(
            "a snowflake:// URL names the user and the account: "
            "snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=W&role=R"
        )
    database, schema = warehouse.path_parts(url, ("database", "schema"), _this())
    found = {"user": unquote(url.username), "account": url.hostname}
    found |= {"database": database, "schema": schema}
    return found | warehouse.options(url, _OPTIONS)


def connect(arguments: dict[str, Any], environ: Mapping[str, str]) -> warehouse.Session:
    connector = warehouse.imported(_this(), "snowflake.connector", "snowflake-connector-python")
    secret: dict[str, Any] = {}
    if environ.get("SNOWFLAKE_PASSWORD"):
        secret["password"] = environ["SNOWFLAKE_PASSWORD"]
    elif environ.get("SNOWFLAKE_PRIVATE_KEY_FILE"):
        secret["private_key_file"] = environ["SNOWFLAKE_PRIVATE_KEY_FILE"]
        if environ.get("SNOWFLAKE_PRIVATE_KEY_FILE_PWD"):
            secret["private_key_file_pwd"] = environ["SNOWFLAKE_PRIVATE_KEY_FILE_PWD"]
    elif "authenticator" not in arguments:
        raise ConfigError(
            "--engine snowflake: set SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE in the "
            "environment (or give ?authenticator= in the URL)"
        )
    # the session's instants in UTC, as the plan reads and formats them
    parameters = {"TIMEZONE": "UTC", "QUERY_TAG": "billdrift check (read-only)"}
    connection = connector.connect(**arguments, **secret, session_parameters=parameters)
    return warehouse.CursorSession(connection, _fetch)


def _fetch(cursor: Any) -> list[dict[str, Any]]:
    """Arrow rows under lower-cased names, ARRAY/OBJECT/VARIANT decoded from JSON."""
    names = [column[0].lower() for column in cursor.description]
    semi = [n for n, c in zip(names, cursor.description, strict=True) if c[1] in _SEMI_STRUCTURED]
    table = cursor.fetch_arrow_all()  # None when no row came back
    found = [] if table is None else table.rename_columns(names).to_pylist()
    return warehouse.decode_json(found, semi)


def _this() -> warehouse.Connector:
    return warehouse.connector(NAME)
