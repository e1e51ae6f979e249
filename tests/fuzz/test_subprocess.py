"""A handful of inputs through a real process: the entry point, exit codes and streams as
a shell sees them (the in-process runs cannot show a crash at interpreter exit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fuzz.apps import app_file, app_for
from tests.fuzz.invariants import check_in_subprocess, write

pytestmark = pytest.mark.fuzz

CASES = [
    # (file name, content, broken)
    ("subs.json", '{"object": "list", "data": [' + "[" * 5000 + "]" * 5000 + "]}", False),
    (
        "subs.json",
        '[{"id": "sub_0", "customer": "cus_0", "status": "active", '
        '"cancel_at_period_end": true, "current_period_end": "infinity"}]',
        True,
    ),
    (
        "subs.json",
        '[{"id": "sub_0", "customer": "cus_0", "status": "active", "discounts": '
        '[{"id": "d", "coupon": {"percent_off": NaN}}]}]',
        True,
    ),
    (
        "subs.csv",
        "id,Customer ID,Status,Current Period End (UTC),Cancel At Period End\n"
        "sub_0,cus_0,active,infinity,true\n",
        True,
    ),
    (
        "subs.csv",
        "id,Customer ID,Status,Quantity\nsub_0,cus_0,active,9223372036854775807\n",
        False,
    ),
    (
        "paddle.json",
        json.dumps(
            {
                "data": [
                    {
                        "id": "sub_0",
                        "customer_id": "ctm_0",
                        "status": "active",
                        "current_billing_period": {"ends_at": "10000-01-01T00:00:00Z"},
                    }
                ]
            }
        ),
        True,
    ),
]


@pytest.mark.parametrize(("name", "content", "broken"), CASES)
def test_through_a_real_process(tmp_path: Path, name: str, content: str, broken: bool) -> None:
    billing = write(tmp_path / name, content)
    app = app_for(tmp_path, ["ctm_0" if name == "paddle.json" else "cus_0"])
    check_in_subprocess(["--billing", str(billing), "--app", str(app)], named=[name], broken=broken)


def test_an_unreadable_config_through_a_real_process(tmp_path: Path) -> None:
    config = write(tmp_path / "billdrift.toml", "[policy]\ngrace_days = inf\n")
    billing = write(tmp_path / "subs.csv", "id,Customer ID,Status\nsub_0,cus_0,active\n")
    args = ["--billing", str(billing), "--app", str(app_file(tmp_path)), "--config", str(config)]
    check_in_subprocess(args, named=["billdrift.toml"], broken=True)
