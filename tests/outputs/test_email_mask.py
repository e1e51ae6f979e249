"""Masking emails in text (billdrift.outputs.email_mask): the SQL the database runs for
a masked report's words gives exactly what Python gives, on hostile text too."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billdrift.outputs.email_mask import mask_email, mask_emails_in, sql_mask_emails

#: Characters emails are made of and the ones around them, non-ASCII included.
_ALPHABET = "ab.Z9_%+'-@@ .,:;()\"\n\u00e9\u00df\u2026*"

_EXAMPLES = [
    "jane.doe@example.com",
    "write to jane.doe@example.com or bo@x.org, please",
    "a@b.c",  # a one-letter top-level domain: no email
    "x@y.co.uk",
    "a@b.com2",  # the top-level domain stops at the digit
    "a@b.com.x",
    "o'neil@x.com",
    "'pro mail@plan.example.com'",
    "\u00e9@x.com and \u00dfa@y.com",
    "a***@e***.com",  # already masked: left as it is
    "cus_\u20263f9a",
    "plan=pro, email=ann@example.com",
    "@x.com ann@ @@ a@@b.com",
    "",
]


def _in_sql(texts: list[str]) -> list[str]:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (i INTEGER, s VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
        rows = con.execute(f"SELECT {sql_mask_emails('s')} FROM t ORDER BY i").fetchall()
    return [str(masked) for (masked,) in rows]


def test_examples_mask_alike() -> None:
    assert _in_sql(_EXAMPLES) == [mask_emails_in(text) for text in _EXAMPLES]
    assert mask_emails_in(_EXAMPLES[1]) == "write to j***@e***.com or b***@x***.org, please"
    assert mask_emails_in("a@b.c") == "a@b.c" and mask_email("x@y.co.uk") == "x***@y***.uk"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=40), min_size=1, max_size=20))
def test_any_text_masks_alike(texts: list[str]) -> None:
    assert _in_sql(texts) == [mask_emails_in(text) for text in texts]


@pytest.mark.parametrize("text", ["ann@example.com", "x ann@example.com y"])
def test_masked_text_is_left_as_it_is(text: str) -> None:
    once = mask_emails_in(text)
    assert mask_emails_in(once) == once == _in_sql([once])[0]
