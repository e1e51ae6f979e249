"""`billdrift review` a page at a time (issue 18): a default limit, a line saying how
many more match and how to see them, filters as options, and the JSON page shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billdrift.cli.review import review
from billdrift.core.model import Kind, Severity
from billdrift.history import fingerprint, open_store, record_run
from billdrift.history.queue import DEFAULT_LIMIT
from tests.history.helpers import at, finding, report

MANY = tuple(
    finding(Kind.UNPAID_BUT_ACTIVE, f"u{n}", f"cus_{n}", amount=f"{n}.00")
    for n in range(1, DEFAULT_LIMIT + 8)
)
LOW = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_x", "sub_x", severity=Severity.LOW)


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(review, list(args), env={"BILLDRIFT_USER": "ann", "COLUMNS": "200"})


@pytest.fixture
def location(tmp_path: Path) -> str:
    path = str(tmp_path / "history.sqlite")
    with open_store(path) as store:
        record_run(store, report(*MANY, LOW), at(0), at(0.1))
    return path


def _numbers(out: str) -> list[int]:
    return [int(match.group(1)) for match in re.finditer(r"^ *(\d+)\. ", out, re.MULTILINE)]


def test_the_default_page_and_the_line_about_the_rest(location: str) -> None:
    out = _invoke("--history", location).stdout
    total = len(MANY) + 1
    assert f"billdrift review: {total} findings need a person" in out
    assert f"showing 1-{DEFAULT_LIMIT}" in out
    assert _numbers(out) == list(range(1, DEFAULT_LIMIT + 1))
    rest = total - DEFAULT_LIMIT
    assert f"{rest} more match: --page 2 for the next {rest}, --limit N" in out
    second = _invoke("--history", location, "--page", "2").stdout
    assert _numbers(second) == list(range(DEFAULT_LIMIT + 1, total + 1))
    assert "more match" not in second
    assert short_of(LOW) in second  # the low one is last


def short_of(f: object) -> str:
    return fingerprint(f)[:12]  # type: ignore[arg-type]


def test_limit_offset_and_everything(location: str) -> None:
    out = _invoke("--history", location, "--limit", "5", "--offset", "3").stdout
    assert _numbers(out) == [4, 5, 6, 7, 8]
    assert "more match: --offset 8 for the next 5" in out
    everything = _invoke("--history", location, "--limit", "0").stdout
    assert _numbers(everything) == list(range(1, len(MANY) + 2))
    assert "more match" not in everything and "showing" not in everything


def test_paging_options_that_contradict_are_usage_errors(location: str) -> None:
    both = _invoke("--history", location, "--page", "2", "--offset", "3")
    assert both.exit_code == 2 and "--page or --offset, not both" in both.stderr
    unpaged = _invoke("--history", location, "--page", "2", "--limit", "0")
    assert unpaged.exit_code == 2
    assert _invoke("--history", location, "--kind", "nope").exit_code == 2


def test_filters_as_options(location: str) -> None:
    out = _invoke("--history", location, "--severity", "low").stdout
    assert "billdrift review: 1 finding matches these filters" in out
    assert short_of(LOW) in out
    none = _invoke("--history", location, "--search", "no-such-id").stdout
    assert "no finding matches these filters" in none
    found = json.loads(_invoke("--history", location, "--search", "U7", "--format", "json").stdout)
    assert [i["account_id"] for i in found["items"]] == ["u7"]
    money = json.loads(
        _invoke("--history", location, "--sort", "money", "--limit", "2", "--format", "json").stdout
    )
    assert [i["account_id"] for i in money["items"]] == [f"u{len(MANY)}", f"u{len(MANY) - 1}"]


def test_the_json_page(location: str) -> None:
    document = json.loads(
        _invoke("--history", location, "--format", "json", "--limit", "10", "--page", "3").stdout
    )
    assert document["page"] == {
        "offset": 20,
        "limit": 10,
        "returned": 10,
        "total": len(MANY) + 1,
        "remaining": len(MANY) + 1 - 30,
    }
    assert document["query"] == {
        "kinds": [],
        "severities": [],
        "lifecycles": [],
        "review_states": ["undecided"],
        "currencies": [],
        "text": "",
        "sort": "severity",
    }
    assert document["counts"] == {
        "by_review_state": {
            "undecided": len(MANY) + 1,
            "acknowledged": 0,
            "snoozed": 0,
            "expected": 0,
        },
        "noted": 0,
    }
    assert len(document["items"]) == 10


def test_past_the_last_page_says_how_many_match(location: str) -> None:
    out = _invoke("--history", location, "--page", "9").stdout
    assert f"nothing at offset 400: {len(MANY) + 1} findings match" in out
