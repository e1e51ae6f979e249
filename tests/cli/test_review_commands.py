"""`billdrift review` end to end through click: list, ack, snooze, note, expect, show."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billdrift.cli.review import review
from billdrift.config import load_config
from billdrift.core.engine import reconcile
from billdrift.core.model import Kind
from billdrift.core.report import Report
from billdrift.history import LOCKED_MESSAGE, fingerprint, open_store, record_run
from billdrift.history.fingerprint import short
from billdrift.usecases import review as review_usecase
from tests.builders import NOW, account, app, billing, inputs, sub
from tests.history.helpers import at

CONFIG = (
    "# billdrift config, hand-edited: comments and layout must survive.\n"
    "[policy]\n"
    "grace_days = 3   # short grace\n"
    "\n"
    "[[exceptions]]\n"
    'account = "u9"\n'
    'reason = "staff account"\n'
    "\n"
    "[output]\n"
    'fail_on = "high"'  # no trailing newline on purpose
)


def _reconcile(config_path: Path | None = None) -> Report:
    """u1 paid but blocked (urgent), u2 unpaid but active, cus_9 orphaned."""
    config = load_config(config_path) if config_path else None
    return reconcile(
        inputs(
            billing(
                sub("sub_1", "cus_1", "active"),
                sub("sub_2", "cus_2", "canceled"),
                sub("sub_9", "cus_9", "active", amount=99900),
            ),
            app(account("u1", "cus_1", access=False), account("u2", "cus_2", access=True)),
            config,
            as_of=NOW,
        )
    )


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(review, list(args), env={"BILLDRIFT_USER": "ann"})


def _fp(report: Report, kind: Kind) -> str:
    return next(fingerprint(f) for f in report.findings if f.kind is kind)


@pytest.fixture
def recorded(store_location: str) -> tuple[str, Report]:
    report = _reconcile()
    with open_store(store_location) as store:
        record_run(store, report, at(0), at(0.1))
    return store_location, report


def test_the_queue_as_text_lists_urgent_first(recorded: tuple[str, Report]) -> None:
    location, report = recorded
    result = _invoke("--history", location)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 findings need a person" in out
    blocked = short(_fp(report, Kind.PAID_BUT_BLOCKED))
    first_item = out.split("\n  1. ", 1)[1].splitlines()[0]
    assert first_item.startswith(f"{blocked}  URGENT paid_but_blocked  high  USD 29.00/mo  [new]")
    assert out.index("unpaid_but_active") < out.index("orphaned_subscription")
    assert "first seen 2026-11-01 06:06Z (run 1)" in out


def test_ack_by_prefix_takes_it_out_of_the_queue(recorded: tuple[str, Report]) -> None:
    location, report = recorded
    fp = _fp(report, Kind.UNPAID_BUT_ACTIVE)
    result = _invoke("ack", fp[:8], "--note", "revoking after the call", "--history", location)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"acknowledged {short(fp)} (unpaid_but_active, account u2")
    listed = json.loads(_invoke("--history", location, "--format", "json").stdout)
    assert fp not in [item["fingerprint"] for item in listed["items"]]
    everything = json.loads(_invoke("--history", location, "--format", "json", "--all").stdout)
    item = next(i for i in everything["items"] if i["fingerprint"] == fp)
    assert item["decision"]["action"] == "acknowledged"
    assert item["reviews"] == [
        {
            "action": "acknowledged",
            "note": "revoking after the call",
            "until": None,
            "who": "ann",
            "at": item["reviews"][0]["at"],
        }
    ]


def test_the_queue_as_json(recorded: tuple[str, Report]) -> None:
    location, report = recorded
    result = _invoke("--format", "json", "--history", location)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["last_run"]["run_id"] == 1
    items = document["items"]
    assert [i["kind"] for i in items] == [
        "paid_but_blocked",
        "unpaid_but_active",
        "orphaned_subscription",
    ]
    first = items[0]
    assert first["urgent"] is True and first["status"] == "new"
    assert first["exposure"] == {"monthly_amount": "29.00", "currency": "USD"}
    assert first["first_seen_at"] == "2026-11-01T06:06:00Z"
    assert first["fingerprint"] == _fp(report, Kind.PAID_BUT_BLOCKED)


def test_the_group_history_option_applies_to_subcommands(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    report = _reconcile()
    with open_store(location) as store:
        record_run(store, report, at(0), at(0.1))
    fp = _fp(report, Kind.ORPHANED_SUBSCRIPTION)
    result = _invoke("--history", location, "note", fp[:10], "--note", "emailed them")
    assert result.exit_code == 0, result.stderr
    shown = _invoke("--history", location, "show", fp[:10])
    assert shown.exit_code == 0, shown.stderr
    assert "orphaned_subscription: customer cus_9, subscription sub_9" in shown.stdout
    assert "ann noted: emailed them" in shown.stdout
    assert "run 1 2026-11-01 06:06Z medium" in shown.stdout
    # A note does not take it out of the queue.
    assert short(fp) in _invoke("--history", location).stdout


def test_snooze_needs_a_future_date_and_hides_until_then(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    report = _reconcile()
    with open_store(location) as store:
        record_run(store, report, at(0), at(0.1))
    fp = _fp(report, Kind.UNPAID_BUT_ACTIVE)
    past = _invoke("snooze", fp, "--until", "2020-01-01", "--note", "x", "--history", location)
    assert past.exit_code == 2
    assert "not in the future" in past.stderr
    bad = _invoke("snooze", fp, "--until", "next week", "--note", "x", "--history", location)
    assert bad.exit_code == 2 and "--until: expected a date" in bad.stderr
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    ok = _invoke("snooze", fp, "--until", until, "--note", "wire transfer", "--history", location)
    assert ok.exit_code == 0, ok.stderr
    assert f"until {until} 00:00Z" in ok.stdout
    listed = json.loads(_invoke("--format", "json", "--history", location).stdout)
    assert fp not in [item["fingerprint"] for item in listed["items"]]


def test_expect_appends_an_exception_and_the_next_run_suppresses_it(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    config = tmp_path / "billdrift.toml"
    config.write_text(CONFIG, encoding="utf-8")
    original = config.read_bytes()
    report = _reconcile(config)
    with open_store(location) as store:
        record_run(store, report, at(0), at(0.1))
    fp = _fp(report, Kind.UNPAID_BUT_ACTIVE)

    result = _invoke(
        "expect",
        fp[:12],
        "--reason",
        'enterprise contract "ACME-7"',
        "--until",
        "2099-12-31",
        "--config",
        str(config),
        "--history",
        location,
    )
    assert result.exit_code == 0, result.stderr
    assert "added an exception for account u2, expires 2099-12-31 00:00Z" in result.stdout
    updated = config.read_bytes()
    assert updated.startswith(original)
    added = updated[len(original) :].decode("utf-8")
    assert added.startswith("\n\n# Added by `billdrift review expect")
    assert '[[exceptions]]\naccount = "u2"\nkind = "unpaid_but_active"\n' in added
    assert 'reason = "enterprise contract \\"ACME-7\\""\nexpires = 2099-12-31\n' in added
    loaded = load_config(config)
    assert loaded.policy.grace_days == 3  # the rest of the file still means the same
    assert [e.account for e in loaded.exceptions] == ["u9", "u2"]
    assert loaded.exceptions[1].kind is Kind.UNPAID_BUT_ACTIVE

    # Recorded as a decision, so it leaves the queue at once...
    with open_store(location) as store:
        reviews = store.reviews_for([fp])[fp]
        assert [(r.action, r.note) for r in reviews] == [
            ("expected", 'enterprise contract "ACME-7"')
        ]
        # ...and the next reconcile with the same config suppresses the finding.
        again = _reconcile(config)
        assert [s.finding.kind for s in again.suppressed] == [Kind.UNPAID_BUT_ACTIVE]
        assert [s.reason for s in again.suppressed] == ['enterprise contract "ACME-7"']
        lifecycle = record_run(store, again, at(1), at(1.1))
        assert lifecycle.status_of[fp] == "suppressed"
        assert lifecycle.resolved == ()
        assert fp not in [s.fingerprint for s in store.open_findings()]


def test_expect_keeps_a_crlf_file_crlf(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    config = tmp_path / "billdrift.toml"
    config.write_bytes(b"[policy]\r\ngrace_days = 5\r\n")
    report = _reconcile()
    with open_store(location) as store:
        record_run(store, report, at(0), at(0.1))
    fp = _fp(report, Kind.ORPHANED_SUBSCRIPTION)
    result = _invoke(
        "expect", fp, "--reason", "reseller", "--config", str(config), "--history", location
    )
    assert result.exit_code == 0, result.stderr
    updated = config.read_bytes()
    assert updated.startswith(b"[policy]\r\ngrace_days = 5\r\n\r\n# Added by")
    assert b'\r\n[[exceptions]]\r\ncustomer = "cus_9"\r\nkind = "orphaned_subscription"\r\n' in (
        updated
    )
    assert b"\n" not in updated.replace(b"\r\n", b"")
    assert load_config(config).exceptions[0].customer == "cus_9"


def test_expect_leaves_a_config_it_cannot_extend_untouched(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    config = tmp_path / "billdrift.toml"
    config.write_text("exceptions = []\n", encoding="utf-8")
    report = _reconcile()
    with open_store(location) as store:
        record_run(store, report, at(0), at(0.1))
    fp = _fp(report, Kind.UNPAID_BUT_ACTIVE)
    result = _invoke("expect", fp, "--reason", "r", "--config", str(config), "--history", location)
    assert result.exit_code == 2
    assert "would break it, so it was left unchanged" in result.stderr
    assert config.read_text(encoding="utf-8") == "exceptions = []\n"
    assert list(tmp_path.glob(".billdrift.toml.*")) == []  # no staged file left behind
    with open_store(location) as store:
        assert store.reviews_for([fp]) == {}  # no decision without the exception
    missing = _invoke(
        "expect",
        fp,
        "--reason",
        "r",
        "--config",
        str(tmp_path / "nope.toml"),
        "--history",
        location,
    )
    assert missing.exit_code == 2 and "config file not found" in missing.stderr


def test_errors_exit_2_with_a_message(tmp_path: Path, recorded: tuple[str, Report]) -> None:
    location, _report = recorded
    unknown = _invoke("ack", "abcdef0123", "--history", location)
    assert unknown.exit_code == 2
    assert "no finding with fingerprint abcdef0123" in unknown.stderr
    short_prefix = _invoke("ack", "ab", "--history", location)
    assert short_prefix.exit_code == 2 and "at least 4 hex digits" in short_prefix.stderr
    nowhere = str(tmp_path / "never" / "history.sqlite")
    missing = _invoke("--history", nowhere)
    assert missing.exit_code == 2 and "no history store" in missing.stderr
    assert not Path(nowhere).exists()
    assert _invoke("snooze", "abcd", "--history", location).exit_code == 2  # usage error


def test_a_locked_store_is_exit_2_with_the_clear_message(
    recorded: tuple[str, Report], monkeypatch: pytest.MonkeyPatch
) -> None:
    location, report = recorded
    monkeypatch.setattr(review_usecase, "REVIEW_LOCK_TIMEOUT", 0.3)
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        release.wait(30)

    def recording() -> None:
        with open_store(location) as store:
            record_run(store, report, at(1), at(1.1), before_commit=hold)

    thread = threading.Thread(target=recording, daemon=True)
    thread.start()
    try:
        assert inside.wait(30)
        fp = _fp(report, Kind.UNPAID_BUT_ACTIVE)
        result = _invoke("ack", fp, "--history", location)
        assert result.exit_code == 2
        assert LOCKED_MESSAGE in result.stderr
        # Listing still works while a run records.
        assert _invoke("--history", location).exit_code == 0
    finally:
        release.set()
        thread.join(30)


def test_an_empty_queue_says_so(tmp_path: Path) -> None:
    location = str(tmp_path / "h.sqlite")
    report = _reconcile()
    with open_store(location) as store:
        record_run(store, report, at(0), at(0.1))
    for f in report.findings:
        assert _invoke("ack", fingerprint(f), "--history", location).exit_code == 0
    result = _invoke("--history", location)
    assert result.exit_code == 0
    assert "nothing needs a person (3 open findings are covered by a decision" in result.stdout
