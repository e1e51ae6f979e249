"""A finding's message and fix declared once, as data, and compiled two ways (issue 17).

Wording a million-account run's 35,000 reported rows one Python call at a time was,
with the evidence, most of what stood between the rules' rows and the report. So each
rule declares its words as a :data:`Template` (literal text and parts reading the
row's columns), and the template is compiled

* to one SQL expression (:func:`to_sql`) that the in-process engine evaluates over all
  of a rule's reported rows at once, giving each row its message and fix as text; and
* to a Python evaluation over one row (:func:`to_words`), giving :data:`Words` (the ids
  and emails kept apart for masking): for the rows a pushed-down run sends back, and
  for the finding objects a report builds only when a reader asks for them.

There is no second copy of the wording, so the two cannot drift apart; the SQL must
give exactly ``render(to_words(...))``, and ``tests/core/test_wording.py`` holds it to
that on every reported row of every labelled rule case and on hostile text.

What SQL cannot reproduce byte for byte (Python's ``repr`` of a string needing
escapes, upper-casing a first letter outside ASCII) it leaves NULL, and that row alone
is worded in Python from the same template (:mod:`billdrift.core.found`).

The Python side keeps the f-string conventions the messages always had: a missing
value reads ``None``, ``a or b`` falls back on an empty text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Union

from billdrift.core.words import Ref, Words, render
from billdrift.infra.quoting import quote_identifier, sql_string


@dataclass(frozen=True)
class Text:
    """A column's value as text (``str(value)``, so NULL reads ``None``). With several
    columns, the first non-empty one (Python's ``a or b``); with `default`, that text
    when the value is empty. `instant` marks an ISO-8601 UTC instant (a datetime from
    a caller other than the engine is shown so too). For text and integer columns."""

    columns: tuple[str, ...]
    default: str | None = None
    instant: bool = False


@dataclass(frozen=True)
class Id:
    """An identifier (or with `email`, an email) named in the text: kept apart in the
    words so that masking replaces exactly it. Columns as for :class:`Text`."""

    columns: tuple[str, ...]
    email: bool = False


@dataclass(frozen=True)
class Capital:
    """`text` with its first letter upper-cased and nothing else touched."""

    text: Text


@dataclass(frozen=True)
class Choice:
    """The template of the case named by a column's value (`default` otherwise)."""

    column: str
    cases: tuple[tuple[str, Template], ...]
    default: Template = ()


@dataclass(frozen=True)
class When:
    """`then` when the column holds a true flag (`flag`) or a non-empty text, else
    `otherwise`."""

    column: str
    then: Template
    otherwise: Template = ()
    flag: bool = False


@dataclass(frozen=True)
class Quoted:
    """A text value as Python's ``repr`` shows it (``'pro'``), `missing` when NULL."""

    column: str
    missing: str


@dataclass(frozen=True)
class Joined:
    """A list of texts joined by ", " (``None`` when empty or NULL)."""

    column: str


@dataclass(frozen=True)
class IdList:
    """Ids, each kept apart for masking, joined by ", ": a list column, or with `split`
    a ", "-joined text column of which at most `limit` are named ("and 3 more")."""

    column: str
    split: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class Fields:
    """The app's access fields (a list of {field, value}) as "name=value, ..."."""

    column: str


Part = Union[str, Text, Id, Capital, Choice, When, Quoted, Joined, IdList, Fields]  # noqa: UP007
#: Words as data: literal text and parts that read the row.
Template = tuple[Part, ...]

Row = Mapping[str, Any]


def text(*columns: str, default: str | None = None, instant: bool = False) -> Text:
    return Text(columns, default, instant)


def ident(*columns: str) -> Id:
    return Id(columns)


def email(column: str) -> Id:
    return Id((column,), email=True)


def capitalized(template: Template) -> Template:
    """`template` starting with an upper-case letter (its literal first part's)."""
    first = template[0] if template else None
    if not isinstance(first, str):
        raise ValueError("capitalized() needs a template that starts with literal text")
    return (first[:1].upper() + first[1:], *template[1:])


# --- Python: one row -> Words -------------------------------------------------------


def to_words(template: Template, row: Row) -> Words:
    """The template's words for one row (what :func:`to_sql` renders in bulk)."""
    out: list[str | Ref] = []
    _append(out, template, row)
    return tuple(out)


def to_text(template: Template, row: Row) -> str:
    """The template's text for one row."""
    return render(to_words(template, row))


def _value(columns: tuple[str, ...], row: Row) -> Any:
    value = row.get(columns[0])
    for column in columns[1:]:
        value = value or row.get(column)
    return value


def _shown(part: Text, row: Row) -> str:
    value = _value(part.columns, row)
    if part.default is not None:
        value = value or part.default
    if part.instant and hasattr(value, "isoformat"):
        value = value.isoformat().replace("+00:00", "Z")
    return str(value)


def _append(out: list[str | Ref], template: Template, row: Row) -> None:
    for part in template:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Text):
            out.append(_shown(part, row))
        elif isinstance(part, Id):
            out.append(_ref(_value(part.columns, row), email=part.email))
        elif isinstance(part, Capital):
            shown = _shown(part.text, row)
            out.append(shown[:1].upper() + shown[1:])
        elif isinstance(part, Choice):
            cases = dict(part.cases)
            _append(out, cases.get(str(row.get(part.column)), part.default), row)
        elif isinstance(part, When):
            _append(out, part.then if row.get(part.column) else part.otherwise, row)
        elif isinstance(part, Quoted):
            value = row.get(part.column)
            out.append(part.missing if value is None else repr(value))
        elif isinstance(part, Joined):
            out.append(", ".join(row.get(part.column) or []) or "None")
        elif isinstance(part, IdList):
            _id_list(out, part, row.get(part.column))
        else:
            fields = row.get(part.column)
            named = {} if fields is None else {item["field"]: item["value"] for item in fields}
            out.append(
                ", ".join(f"{name}={'null' if raw is None else raw}" for name, raw in named.items())
            )


def _ref(value: object, email: bool = False) -> Ref | str:
    """An id (or email) named in the text (a missing one reads "None", as an f-string
    would show it; an empty one is no name to mask)."""
    if isinstance(value, str) and value:
        return Ref("email" if email else "id", value)
    return str(value)


def _id_list(out: list[str | Ref], part: IdList, value: object) -> None:
    if part.split:
        ids: Sequence[object] = str(value or "").split(", ")
    elif isinstance(value, list | tuple):
        ids = value
    else:
        out.append(str(value))
        return
    shown = ids if part.limit is None else ids[: part.limit]
    for i, one in enumerate(shown):
        if i:
            out.append(", ")
        out.append(_ref(one))
    if part.limit is not None and len(ids) > part.limit:
        out.append(f" and {len(ids) - part.limit} more")


# --- SQL: every row at once -----------------------------------------------------------

#: Text SQL gives exactly as Python's ``repr`` does: printable ASCII without a quote or
#: a backslash (anything else is left NULL, and that row worded in Python).
_PLAIN_REPR = r"[ -&(-\[\]-~]*"

#: Text whose first letter SQL upper-cases exactly as Python does (ASCII).
_ASCII_START = r"(?s)([\x00-\x7f].*)?"


def to_sql(
    template: Template,
    columns: frozenset[str],
    relation: str = "f",
    plain: Callable[[str], str] | None = None,
) -> str:
    """A DuckDB expression giving the template's text for each row of `relation` (whose
    columns are `columns`: one the template names but the rows lack reads as NULL, as
    ``row.get`` does), NULL for a row whose text only Python gives exactly.

    With `plain`, each part that shows a value as plain text (not an id or email: a
    text, a quoted or joined value, the fields) is the SQL `plain` makes of its own:
    how a masked report masks emails there (:mod:`billdrift.outputs.mask_found`)."""
    return _Compiler(columns, relation, plain).template(template)


@dataclass(frozen=True)
class _Compiler:
    columns: frozenset[str]
    relation: str
    plain: Callable[[str], str] | None = None

    def column(self, name: str) -> str:
        if name not in self.columns:
            return "CAST(NULL AS VARCHAR)"
        return f"{self.relation}.{quote_identifier(name)}"

    def text_of(self, name: str) -> str:
        return f"CAST({self.column(name)} AS VARCHAR)"

    def value(self, columns: tuple[str, ...]) -> str:
        """``a or b or c`` over text columns."""
        value = self.text_of(columns[-1])
        for name in reversed(columns[:-1]):
            own = self.text_of(name)
            value = f"CASE WHEN {own} <> '' THEN {own} ELSE {value} END"
        return value

    def shown(self, part: Text) -> str:
        value = self.value(part.columns)
        if part.default is not None:
            value = f"CASE WHEN {value} <> '' THEN {value} ELSE {sql_string(part.default)} END"
        return f"coalesce({value}, 'None')"

    def template(self, template: Template) -> str:
        if not template:
            return "''"
        return "(" + " || ".join(self.part(part) for part in template) + ")"

    def part(self, part: Part) -> str:
        if isinstance(part, str):
            return sql_string(part)
        if self.plain is not None and isinstance(part, Text | Capital | Quoted | Joined | Fields):
            return self.plain(replace(self, plain=None).part(part))
        if isinstance(part, Text):
            return self.shown(part)
        if isinstance(part, Id):
            return f"coalesce({self.value(part.columns)}, 'None')"
        if isinstance(part, Capital):
            shown = self.shown(part.text)
            return (
                f"CASE WHEN regexp_full_match({shown}, {sql_string(_ASCII_START)}) "
                f"THEN upper(left({shown}, 1)) || substr({shown}, 2) END"
            )
        if isinstance(part, Choice):
            cases = " ".join(
                f"WHEN {sql_string(key)} THEN {self.template(then)}" for key, then in part.cases
            )
            otherwise = self.template(part.default)
            return f"CASE {self.text_of(part.column)} {cases} ELSE {otherwise} END"
        if isinstance(part, When):
            column = self.column(part.column)
            test = f"coalesce({column}, false)" if part.flag else f"coalesce({column}, '') <> ''"
            then, otherwise = self.template(part.then), self.template(part.otherwise)
            return f"CASE WHEN {test} THEN {then} ELSE {otherwise} END"
        if isinstance(part, Quoted):
            value = self.text_of(part.column)
            return (
                f"CASE WHEN {value} IS NULL THEN {sql_string(part.missing)} "
                f"WHEN regexp_full_match({value}, {sql_string(_PLAIN_REPR)}) "
                f"THEN '''' || {value} || '''' END"
            )
        if isinstance(part, Joined):
            value = self.column(part.column)
            return (
                f"CASE WHEN len(coalesce({value}, [])) > 0 "
                f"THEN array_to_string({value}, ', ') ELSE 'None' END"
            )
        if isinstance(part, IdList):
            return self.id_list(part)
        value = self.column(part.column)
        pair = "x.field || '=' || coalesce(x.value, 'null')"
        return f"coalesce(array_to_string(list_transform({value}, lambda x: {pair}), ', '), '')"

    def id_list(self, part: IdList) -> str:
        if part.split:
            ids = f"string_split(coalesce({self.text_of(part.column)}, ''), ', ')"
        else:
            ids = self.column(part.column)
        shown = ids if part.limit is None else f"{ids}[1:{part.limit}]"
        listed = f"array_to_string(list_transform({shown}, lambda x: coalesce(x, 'None')), ', ')"
        if part.limit is not None:
            more = f"len({ids}) - {part.limit}"
            listed += (
                f" || CASE WHEN {more} > 0 THEN ' and ' || CAST({more} AS VARCHAR) || ' more' "
                "ELSE '' END"
            )
        if part.split:
            return listed
        return f"coalesce({listed}, 'None')"
