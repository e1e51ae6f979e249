"""Values init writes are TOML that reads back as the same value, whatever they hold."""

from __future__ import annotations

import tomllib

from hypothesis import given
from hypothesis import strategies as st

from billdrift.onboarding.toml_text import toml_value


@given(st.text())
def test_any_text_round_trips(text: str) -> None:
    assert tomllib.loads(f"x = {toml_value(text)}")["x"] == text


@given(st.lists(st.text(max_size=8), max_size=4).map(tuple))
def test_a_tuple_is_an_array(items: tuple[str, ...]) -> None:
    assert tomllib.loads(f"x = {toml_value(items)}")["x"] == list(items)
