"""Values that have broken parsers before, and the strategies that mix them with good ones.

``BROKEN_*`` values must always be refused (a skipped row or a named error); the
``EVIL_*`` pools also hold values a parser may legitimately accept, so they test
robustness, not correctness.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Texts that are no acceptable instant: a date field holding one is broken.
BROKEN_DATES = (
    "infinity",
    "-infinity",
    "inf",
    "Infinity",
    "epoch",
    "0000-01-01",
    "-0001-01-01",
    "10000-01-01",
    "1969-12-31",
    "2026-12-01T00:00:00+99:00",
    "2026-12-01T00:00:00-19:00",
    "2026-13-01",
    "2026-02-30",
    "garbage",
)
#: Numbers beyond every bound of core.bounds, as JSON text.
BROKEN_NUMBERS = ("9223372036854775808", "1e308", "-1e308", "NaN", "Infinity", "-Infinity")
EVIL_NUMBERS: tuple[Any, ...] = (
    2**63,
    2**63 - 1,
    -(2**63) - 1,
    2**64,
    10**30,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    0,
    -1,
    1.5,
    1e-300,
    10**12,
    10**12 + 1,
)
EVIL_TEXT = (
    "",
    " ",
    "\x00",
    "\ufeff",
    "\u202e",
    '"',
    "'",
    ",",
    ";",
    "\t",
    "\r\n",
    "\\",
    "null",
    "NaN",
    "é",
    "💳",
    "x" * 5000,
    "9" * 5000,
    "%s%n",
    "{}",
    "[]",
)


def unix_seconds() -> st.SearchStrategy[int]:
    """Plausible Stripe timestamps (2020..2030)."""
    return st.integers(1_577_836_800, 1_893_456_000)


def iso_instant() -> st.SearchStrategy[str]:
    return unix_seconds().map(_iso)


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def evil_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(EVIL_TEXT), st.text(max_size=40))


def anything() -> st.SearchStrategy[Any]:
    """Any JSON value, nested a little, with the evil ones likely."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(EVIL_NUMBERS),
        st.integers(),
        st.floats(),
        evil_text(),
        st.sampled_from(BROKEN_DATES),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def maybe_evil(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `good`, sometimes anything."""
    return st.one_of(good, good, good, anything())
