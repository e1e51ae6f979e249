"""Receiving dropped files: streamed to a private directory, never whole in memory.

A million-row export is 100-300 MB, and there may be several. Starlette's own
form parsing would spool each file to the system's shared temporary directory
first; here the request body is parsed as it arrives (python-multipart's
streaming parser, the one Starlette uses) and each file part is written straight
into the audit's own directory (0700, see :mod:`billdrift.web.audit_jobs`), a
chunk at a time.

* **Size limit.** The whole body counts against ``max_upload_bytes``: a
  ``Content-Length`` over it, or a body that grows over it, stops the writing at
  once; the rest of the body is read and thrown away (so the browser gets the
  page saying why, not a reset connection) and the caller removes the directory.
* **Cross-site.** The middleware has checked the Origin; the form's CSRF token
  must come as the first field, before any file: no byte of a file is written
  for a request that has not shown it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

from billdrift.web.security import CSRF_FIELD, CrossSiteError, session_of, token_matches

#: Form fields that carry files, and what they are.
FILE_FIELDS: Final = ("billing", "app")
#: Text fields are small (a token, a date): anything longer is refused.
_MAX_TEXT: Final = 4096


class UploadTooLarge(Exception):
    """The upload is over the configured limit."""


class BadUpload(Exception):
    """The request is not a form this page sent (no multipart body, a text field too long)."""


@dataclass(frozen=True)
class Uploaded:
    """One received file."""

    field: str
    #: The file's own name, as the person knows it (no directories).
    name: str
    path: Path
    size: int


@dataclass
class _State:
    folder: Path
    csrf: str
    fields: dict[str, str] = field(default_factory=dict)
    files: list[Uploaded] = field(default_factory=list)
    header_name: bytes = b""
    header_value: bytes = b""
    disposition: bytes = b""
    name: str = ""
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)
    handle: IO[bytes] | None = None
    checked: bool = False


def shown_size(size: float) -> str:
    """``1.5 MB``: decimal units, as file managers show them."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"  # not reached


def display_name(filename: str) -> str:
    """The last path part of a browser-given file name, without control characters:
    a plain file name, safe to create in a folder (never ``..`` or empty)."""
    base = re.split(r"[\\/]", filename)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()[:200]
    return cleaned if cleaned.strip(".") else "unnamed"


async def receive(
    request: Request, folder: Path, limit: int
) -> tuple[dict[str, str], list[Uploaded]]:
    """Stream the request's multipart body into `folder`: (text fields, files).

    Raises UploadTooLarge (after draining the body), CrossSiteError when the CSRF
    token is not the first field or does not match, BadUpload for anything else
    this page would never send.
    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadUpload("expected a file upload form (multipart/form-data)")
    declared = request.headers.get("content-length", "")
    too_large = declared.isdigit() and int(declared) > limit
    state = _State(folder, session_of(request).csrf)
    parser = MultipartParser(boundary, _callbacks(state))
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            too_large = too_large or received > limit
            if not too_large:
                parser.write(chunk)
        if too_large:
            raise UploadTooLarge(
                f"the upload is {shown_size(max(received, int(declared or 0)))}, over this "
                f"server's limit of {shown_size(limit)}"
            )
        parser.finalize()
    finally:
        if state.handle is not None:
            state.handle.close()
    if not state.checked:
        raise CrossSiteError("the form's CSRF token is missing or does not match this session")
    return state.fields, state.files


def _callbacks(state: _State) -> MultipartCallbacks:
    def on_part_begin() -> None:
        state.disposition, state.name, state.filename = b"", "", None
        state.text.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        if state.header_name.lower() == b"content-disposition":
            state.disposition = state.header_value
        state.header_name, state.header_value = b"", b""

    def on_headers_finished() -> None:
        _, params = parse_options_header(state.disposition)
        state.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        state.filename = None if filename is None else filename.decode("utf-8", "replace")
        if state.filename is not None:
            if not state.checked:
                raise CrossSiteError("the form's CSRF token must come before its files")
            if state.name in FILE_FIELDS and state.filename:
                # each file keeps its own name (in a folder of its own, as two files may
                # share a name), so every message, skip and evidence names it as the
                # person knows it
                place = state.folder / f"{state.name}-{len(state.files)}"
                place.mkdir(mode=0o700)
                path = place / display_name(state.filename)
                state.handle = path.open("xb")
                state.files.append(Uploaded(state.name, display_name(state.filename), path, 0))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.handle is not None:
            state.handle.write(data[start:end])
        elif state.filename is None:
            state.text += data[start:end]
            if len(state.text) > _MAX_TEXT:
                raise BadUpload(f"form field {state.name!r} is too long")

    def on_part_end() -> None:
        if state.handle is not None:
            state.handle.close()
            state.handle = None
            last = state.files[-1]
            state.files[-1] = Uploaded(last.field, last.name, last.path, last.path.stat().st_size)
        elif state.filename is None:
            value = state.text.decode("utf-8", "replace")
            if state.name == CSRF_FIELD and not state.fields:
                state.checked = token_matches(value, state.csrf)
            state.fields[state.name] = value

    return {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
