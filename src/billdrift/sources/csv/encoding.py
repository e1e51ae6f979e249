"""The bytes both CSV readers parse: UTF-8, the file itself when it already is.

DuckDB's and Arrow's CSV readers take UTF-8 only. A file in any other encoding
is transcoded once, streaming, to a UTF-8 copy in the read's scratch directory,
so the readers, the header and the line-number passes all see the same text;
a byte the configured encoding cannot decode stops the read there, naming the
line and the setting that fixes it. A UTF-8 file is read in place, and the pass
that counts its lines checks every byte (:mod:`billdrift.sources.csv.utf8`): one
that is not UTF-8 stops the read the same way, on either side.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Final

from billdrift.errors import ConfigError, SourceError
from billdrift.infra.encodings import known_encoding
from billdrift.sources.csv.naming import Naming

#: Codecs read in place (DuckDB skips a UTF-8 byte order mark itself).
NATIVE: Final = frozenset({"utf-8", "utf-8-sig"})
#: DuckDB takes these characters in a path for a glob pattern.
_GLOB_CHARS: Final = frozenset("*?[]{}")
_CHUNK: Final = 1 << 24


def codec_name(encoding: str, setting: str) -> str:
    """The codec's canonical name (``UTF8`` -> ``utf-8``); an unknown one is a
    ConfigError naming `setting`."""
    try:
        return codecs.lookup(known_encoding(encoding)).name
    except (LookupError, ValueError):
        raise ConfigError(f"{setting}: unknown encoding {encoding!r}") from None


def utf8_file(path: Path, codec: str, scratch: Path, naming: Naming) -> Path:
    """A UTF-8 file DuckDB can read safely: the original, or a transcoded copy in `scratch`.

    DuckDB treats ``*?[]{}`` in a path as a glob, so such names are linked
    under a plain name rather than escaped.
    """
    if codec not in NATIVE:
        return _transcode(path, codec, scratch / "input.csv", naming)
    if _GLOB_CHARS.isdisjoint(str(path)):
        return path.resolve()
    link = scratch / "input.csv"
    link.symlink_to(path.resolve())
    return link


def _transcode(path: Path, codec: str, target: Path, naming: Naming) -> Path:
    """Stream `path` from `codec` to UTF-8; an undecodable byte is a SourceError."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    newlines = 0
    try:
        with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
            while chunk := source.read(_CHUNK):
                try:
                    out.write(decoder.decode(chunk))
                except UnicodeDecodeError as error:
                    line = newlines + chunk.count(b"\n", 0, max(error.start, 0)) + 1
                    raise SourceError(naming.undecodable(f"line {line}")) from None
                except UnicodeError as error:  # e.g. UTF-16 without a byte order mark
                    raise SourceError(naming.undecodable(f"line {newlines + 1}: {error}")) from None
                newlines += chunk.count(b"\n")
            try:
                out.write(decoder.decode(b"", final=True))
            except UnicodeError:
                detail = f"line {newlines + 1}: the file ends in the middle of a character"
                raise SourceError(naming.undecodable(detail)) from None
    except OSError as error:
        raise SourceError(f"cannot read {naming.file}: {error.strerror}") from None
    return target
