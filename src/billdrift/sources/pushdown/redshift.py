"""Amazon Redshift through redshift_connector (the ``redshift`` extra). Untested against
a real Redshift here (no cluster is reachable); the tests hand the statements to a
stub connection.

URL: ``redshift://USER@HOST:PORT/DATABASE`` (port 5439 when not given;
``?ssl=false`` only for a local test cluster). Secret, from the environment only:
``REDSHIFT_PASSWORD``. The statements run inside ``BEGIN READ ONLY`` ... ``ROLLBACK``
with the session's time zone UTC: nothing can be written, whatever the role may do.
redshift_connector offers no Arrow fetch, so rows come as tuples, named from the
cursor's description; SUPER columns arrive as JSON text and are decoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, unquote

from billdrift.errors import ConfigError
from billdrift.sources.pushdown import warehouse

NAME = "redshift"
EXTRA = "redshift"
SECRETS = ("REDSHIFT_PASSWORD",)
DEFAULT_PORT = 5439
#: Redshift's type oid for SUPER (semi-structured) in cursor.description.
_SUPER = 4000


def arguments(url: SplitResult) -> dict[str, Any]:
    if not url.username or not url.hostname:
        raise ConfigError(
            "a redshift:// URL names the user and the host: redshift://USER@HOST:PORT/DATABASE"
        )
    (database,) = warehouse.path_parts(url, ("database",), _this())
    found: dict[str, Any] = {
        "user": unquote(url.username),
        "host": url.hostname,
        "port": url.port or DEFAULT_PORT,
        "database": unquote(database),
    }
    if warehouse.parameter(url, "ssl") == "false":
        found["ssl"] = False
    return found


def connect(arguments: dict[str, Any], environ: Mapping[str, str]) -> warehouse.Session:
    connector = warehouse.imported(_this(), "redshift_connector", "redshift_connector")
    if not environ.get("REDSHIFT_PASSWORD"):
        raise ConfigError("--engine redshift: set REDSHIFT_PASSWORD in the environment")
    connection = connector.connect(**arguments, password=environ["REDSHIFT_PASSWORD"])
    connection.autocommit = True  # the transaction below is billdrift's own
    session = warehouse.CursorSession(connection, _fetch, closing="ROLLBACK")
    session.rows("BEGIN READ ONLY")
    session.rows("SET TIME ZONE 'UTC'")
    return session


def _fetch(cursor: Any) -> list[dict[str, Any]]:
    """Tuples named from the description (no Arrow fetch), SUPER decoded from JSON."""
    names = [column[0] for column in cursor.description]
    semi = [n for n, c in zip(names, cursor.description, strict=True) if c[1] == _SUPER]
    found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return warehouse.decode_json(found, semi)


def _this() -> warehouse.Connector:
    return warehouse.connector(NAME)
