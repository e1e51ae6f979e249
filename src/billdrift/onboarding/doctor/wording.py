"""Doctor: the phrases and fixes that checks on more than one side share.

Kept in one place so the app side and the billing side word the same problem
(a failed connection, a config to draft) the same way.
"""

from __future__ import annotations

from typing import Final

from billdrift.infra.db.urls import ENV_PREFIX

INIT_HINT: Final = "`billdrift init --app FILE_OR_URL --force` drafts a config that maps them"

#: How to save a complete Stripe export: every status, customers expanded, every page.
EXPORT_HINT: Final = (
    "save the subscriptions with `stripe get /v1/subscriptions -d status=all -d limit=100 "
    "-e data.customer` (every page), or read them with `--billing stripe`"
)


def many(count: int, plural: str) -> str:
    """``1 account``, ``2,000 accounts`` (plural nouns given, ending in s)."""
    return f"{count:,} {plural[:-1] if count == 1 else plural}"


def url_fix(message: str, location: str) -> str:
    """What to do about a failed connection, from the (scrubbed) error text."""
    lowered = message.lower()
    where = location if location.startswith(ENV_PREFIX) else "the URL"
    if "environment variable" in lowered:
        name = location[len(ENV_PREFIX) :] if location.startswith(ENV_PREFIX) else "it"
        return f"export {name}='postgresql://user:password@host:5432/dbname' first"
    if "password" in lowered or "access denied" in lowered or "1045" in lowered:
        return f"correct the user name and password in {where}"
    if "refused" in lowered or "2003" in lowered or "can't connect" in lowered:
        return f"start the database server, or correct the host and port in {where}"
    if "database" in lowered and ("does not exist" in lowered or "unknown" in lowered):
        return f"correct the database name at the end of {where}"
    if "host name" in lowered or "resolve" in lowered:
        return f"correct the host name in {where}"
    return f"check {where}: postgresql://user:password@host:5432/dbname (or mysql://...)"
