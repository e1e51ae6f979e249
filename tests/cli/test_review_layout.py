"""How `billdrift review` reads on a terminal (issue 14): lines fit the width without
cutting an id, a decision is shown once, `review show` gives consecutive runs in the
same state one line, and ids sort as numbers ("2, 6, 19")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billdrift.cli.review import review
from billdrift.core.model import Finding, Kind, Severity
from billdrift.history import fingerprint, open_store, record_run
from billdrift.history.fingerprint import short
from billdrift.history.queue import QueueQuery, queue_page
from tests.history.helpers import at, finding, report

LONG_ID = "cus_" + "x" * 120  # wider than any line: it must stay whole anyway
MESSAGE = (
    "Stripe says sub_1 is active (cancellation scheduled for 2026-12-05T00:00:00Z; paid "
    "until then), but the app denies access to account u1 (has_paid_access=0, "
    "subscription_status=active, plan=pro, trial_ends_at=null)."
)


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def _invoke(*args: str, columns: int | None = None) -> Result:
    env = {"BILLDRIFT_USER": "ann"} | ({"COLUMNS": str(columns)} if columns else {})
    result = CliRunner().invoke(review, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def _record(location: Path, *runs: tuple[Finding, ...]) -> None:
    with open_store(location) as store:
        for hour, findings in enumerate(runs):
            record_run(store, report(*findings), at(hour), at(hour + 0.1))


def _long(location: Path) -> Finding:
    wide = finding(customer=LONG_ID, subscription="sub_1", message=MESSAGE)
    _record(location, (wide,))
    return wide


@pytest.mark.parametrize(("columns", "width"), [(None, 100), (60, 60), (140, 140)])
def test_queue_lines_fit_the_width_and_ids_stay_whole(
    tmp_path: Path, columns: int | None, width: int
) -> None:
    location = tmp_path / "history.sqlite"
    wide = _long(location)
    out = _invoke("--history", str(location), columns=columns).stdout
    for line in out.splitlines():
        assert len(line) <= width or len(line.split()) == 1, line  # or one word too wide
    words = out.split()
    assert LONG_ID + "," in words and "sub_1" in words  # never cut mid-id
    assert short(fingerprint(wide)) in words
    assert "USD 29.00/mo" in out  # a currency stays with its amount
    assert " ".join(MESSAGE.split()) in " ".join(words)  # every word, in order
    item = out.split("\n  1. ")[1].split("\n\n")[0].splitlines()[1:]
    assert all(line.startswith("     ") and line[5] != " " for line in item)  # under the text


def test_no_width_parts_a_date_from_its_time_or_a_currency_from_its_amount(
    tmp_path: Path,
) -> None:
    location = tmp_path / "history.sqlite"
    _long(location)
    for columns in range(40, 101):
        out = _invoke("--history", str(location), columns=columns).stdout
        for line in out.splitlines():
            assert not line.endswith(("2026-11-01", " USD")), (columns, line)


def test_show_lines_fit_the_width_too(tmp_path: Path) -> None:
    location = tmp_path / "history.sqlite"
    wide = _long(location)
    out = _invoke("show", fingerprint(wide)[:10], "--history", str(location)).stdout
    assert max(len(line) for line in out.splitlines() if len(line.split()) > 1) <= 100
    assert fingerprint(wide) in out.splitlines()  # the full fingerprint, on its own line


def test_all_shows_a_decision_once(tmp_path: Path) -> None:
    location = tmp_path / "history.sqlite"
    blocked = finding()
    _record(location, (blocked,))
    fp = fingerprint(blocked)
    _invoke("ack", fp[:8], "--note", "calling them today", "--history", str(location))
    _invoke("note", fp[:8], "--note", "left a voicemail", "--history", str(location))
    out = _invoke("--all", "--history", str(location)).stdout
    assert out.count("calling them today") == 1
    assert "     decision: 2026-" in out and "ann acknowledged: calling them today" in out
    assert out.count("left a voicemail") == 1  # a note that decides nothing is a note
    assert out.index("decision:") < out.index("notes:") < out.index("left a voicemail")


def test_show_collapses_consecutive_runs_in_the_same_state(tmp_path: Path) -> None:
    location = tmp_path / "history.sqlite"
    same = finding()
    worse = finding(severity=Severity.MEDIUM, message="paid_but_blocked, now medium")
    _record(location, (same,), (same,), (same,), (worse,), (), (same,), (same,))
    out = _invoke("show", fingerprint(same)[:10], "--history", str(location), columns=200).stdout
    timeline = out.split("timeline:\n")[1].split("reviews:")[0].splitlines()
    assert timeline == [
        "  runs 1-3 (3 runs) 2026-11-01 06:06Z to 2026-11-01 08:06Z high USD 29.00/mo: "
        "paid_but_blocked for u1",
        "  run 4 2026-11-01 09:06Z medium USD 29.00/mo: paid_but_blocked, now medium",
        # run 5 did not see it: a gap is never folded into a range
        "  runs 6-7 (2 runs) 2026-11-01 11:06Z to 2026-11-01 12:06Z high USD 29.00/mo: "
        "paid_but_blocked for u1",
    ]
    shown = json.loads(
        _invoke(
            "show", fingerprint(same)[:10], "--format", "json", "--history", str(location)
        ).stdout
    )
    assert [entry["run_id"] for entry in shown["timeline"]] == [1, 2, 3, 4, 6, 7]  # every run


def test_ids_sort_as_numbers_in_the_queue(tmp_path: Path) -> None:
    location = tmp_path / "history.sqlite"
    same = [
        finding(Kind.MISSING_BILLING_LINK, account, None, None, amount=None)
        for account in ("19", "2", "6", "u10", "u2")
    ]
    _record(location, tuple(same))
    listed = json.loads(_invoke("--format", "json", "--history", str(location)).stdout)
    assert [item["account_id"] for item in listed["items"]] == ["2", "6", "19", "u2", "u10"]
    out = _invoke("--history", str(location)).stdout
    accounts = [line.split()[1] for line in out.splitlines() if line.startswith("     account")]
    assert accounts == ["2", "6", "19", "u2", "u10"]


def test_natural_order_in_the_store(tmp_path: Path) -> None:
    """Ids sort by the text before their trailing number, then that number as a number
    ("acct_007" is 7), then the id; a finding without an account id comes last. A number
    inside an id ("10a") is text: the store orders without regular expressions."""
    location = tmp_path / "history.sqlite"
    ids = ["u10", None, "19", "u2", "2", "a", "10a", "10", "acct_007", "acct_10", "acct_8"]
    _record(
        location,
        tuple(
            finding(Kind.MISSING_BILLING_LINK, account, f"cus_{n}", None, amount=None)
            for n, account in enumerate(ids)
        ),
    )
    with open_store(location) as store:
        page = queue_page(store, QueueQuery(sort="account", limit=None))
    assert [item.state.account_id for item in page.items] == [
        "2", "10", "19", "10a", "a", "acct_007", "acct_8", "acct_10", "u2", "u10", None,
    ]  # fmt: skip
