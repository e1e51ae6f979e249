"""Boolean spellings: the Python parser and the SQL expression must agree, always."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billdrift.sources.app.booleans import (
    ACCEPTED,
    CODE_FALSE,
    CODE_TRUE,
    CODE_UNRECOGNIZED,
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    WHITESPACE,
    UnrecognizedBoolean,
    parse_boolean,
    parse_boolean_values,
    sql_boolean_code,
    sql_flag,
    unrecognized_reason,
)

SPELLINGS = [(word, True) for word in TRUE_SPELLINGS] + [(word, False) for word in FALSE_SPELLINGS]


def recased(word: str, mask: list[bool]) -> str:
    return "".join(char.upper() if upper else char for char, upper in zip(word, mask, strict=True))


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, bool]:
    """An accepted spelling in random case with random surrounding whitespace."""
    word, meaning = draw(st.sampled_from(SPELLINGS))
    mask = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    pad = st.text(alphabet=WHITESPACE, max_size=3)
    return draw(pad) + recased(word, mask) + draw(pad), meaning


@pytest.mark.parametrize(("word", "meaning"), SPELLINGS)
def test_every_spelling_in_lower_upper_and_title_case(word: str, meaning: bool) -> None:
    for variant in (word, word.upper(), word.title(), f"  {word}\t", f"\n{word.upper()} "):
        assert parse_boolean(variant) is meaning


@given(spelled())
def test_any_case_and_padding_parses_to_its_meaning(case: tuple[str, bool]) -> None:
    text, meaning = case
    assert parse_boolean(text) is meaning


@pytest.mark.parametrize("text", ["false", "FALSE", " False ", "0", "no", "off", "disabled", "F"])
def test_text_false_is_never_true(text: str) -> None:
    assert parse_boolean(text) is False


@pytest.mark.parametrize("value", [None, "", "   ", "\t\r\n"])
def test_empty_and_null_mean_unknown(value: object) -> None:
    assert parse_boolean(value) is None


@pytest.mark.parametrize(
    ("value", "meaning"), [(1, True), (0, False), (True, True), (False, False), (1.0, True)]
)
def test_typed_values_from_databases(value: object, meaning: bool) -> None:
    assert parse_boolean(value) is meaning


@pytest.mark.parametrize(
    "value", ["2", "1.0", "truee", "yes!", "null", "none", "t r u e", 2, -1, 0.5, b"1", [1]]
)
def test_anything_else_is_refused_not_guessed(value: object) -> None:
    with pytest.raises(UnrecognizedBoolean) as error:
        parse_boolean(value)
    assert ACCEPTED in str(error.value)


def test_accepted_lists_every_pair() -> None:
    assert ACCEPTED.startswith("true/false, t/f, yes/no, y/n, 1/0, on/off, enabled/disabled")


def test_parse_boolean_values_reports_positions() -> None:
    values: list[object] = ["true", 0, None, "junk", " YES ", 7, ""]
    parsed, unrecognized = parse_boolean_values(values)
    assert parsed == [True, False, None, None, True, None, None]
    assert unrecognized == [3, 5]
    assert parse_boolean_values(["t", "f"]) == ([True, False], [])


def test_unrecognized_reason_names_field_value_and_others() -> None:
    reason = unrecognized_reason([("is_pro", "maybe"), ("paid", 2)])
    assert reason == (
        f"'maybe' in 'is_pro' is not a recognized boolean; accepted: {ACCEPTED} "
        "(also unrecognized: paid=2)"
    )


def sql_codes(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> list[int | None]:
    rows = con.execute(
        f"SELECT {sql_boolean_code('v')} FROM (SELECT unnest($1::VARCHAR[]) AS v, "
        "generate_subscripts($1::VARCHAR[], 1) AS i) ORDER BY i",
        [values],
    ).fetchall()
    return [row[0] for row in rows]


def python_code(value: str | None) -> int | None:
    try:
        parsed = parse_boolean(value)
    except UnrecognizedBoolean:
        return CODE_UNRECOGNIZED
    return None if parsed is None else (CODE_TRUE if parsed else CODE_FALSE)


#: Text DuckDB can hold: no NUL, no lone surrogates.
SQL_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_sql_agrees_with_python_on_every_spelling(con: duckdb.DuckDBPyConnection) -> None:
    values: list[str | None] = [None, "", "  ", "maybe", "1.0", "İ"]
    for word, _ in SPELLINGS:
        values += [word, word.upper(), word.title(), f" {word}\t", f"\r\n{word} "]
    assert sql_codes(con, values) == [python_code(value) for value in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(spelled().map(lambda case: case[0]), SQL_TEXT), max_size=40))
def test_sql_agrees_with_python_on_random_text(
    con: duckdb.DuckDBPyConnection, values: list[str]
) -> None:
    assert sql_codes(con, list(values)) == [python_code(value) for value in values]


def test_sql_flag_turns_codes_into_booleans(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        f"SELECT {sql_flag(sql_boolean_code('v'))} FROM (SELECT unnest($1::VARCHAR[]) AS v, "
        "generate_subscripts($1::VARCHAR[], 1) AS i) ORDER BY i",
        [["TRUE", "false", None, "junk"]],
    ).fetchall()
    assert [row[0] for row in rows] == [True, False, None, None]
