"""The JSON document's findings written from the columns (issue 17) are exactly what
``orjson`` writes for the finding objects: every text escaped alike, every nested
object indented alike, histories and review notes included."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import orjson
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billdrift.core.engine import reconcile
from billdrift.core.found import Found, Tracked
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from billdrift.outputs.render import render_bytes
from billdrift.outputs.render.json_findings import findings_json, json_texts
from tests.builders import NOW, account, app, billing, inputs, sub

#: Text as Python holds it and UTF-8 can carry (no lone surrogates), with what JSON
#: escapes drawn often: quotes, backslashes, control characters, and beyond ASCII.
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x1b", "\x1f", "\x7f", "\u2028", "é"]),
        st.characters(exclude_categories=("Cs",)),
    )
)


@given(st.lists(st.one_of(st.none(), _TEXT), max_size=30))
def test_a_text_is_the_json_string_orjson_writes(values: list[str | None]) -> None:
    texts = json_texts(pa.array(values, pa.string())).to_pylist()
    assert texts == [orjson.dumps(value).decode() for value in values]


def test_a_column_in_chunks_is_written_whole() -> None:
    column = pa.chunked_array([["a", 'b"'], [None], ["c\n"]], pa.string())
    assert json_texts(column).to_pylist() == ['"a"', '"b\\""', "null", '"c\\n"']


def _both_ways(report: Report) -> bytes:
    """The JSON document of `report`, from its columns; asserted to be the document its
    finding objects give."""
    assert isinstance(report.findings, Found)
    columns = render_bytes("json", report)
    objects = render_bytes("json", replace(report, findings=tuple(report.findings)))
    assert columns == objects
    return columns


def test_hostile_text_is_written_as_the_objects_write_it() -> None:
    odd = 'a"\\\x01\u2028é😀\x7f'
    report = reconcile(
        inputs(
            billing(sub("sub_" + odd, "cus_" + odd, amount=1000), sub("sub_x", "cus_x")),
            app(
                account("acct_" + odd, "cus_" + odd, access=False),
                account("acct_\n", "cus_gone\t", access=True),
            ),
        )
    )
    document = orjson.loads(_both_ways(report))
    ids = {finding["account_id"] for finding in document["findings"]}
    assert {"acct_" + odd, "acct_\n"} <= ids


def test_no_finding_is_an_empty_list() -> None:
    clean = reconcile(inputs(billing(sub("sub_1", "cus_1")), app(account("a1", "cus_1"))))
    assert isinstance(clean.findings, Found) and findings_json(clean.findings) == b"[]"
    assert orjson.loads(_both_ways(clean))["findings"] == []


def _report() -> Report:
    report = reconcile(
        inputs(
            billing(sub("sub_B", "cus_B", amount=1000), sub("sub_E", "cus_E", "canceled")),
            app(
                account("a_B", "cus_B", access=False),
                account("a_E", "cus_E", access=True),
                account("a_N", None, access=True),
            ),
        )
    )
    assert report.verdict is Verdict.FAIL and len(report.findings) == 3
    return report


def test_histories_and_reviews_are_written_as_the_objects_write_them() -> None:
    report = _report()
    found = report.findings
    assert isinstance(found, Found)
    # the same instant in two zones is written two ways, as each finding's own time says
    plus_two = timezone(timedelta(hours=2))
    tracked = found.tracked(
        Tracked(
            status=["new", "ongoing", "reopened"],
            fingerprint=["f0", 'f"1', "f2"],
            first_seen=[NOW, NOW.astimezone(plus_two), NOW - timedelta(microseconds=1)],
            review=[None, "snoozed", "acknowledged"],
            review_until=[None, NOW + timedelta(days=7), None],
            notes={1: [{"decision": "snoozed", "by": "ops", "note": 'a "quoted"\nnote'}]},
        )
    )
    document = orjson.loads(_both_ways(replace(report, findings=tracked)))
    lifecycles = [finding["lifecycle"] for finding in document["findings"]]
    assert [life["first_seen"] for life in lifecycles] == [
        NOW.isoformat().replace("+00:00", "Z"),
        NOW.astimezone(plus_two).isoformat(),  # "+02:00", not "Z"
        (NOW - timedelta(microseconds=1)).isoformat().replace("+00:00", "Z"),
    ]
    assert lifecycles[1]["review"]["decision"] == "snoozed"
    assert lifecycles[0]["review"] is None and lifecycles[2]["review"]["until"] is None
    assert document["findings"][1]["evidence"]["reviews"][0]["note"] == 'a "quoted"\nnote'


def test_a_finding_without_severity_or_evidence_is_an_error_not_a_gap() -> None:
    """A null the document cannot show would drop the finding from the list: the
    report refuses to be written instead, as writing the finding object does."""
    found = _report().findings
    assert isinstance(found, Found)
    for column in ("severity", "evidence"):
        index = found.table.schema.get_field_index(column)
        values = found.table.column(column).to_pylist()
        values[1] = None
        broken = found.table.set_column(
            index, found.table.schema.field(index), pa.array(values, found.table[column].type)
        )
        with pytest.raises(ValueError, match="1 findings lack a severity or an evidence"):
            findings_json(Found(broken, ()))
