"""Mutation-based inputs: a valid document, changed a few times at random places.

Each mutation is drawn by hypothesis (so failures shrink): cut a span, repeat a span,
insert a token that has broken parsers before, swap a byte, truncate. Works on text
so files stay mostly well-formed, which takes the fuzzer past the first syntax check.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.values import BROKEN_DATES, BROKEN_NUMBERS, EVIL_TEXT

_TOKENS = (
    *BROKEN_DATES,
    *BROKEN_NUMBERS,
    *EVIL_TEXT[:16],
    "[" * 1200,
    "{" * 10,
    '"a":',
    "\n",
    ",,,",
    "true",
    "-0",
    "1e400",
)


@st.composite
def mutated(draw: st.DrawFn, text: str, max_mutations: int = 4) -> str:
    """`text` after one to `max_mutations` random edits."""
    for _ in range(draw(st.integers(1, max_mutations))):
        if not text:
            text = draw(st.sampled_from(_TOKENS))
            continue
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        kind = draw(st.sampled_from(("cut", "repeat", "insert", "replace", "swap", "truncate")))
        if kind == "cut":
            text = text[:start] + text[end:]
        elif kind == "repeat":
            text = text[:end] + text[start:end] + text[end:]
        elif kind == "insert":
            text = text[:start] + draw(st.sampled_from(_TOKENS)) + text[start:]
        elif kind == "replace":
            text = text[:start] + draw(st.sampled_from(_TOKENS)) + text[end:]
        elif kind == "swap":
            text = text[:start] + draw(st.characters()) + text[start + 1 :]
        else:
            text = text[:start]
    return text
