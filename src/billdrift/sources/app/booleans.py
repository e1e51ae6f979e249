"""The one definition of how an app's access flag is spelled.

Apps store "has access" as real booleans, 0/1 integers, or text such as
``'t'``, ``'Yes'`` or ``' enabled '``. Every app source must read these the
same way, and a value that is *not* a known spelling must never be guessed: a
text ``'false'`` read as truthy would hide exactly the drift this tool exists
to find. So the accepted spellings live here as data, with two readers built
from that data: :func:`parse_boolean` for row-at-a-time sources (SQLite,
live databases) and :func:`sql_boolean_code` for vectorized SQL (the CSV
reader runs it inside DuckDB). Tests check that the two always agree.

Empty text and NULL mean *unknown* (``None``), never ``False``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Final, cast

from billdrift.infra.quoting import sql_string

#: Spellings that mean true/false, compared after stripping :data:`WHITESPACE`
#: and lower-casing. Ordered as pairs so messages can list them side by side.
TRUE_SPELLINGS: Final[tuple[str, ...]] = ("true", "t", "yes", "y", "1", "on", "enabled")
FALSE_SPELLINGS: Final[tuple[str, ...]] = ("false", "f", "no", "n", "0", "off", "disabled")

#: The characters stripped around a value. Deliberately ASCII-only and explicit
#: so the Python and SQL readers strip exactly the same thing.
WHITESPACE: Final[str] = " \t\r\n"

#: Human-readable list of the accepted spellings, for skip reasons and docs.
ACCEPTED: Final[str] = (
    ", ".join(f"{yes}/{no}" for yes, no in zip(TRUE_SPELLINGS, FALSE_SPELLINGS, strict=True))
    + " (any case, surrounding spaces ignored; empty means unknown)"
)

#: Result codes of :func:`sql_boolean_code`: SQL has no "error" value, so the
#: vectorized reader returns a small integer and the caller skips code -1 rows.
CODE_TRUE: Final[int] = 1
CODE_FALSE: Final[int] = 0
CODE_UNRECOGNIZED: Final[int] = -1

_WORDS: Final[dict[str, bool]] = {
    **dict.fromkeys(TRUE_SPELLINGS, True),
    **dict.fromkeys(FALSE_SPELLINGS, False),
}

#: Exact values resolved with one dict lookup (the common case in real data);
#: note ``1 == 1.0 == True`` hash alike, so integral 0/1 of any numeric type hit.
_EXACT: Final[dict[object, bool | None]] = {None: None, "": None, True: True, False: False}
_EXACT.update(_WORDS)


class UnrecognizedBoolean(ValueError):
    """A value that is not one of the accepted spellings; the row must be skipped."""

    def __init__(self, value: object) -> None:
        super().__init__(f"{value!r} is not a recognized boolean; accepted: {ACCEPTED}")
        self.value = value


def parse_boolean(value: object) -> bool | None:
    """Read one value as a flag: ``True``/``False``, ``None`` when empty or NULL.

    Accepts Python booleans, the integers 0 and 1 (SQLite stores booleans that
    way; integral floats are treated alike) and the text spellings above.
    Anything else raises :class:`UnrecognizedBoolean` rather than being guessed.
    """
    try:
        return _EXACT[value]
    except (KeyError, TypeError):
        pass
    if isinstance(value, str):
        key = value.strip(WHITESPACE).lower()
        if key == "":
            return None
        if key in _WORDS:
            return _WORDS[key]
    raise UnrecognizedBoolean(value)


_MISSING: Final = object()


def parse_boolean_values(values: Sequence[object]) -> tuple[list[bool | None], list[int]]:
    """Parse a whole column with :func:`parse_boolean` rules, fast.

    Returns the parsed values (``None`` for unknown *and* for unrecognized)
    and the positions of the unrecognized ones, which the caller must skip.
    One dict lookup per value covers well-formed data; only misses pay for
    normalization.
    """
    try:
        return [_EXACT[value] for value in values], []  # every value a known spelling
    except (KeyError, TypeError):  # TypeError: an unhashable value
        pass
    get = _EXACT.get
    looked: list[object] = [
        get(value, _MISSING) if isinstance(value, Hashable) else _MISSING for value in values
    ]
    unrecognized: list[int] = []
    for index in [index for index, value in enumerate(looked) if value is _MISSING]:
        try:
            looked[index] = parse_boolean(values[index])
        except UnrecognizedBoolean:
            looked[index] = None
            unrecognized.append(index)
    return cast("list[bool | None]", looked), unrecognized


def unrecognized_reason(problems: Sequence[tuple[str, object]]) -> str:
    """Skip reason for a row whose flag field(s) hold unrecognized values.

    `problems` is ``[(field, value), ...]``; the first is named, the rest listed.
    """
    column, value = problems[0]
    reason = f"{value!r} in {column!r} is not a recognized boolean; accepted: {ACCEPTED}"
    if len(problems) > 1:
        others = ", ".join(f"{name}={raw!r}" for name, raw in problems[1:])
        reason += f" (also unrecognized: {others})"
    return reason


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(sql_string(value) for value in values)


def sql_boolean_code(column: str) -> str:
    """A DuckDB ``CASE`` expression classifying the text in `column`.

    `column` must already be a quoted identifier or expression. The result is
    :data:`CODE_TRUE`, :data:`CODE_FALSE`, NULL (NULL or blank text) or
    :data:`CODE_UNRECOGNIZED`. The first branches match the canonical
    lower-case spellings exactly, so well-formed files never pay for
    ``trim``/``lower``; the rest go through the same normalization as
    :func:`parse_boolean`. The normalized value is written once, as the operand
    of a simple ``CASE``: repeating it would let DuckDB's common-subexpression
    elimination hoist it out of the ``ELSE`` and run it on every row (6x slower).
    """
    normalized = f"lower(trim({column}, {sql_string(WHITESPACE)}))"
    branches = " ".join(
        [f"WHEN {sql_string(word)} THEN {CODE_TRUE}" for word in TRUE_SPELLINGS]
        + [f"WHEN {sql_string(word)} THEN {CODE_FALSE}" for word in FALSE_SPELLINGS]
    )
    return (
        f"(CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN {column} IN ({_sql_list(TRUE_SPELLINGS)}) THEN {CODE_TRUE}"
        f" WHEN {column} IN ({_sql_list(FALSE_SPELLINGS)}) THEN {CODE_FALSE}"
        f" ELSE (CASE {normalized} {branches} WHEN '' THEN NULL"
        f" ELSE {CODE_UNRECOGNIZED} END) END)"
    )


def sql_flag(code: str) -> str:
    """Turn a :func:`sql_boolean_code` result into a nullable SQL BOOLEAN."""
    return f"(CASE {code} WHEN {CODE_TRUE} THEN TRUE WHEN {CODE_FALSE} THEN FALSE END)"
