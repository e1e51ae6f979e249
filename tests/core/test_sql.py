"""The one SQL text helper: holes filled by name, mistakes refused where they are made."""

from __future__ import annotations

import pytest

from billdrift.core.sql import sql


def test_holes_are_filled_by_name_and_sql_braces_are_left_alone() -> None:
    text = sql(
        "SELECT {columns}, {'k': 1} AS s FROM {relation} WHERE regexp_matches(x, '^a{2,3}$')",
        columns="a, b",
        relation="t",
    )
    assert text == "SELECT a, b, {'k': 1} AS s FROM t WHERE regexp_matches(x, '^a{2,3}$')"


def test_filled_text_is_not_read_for_holes_again() -> None:
    assert sql("SELECT {a}", a="'{b}'") == "SELECT '{b}'"


def test_a_hole_without_a_value_is_refused() -> None:
    with pytest.raises(KeyError, match=r"\{relation\} has no value"):
        sql("SELECT * FROM {relation}")


def test_a_value_without_a_hole_is_refused() -> None:
    with pytest.raises(KeyError, match="relaton"):
        sql("SELECT * FROM {relation}", relation="t", relaton="u")
