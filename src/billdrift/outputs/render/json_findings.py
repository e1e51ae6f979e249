"""The JSON document's findings, written from the report's columns.

A million-account run reports tens of thousands of findings. Turning each into a
Python dict (eleven values read out of the columns into Python objects, a dict
built, then walked by the serializer) was the last per-finding Python on a check's
path (issue 17 asks for none). Here the text of every finding is put together column
by column with Arrow's string kernels, and the document takes it as one fragment. At
1M x 1M it takes what the dicts took (about 0.08 s for 35,000 findings): the cost is
now in copying the 35 MB of text, not in Python objects, of which it makes none per
finding.

The text must be exactly what ``orjson`` writes for :func:`.json_format.finding_dict`
in the indented document, so that the document does not depend on how the findings
were held (columns in-process, objects when pushed down). Every labelled rule case
(``tests/outputs/mask_check.py``) and ``tests/outputs/test_json_findings.py`` (arbitrary
text, histories, review notes) hold it to that. How it gets there:

* a text value becomes a JSON string by escaping its backslashes and double quotes;
  the rare value holding a control character (U+0000 to U+001F: ``orjson`` writes
  ``\\n`` and ``\\u001b`` forms for them) is written by ``orjson`` itself;
* values with few distinct forms (severity, confidence, first-seen times) are written
  by ``orjson`` once per distinct value and placed by index;
* the evidence is already compact JSON text (the engine writes it as ``orjson`` would).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.found import Found, Tracked
from billdrift.core.instants import utc_text
from billdrift.core.model import SEVERITY_LABELS

#: Where a finding's keys start: the findings list is a key of the document (depth 1),
#: each finding an item of it (depth 2), its keys at depth 3; nested objects one and two
#: levels further (the exposure and the lifecycle, a lifecycle's review).
_KEY = "\n      "
_NESTED = "\n        "
_NESTED_TWICE = "\n          "

#: A control character: the only text ``orjson`` escapes besides ``"`` and ``\\``.
_CONTROL = r"[\x00-\x1f]"
#: Any character ``orjson`` escapes.
_SPECIAL = r"[\x00-\x1f\"\\]"


def findings_json(found: Found) -> bytes:
    """The document's ``findings`` list as ``orjson`` writes it indented by two, at
    its place in the document: ``[]``, or the findings one per block, in report order."""
    if not len(found):
        return b"[]"
    table = found.table
    money = _combined(table.column("monthly_amount"))
    pieces: list[pa.Array | str] = [
        '    {\n      "kind": ',
        json_texts(table.column("kind")),
        f',{_KEY}"severity": ',
        _by_value(table.column("severity"), [orjson.dumps(label) for label in SEVERITY_LABELS]),
        f',{_KEY}"confidence": ',
        _distinct_texts(table.column("confidence")),
        f',{_KEY}"account_id": ',
        json_texts(table.column("account_id")),
        f',{_KEY}"customer_id": ',
        json_texts(table.column("customer_id")),
        f',{_KEY}"subscription_id": ',
        json_texts(table.column("subscription_id")),
        f',{_KEY}"exposure": ',
        _object(
            money,
            [("monthly_amount", json_texts(money)), ("currency", json_texts(table["currency"]))],
            _NESTED,
        ),
        f',{_KEY}"message": ',
        json_texts(table.column("message")),
        f',{_KEY}"fix": ',
        json_texts(table.column("fix")),
        f',{_KEY}"evidence": ',
        _evidence(found),
        f',{_KEY}"lifecycle": ',
        "null" if found.tracking is None else _lifecycles(found.tracking),
        "\n    },\n",
    ]
    texts = pc.binary_join_element_wise(*[_large(piece) for piece in [*pieces, ""]])
    if texts.null_count:  # a piece the document cannot show as null: left out, silently
        raise ValueError(
            f"{texts.null_count} findings lack a severity or an evidence text: "
            "the report cannot be written"
        )
    offsets = pa.Array.from_buffers(
        pa.int64(), len(texts) + 1, [None, texts.buffers()[1]], offset=texts.offset
    )
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    data = memoryview(texts.buffers()[2])
    # every finding's text ends ",\n": the last one ends the list instead
    return b"".join([b"[\n", data[start : end - 2], b"\n  ]"])


def json_texts(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Each value of a text column as a JSON string literal (``null`` for null), as
    ``orjson`` writes it."""
    values = _combined(column).cast(pa.large_string())
    special = pc.fill_null(pc.match_substring_regex(values, _SPECIAL), False)
    if not pc.any(special).as_py():  # most columns: one pass, and nothing to rewrite
        return _quoted(values)
    escaped = pc.replace_substring(values, "\\", "\\\\")
    quoted = _quoted(pc.replace_substring(escaped, '"', '\\"'))
    controlled = pc.fill_null(pc.match_substring_regex(values, _CONTROL), False)
    if not pc.any(controlled).as_py():
        return quoted
    rare = values.filter(controlled).to_pylist()
    written = pa.array([orjson.dumps(text).decode() for text in rare], pa.large_string())
    return pc.replace_with_mask(quoted, controlled, written)


def _quoted(texts: pa.Array) -> pa.Array:
    """`texts` (escaped) between double quotes; ``null`` for null."""
    quote = _large('"')
    return pc.fill_null(pc.binary_join_element_wise(quote, texts, quote, _large("")), "null")


def _combined(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _large(piece: pa.Array | str) -> pa.Array | pa.Scalar:
    if isinstance(piece, str):
        return pa.scalar(piece, pa.large_string())
    return piece.cast(pa.large_string())


def _by_value(column: pa.ChunkedArray, written: Sequence[bytes]) -> pa.Array:
    """The text of each small integer value of `column`, from `written` by value."""
    return pc.take(pa.array([text.decode() for text in written]), _combined(column))


def _distinct_texts(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Each value as ``orjson`` writes it, written once per distinct value."""
    values = _combined(column)
    distinct = pc.unique(values)
    written = pa.array([orjson.dumps(value).decode() for value in distinct.to_pylist()])
    return pc.take(written, pc.index_in(values, value_set=distinct))


def _object(present: pa.Array, fields: list[tuple[str, pa.Array]], indent: str) -> pa.Array:
    """An indented object of `fields` (each value already JSON text) where `present` is
    valid, ``null`` where it is null; `indent` starts its keys (one level deeper than the
    key holding it)."""
    outer = indent[:-2]
    pieces: list[pa.Array | str] = []
    for index, (key, texts) in enumerate(fields):
        pieces += [("{" if index == 0 else ",") + f'{indent}"{key}": ', texts]
    joined = pc.binary_join_element_wise(*[_large(piece) for piece in [*pieces, outer + "}", ""]])
    return pc.if_else(pc.is_valid(present), joined, pa.scalar("null", pa.large_string()))


def _evidence(found: Found) -> pa.Array:
    """The evidence texts: as the engine wrote them, or written again where a finding's
    history adds review notes (:meth:`Found.evidence_texts`)."""
    if found.tracking is not None and found.tracking.notes:
        return pa.array(found.evidence_texts(), pa.large_string())
    return _combined(found.table.column("evidence"))


def _lifecycles(tracked: Tracked) -> pa.Array:
    """Each finding's lifecycle object, as :func:`.json_format._history` shows it."""
    reviews = pa.array(tracked.review, pa.string())
    review = _object(
        reviews,
        [("decision", json_texts(reviews)), ("until", _moments(tracked.review_until))],
        _NESTED_TWICE,
    )
    status = pa.array(tracked.status, pa.string())
    return _object(
        status,
        [
            ("status", json_texts(status)),
            ("fingerprint", json_texts(pa.array(tracked.fingerprint, pa.string()))),
            ("first_seen", _moments(tracked.first_seen)),
            ("review", review),
        ],
        _NESTED,
    )


def _moments(moments: Sequence[datetime | None]) -> pa.Array:
    """Each time as JSON text, written once per distinct time: a history's times are
    the few runs that first saw its findings. Keyed with the time zone too: equal times
    in two zones are written apart."""
    keys = [(moment, None if moment is None else moment.tzinfo) for moment in moments]
    written: dict[Any, str] = {key: orjson.dumps(utc_text(key[0])).decode() for key in set(keys)}
    return pa.array([written[key] for key in keys], pa.large_string())
