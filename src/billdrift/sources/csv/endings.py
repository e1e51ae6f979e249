"""Line endings DuckDB's strict CSV parser does not take as they are.

DuckDB stops at a file that mixes CRLF and LF endings, and at a carriage return
that ends no line; it does not take a carriage return alone as a line ending
(classic Mac, old Excel exports). A copy with LF endings only has the same
physical lines, so the readers parse that instead and line numbers still point
at the user's file; a carriage return inside a line is named by its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

#: How much of a file tells its line endings.
PROBE_BYTES: Final = 1 << 16


def cr_only(head: bytes | str) -> bool:
    """Whether a file starting with `head` ends its lines with a carriage return
    alone: one in the first 64 KB and no line feed."""
    probe = head[:PROBE_BYTES]
    if isinstance(probe, str):
        return "\r" in probe and "\n" not in probe
    return b"\r" in probe and b"\n" not in probe


def lf_only_copy(path: Path, target: Path, lone_cr: bool) -> Path:
    """A copy with CRLF (and, when `lone_cr`, CR alone) line endings turned into LF.

    DuckDB's strict parser stops at mixed CRLF/LF endings; the LF-only copy has
    the same physical lines, so line numbers in messages still point at the
    user's file.
    """
    data = path.read_bytes().replace(b"\r\n", b"\n")
    target.write_bytes(data.replace(b"\r", b"\n") if lone_cr else data)
    return target


def stray_return_message(path: Path, what: str) -> str | None:
    """Why DuckDB's strict parser stopped on an LF-only file: the line of its first
    carriage return (one that ends no line), or None when it has none."""
    data = path.read_bytes()
    position = data.find(b"\r")
    if position < 0:
        return None
    line = data.count(b"\n", 0, position) + 1
    return (
        f"cannot parse {what}: line {line} has a carriage return (\\r) outside quotes; "
        "remove it or quote that value"
    )
