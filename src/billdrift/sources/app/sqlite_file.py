"""Telling a SQLite database from other app inputs, without its reader.

The registry asks this of every app input, a CSV file included; the reader
(:mod:`billdrift.sources.app.sqlite`, its planning and value modules) loads only
for a database (about 15 ms of CPU, a tenth of what a small check of two files
imports after its libraries).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from billdrift.errors import SourceError

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_SUFFIXES: Final = (".db", ".sqlite", ".sqlite3")


def is_sqlite_file(path: Path) -> bool:
    """True when `path` starts with the SQLite header (never raises)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def is_sqlite_location(location: str) -> bool:
    """A ``sqlite:`` URL, a path with a SQLite suffix, or a file with the SQLite header."""
    if location.startswith("sqlite:"):
        return True
    if "://" in location:
        return False
    path = Path(location)
    return path.suffix.lower() in _SUFFIXES or (path.is_file() and is_sqlite_file(path))


def database_path(location: str) -> Path:
    """The file behind ``sqlite:///relative``, ``sqlite:////absolute`` or a plain path."""
    if not location.startswith("sqlite:"):
        return Path(location)
    if not location.startswith("sqlite:///"):
        raise SourceError(
            f"cannot read {location}: expected sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )
    path = location[len("sqlite:///") :].split("?", 1)[0]
    if not path:
        raise SourceError(f"{location} names no database file")
    return Path(path)
