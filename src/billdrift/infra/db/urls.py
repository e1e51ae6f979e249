"""Database URLs: parsed once, shown only redacted, never leaked through an error.

URLs follow SQLAlchemy's form (``postgresql+psycopg://user:pass@host:5432/db``);
the ``+driver`` part is accepted and ignored, because billdrift picks the driver
it reads fastest with. A URL may also be named indirectly as ``env:NAME`` so the
secret stays in the environment (``env:DATABASE_URL``); the variable's *name*
is what reports show.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

from billdrift.errors import ConfigError
from billdrift.infra.secrets import SECRET_WORDS as SECRET_WORDS
from billdrift.infra.secrets import scrub
from billdrift.infra.secrets import scrub_urls as scrub_urls

#: URL scheme (before any ``+driver``) -> dialect.
SCHEMES: Final = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "pgsql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
DEFAULT_PORTS: Final = {"postgresql": 5432, "mysql": 3306}
ENV_PREFIX: Final = "env:"
_SCHEME: Final = re.compile(r"^([A-Za-z][A-Za-z0-9]*)(\+[A-Za-z0-9_]+)?://")
REDACTED: Final = "***"


def is_database_url(location: str) -> bool:
    """True for ``env:NAME`` and for URLs of a dialect billdrift reads."""
    if location.startswith(ENV_PREFIX):
        return True
    match = _SCHEME.match(location)
    return match is not None and match.group(1).lower() in SCHEMES


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL. ``str()`` and ``repr()`` never show the password."""

    dialect: str  # postgresql | mysql | sqlite
    host: str | None
    port: int | None
    user: str | None
    password: str | None
    database: str | None
    query: tuple[tuple[str, str], ...]
    #: ``env:NAME`` when the URL came from the environment, for messages.
    env_name: str | None = None
    raw: str = ""

    @property
    def redacted(self) -> str:
        """The URL with its password replaced, as shown in reports and errors."""
        return redact(self.raw) if self.raw else f"{self.dialect}://"

    @property
    def shown(self) -> str:
        """How reports name this database: the variable's name, or the redacted URL."""
        if self.env_name:
            return f"{ENV_PREFIX}{self.env_name} ({self.redacted})"
        return self.redacted

    def scrub(self, text: str) -> str:
        """`text` (a driver's error message, say) with every trace of the password
        and the raw URL replaced: drivers have been known to echo connection strings."""
        if self.raw:
            text = text.replace(self.raw, self.redacted)
        if self.password:
            text = scrub(text, (self.password,))
        return text

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.shown!r})"


def _userinfo(url: str) -> tuple[str, str | None, str]:
    """(``scheme://``, the user information or None, the rest) of `url`.

    The user information runs to the *last* ``@``: a password is often pasted with
    ``?``, ``/`` or ``#`` left unencoded, and a parser that stops the authority at
    the first of those would take the password for a path or a query and show it.
    """
    head, sep, tail = url.partition("://")
    if not sep:
        return url, None, ""
    userinfo, at, rest = tail.rpartition("@")
    return (f"{head}://", userinfo, rest) if at else (f"{head}://", None, tail)


def redact(url: str) -> str:
    """``scheme://user:***@host/db`` for any URL carrying a password (or a token in
    its query string); other text unchanged. Safe on malformed URLs: whatever
    precedes the last ``@`` after the user name is never shown."""
    if "://" not in url:
        return url
    prefix, userinfo, rest = _userinfo(url)
    credentials = ""
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        credentials = f"{user}:{REDACTED}@" if colon else f"{user}@"
    parts = urlsplit(prefix + rest)
    query = "&".join(
        f"{key}={REDACTED}" if _secret_key(key) else f"{key}={value}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    rebuilt = f"{prefix}{credentials}{parts.netloc}{parts.path}"
    return f"{rebuilt}?{query}" if query else rebuilt


def _secret_key(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def resolve(location: str) -> DatabaseUrl:
    """Parse a URL, or read it from the environment for ``env:NAME``.

    Raises ConfigError naming the variable (never its value) or the redacted URL.
    """
    env_name = None
    raw = location
    if location.startswith(ENV_PREFIX):
        env_name = location[len(ENV_PREFIX) :].strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env_name or ""):
            raise ConfigError(
                f"{location!r} is not a valid environment variable reference; "
                "expected env:NAME, e.g. env:DATABASE_URL"
            )
        raw = os.environ.get(env_name, "").strip()
        if not raw:
            raise ConfigError(
                f"environment variable {env_name} is not set (or empty); it should hold "
                "the database URL, e.g. postgresql://user:password@host:5432/dbname"
            )
        if not _SCHEME.match(raw):
            raise ConfigError(
                f"environment variable {env_name} does not hold a database URL (expected "
                "postgresql://, mysql:// or sqlite:///...)"
            )
    return _parse(raw, env_name)


def _parse(raw: str, env_name: str | None) -> DatabaseUrl:
    match = _SCHEME.match(raw)
    where = f"{ENV_PREFIX}{env_name}" if env_name else redact(raw)
    if not match or match.group(1).lower() not in SCHEMES:
        raise ConfigError(
            f"cannot read {where}: expected a URL starting postgresql://, mysql://, "
            "mariadb:// or sqlite:///"
        )
    dialect = SCHEMES[match.group(1).lower()]
    prefix, userinfo, rest = _userinfo(raw)
    parts = urlsplit(prefix + rest)
    user, colon, password = (userinfo or "").partition(":")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"cannot read {where}: the port is not a number") from None
    params = dict(parse_qsl(parts.query))
    if dialect != "sqlite" and not parts.hostname and not {"host", "unix_socket"} & set(params):
        raise ConfigError(
            f"cannot read {where}: no host; expected {dialect}://user:password@host:port/db"
        )
    database = unquote(parts.path.lstrip("/")) or None
    if dialect == "sqlite":
        database = raw[len(match.group(0)) :].split("?", 1)[0] or None
    return DatabaseUrl(
        dialect=dialect,
        host=parts.hostname,
        port=port or DEFAULT_PORTS.get(dialect),
        user=unquote(user) if user else None,
        password=unquote(password) if colon else None,
        database=database,
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        env_name=env_name,
        raw=raw,
    )
