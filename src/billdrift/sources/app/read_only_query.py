"""``app.query`` must be one read-only SELECT: said clearly, before a database says it.

Shared by the SQLite and the live-database sources and by ``doctor``. This is
for a clear message only: the read-only connection (``query_only`` on SQLite, a
read-only transaction on a server) is the guard.
"""

from __future__ import annotations

import re
from typing import Final

from billdrift.errors import ConfigError

_LEADING: Final = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*", re.DOTALL)
_READ_ONLY_STARTS: Final = ("SELECT", "WITH", "VALUES")


def check_read_only_query(query: str) -> str:
    """The query without trailing semicolons; ConfigError unless it is a SELECT.

    This is for a clear message only; the read-only connection is the guard.
    """
    body = query.strip().rstrip(";").strip()
    leading = _LEADING.match(body)
    rest = body[leading.end() :] if leading else body
    word = re.match(r"[A-Za-z]+", rest)
    keyword = word.group(0).upper() if word else rest[:20]
    if keyword not in _READ_ONLY_STARTS:
        raise ConfigError(
            f"app.query must be one read-only SELECT statement; got {keyword!r}. "
            "billdrift only reads the app database"
        )
    return body
