"""The daily loop end to end (issue 14), as a team lives it, with real processes:
`init` -> `doctor` -> `check` with history and alerts -> the data changes -> `check`
again -> `review ack` -> `check` exits 0. The Slack and signed-webhook receivers are
real HTTP servers on 127.0.0.1; every command is `python -m billdrift` in the
directory `init` wrote its config to, so the config is found as a user's would be."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.outputs.alerts.receivers import HttpReceiver

SECRET = "whsec_daily_loop_test"
DAY = 86_400
PERIOD_START = 1_794_700_800  # 2026-11-15T00:00:00Z
FIRST_RUN = "2026-12-01T06:00:00Z"
SECOND_RUN = "2026-12-02T06:00:00Z"
THIRD_RUN = "2026-12-03T06:00:00Z"


def _subscription(customer: str, status: str) -> dict[str, Any]:
    return {
        "id": f"sub_{customer}",
        "object": "subscription",
        "customer": {"id": f"cus_{customer}", "object": "customer", "email": f"{customer}@ex.com"},
        "status": status,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": PERIOD_START if status == "canceled" else None,
        "ended_at": PERIOD_START if status == "canceled" else None,
        "created": PERIOD_START - 30 * DAY,
        "currency": "usd",
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{customer}",
                    "object": "subscription_item",
                    "price": {
                        "id": "price_pro_monthly",
                        "object": "price",
                        "lookup_key": "pro_monthly",
                        "product": "prod_pro",
                        "unit_amount": 4900,
                        "currency": "usd",
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                    "quantity": 1,
                    "current_period_start": PERIOD_START,
                    "current_period_end": PERIOD_START + 30 * DAY,
                }
            ],
            "has_more": False,
        },
    }


def _write_data(directory: Path, subs: dict[str, str], access: dict[str, tuple[str, bool]]) -> None:
    """`subs`: customer -> status; `access`: account id -> (customer, has_paid_access)."""
    export = {"object": "list", "has_more": False, "data": []}
    export["data"] = [_subscription(customer, status) for customer, status in subs.items()]
    (directory / "subscriptions.json").write_text(json.dumps(export))
    with (directory / "users.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "email", "stripe_customer_id", "has_paid_access", "plan"])
        for account_id, (customer, granted) in access.items():
            plan = "pro" if granted else "free"
            writer.writerow([account_id, f"{customer}@ex.com", f"cus_{customer}", granted, plan])


@pytest.fixture
def slack() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    with HttpReceiver(secret=SECRET) as receiver:
        yield receiver


class Team:
    """Runs billdrift as a person in `directory` would, with the alert secrets exported."""

    def __init__(self, directory: Path, slack_url: str) -> None:
        self.directory = directory
        self.env = {
            **os.environ,
            "SLACK_WEBHOOK_URL": slack_url,
            "BILLDRIFT_WEBHOOK_SECRET": SECRET,
            "BILLDRIFT_USER": "support-lead",
        }
        self.env.pop("BILLDRIFT_CONFIG", None)
        self.env.pop("BILLDRIFT_HISTORY", None)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "billdrift", *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )


def test_init_doctor_check_change_review_then_green(
    tmp_path: Path, slack: HttpReceiver, hook: HttpReceiver
) -> None:
    # Day 0: account 2 pays but is blocked, account 17 canceled but still active.
    _write_data(
        tmp_path,
        {"a": "active", "b": "active", "c": "canceled", "d": "active"},
        {"1": ("a", True), "2": ("b", False), "17": ("c", True), "5": ("d", True)},
    )
    team = Team(tmp_path, slack.url("/services/T/B/x"))
    init = team.run("init", "--app", "users.csv", "--billing", "subscriptions.json")
    assert init.returncode == 0, init.stderr
    config = tmp_path / "billdrift.toml"
    config.write_text(
        config.read_text()
        + '\n[history]\nlocation = ".billdrift/history.sqlite"\n'
        + '\n[alerts]\nalert_on = "new"\n'
        + '[alerts.slack]\nwebhook_env = "SLACK_WEBHOOK_URL"\n'
        + f'[alerts.webhook]\nurl = "{hook.url()}"\nsecret_env = "BILLDRIFT_WEBHOOK_SECRET"\n'
    )
    doctor = team.run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "billdrift.toml" in doctor.stdout + doctor.stderr  # the config it found

    first = team.run("check", "--as-of", FIRST_RUN)
    assert first.returncode == 1, first.stderr
    delivered = [item for request in hook.accepted for item in request.json()["findings"]]
    by_account = {item["account_id"]: item for item in delivered}
    assert {"2", "17"} <= set(by_account)
    blocked = by_account["2"]
    assert blocked["kind"] == "paid_but_blocked" and blocked["status"] == "new"
    assert blocked["customer_id"] == "cus_b"
    assert blocked["dashboard_url"] == "https://dashboard.stripe.com/customers/cus_b"
    slack_text = "\n".join(request.body.decode() for request in slack.accepted)
    assert "account 2" in slack_text and blocked["fingerprint"][:12] in slack_text
    assert blocked["dashboard_url"] in slack_text

    # Day 1: support restored account 2; account 5's access was revoked by mistake.
    _write_data(
        tmp_path,
        {"a": "active", "b": "active", "c": "canceled", "d": "active"},
        {"1": ("a", True), "2": ("b", True), "17": ("c", True), "5": ("d", False)},
    )
    hook.accepted.clear()
    slack.accepted.clear()
    second = team.run(
        "check", "--as-of", SECOND_RUN, "--format", "markdown", "--also-output", "json=day1.json"
    )
    assert second.returncode == 1, second.stderr
    alerted = {item["account_id"] for r in hook.accepted for item in r.json()["findings"]}
    assert alerted == {"5"}  # only what is new alerts again; 17 is ongoing
    assert "resolved" in second.stdout.lower()  # account 2's finding, named in the summary
    assert blocked["fingerprint"][:12] in second.stdout

    # The team reviews what is left: account 17 goes to billing, 5 is being fixed.
    queue = team.run("review", "--format", "json")
    assert queue.returncode == 0, queue.stderr
    open_items = json.loads(queue.stdout)
    fingerprints = [item["fingerprint"] for item in _items(open_items)]
    assert len(fingerprints) >= 2
    for fp in fingerprints:
        ack = team.run("review", "ack", fp, "--note", "handled in the daily triage")
        assert ack.returncode == 0, ack.stderr

    third = team.run("check", "--as-of", THIRD_RUN)
    assert third.returncode == 0, third.stdout + third.stderr
    strict = team.run("check", "--as-of", THIRD_RUN, "--fail-on", "new")
    assert strict.returncode == 0, strict.stdout + strict.stderr


def _items(queue: Any) -> list[dict[str, Any]]:
    """The queue's entries, whether the JSON is a list or an object holding one."""
    if isinstance(queue, list):
        return queue
    for value in queue.values():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value
    raise AssertionError(f"no queue entries in {queue!r}")
