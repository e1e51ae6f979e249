"""What billdrift accepts as the name of a text encoding, checked when settings are read.

An unknown name in ``billing.encoding`` or ``app.encoding`` is an error of the config
file, reported with the file and the key, not of the input later read with it. Python
knows codecs that are no text encodings (``rot13``, ``base64``, ``zlib``): decoding a
file with one fails in ways no reader expects, so they are refused here too.
"""

from __future__ import annotations


def known_encoding(name: str) -> str:
    """`name` when it names a text encoding; ValueError (for pydantic) otherwise."""
    try:
        b"".decode(name)
        "".encode(name)
    except (LookupError, ValueError):
        raise ValueError(
            f'unknown text encoding {name!r} (try "utf-8", "latin-1" or "cp1252")'
        ) from None
    return name
