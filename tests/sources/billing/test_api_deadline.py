"""A provider API trickling its answer one byte a second cannot hold a check: each
request ends by ``billing.<provider>.timeout_seconds`` and the check ends as an
ERROR (exit 2) saying which deadline passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from tests.fakes.trickle import HEADERS_LENGTH, TrickleServer

KEYS = {
    "stripe": ("STRIPE_API_KEY", "sk_test_51TrickleTrickleTrickle"),
    "paddle": ("PADDLE_API_KEY", "pdl_sdbx_apikey_01trickletrickle"),
}


@pytest.mark.parametrize(
    ("provider", "prompt", "retries"),
    [("stripe", 0, 1), ("stripe", HEADERS_LENGTH, 0), ("paddle", 0, 0)],
    ids=["stripe-headers-retried", "stripe-body", "paddle-headers"],
)
def test_a_trickling_provider_api_ends_the_check_as_an_error(
    tmp_path: Path, provider: str, prompt: int, retries: int
) -> None:
    app = tmp_path / "app.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,f\n", "utf-8")
    config = tmp_path / "billdrift.toml"
    variable, key = KEYS[provider]
    with TrickleServer(prompt=prompt, limit=20) as server:
        config.write_text(
            f'[billing.{provider}]\napi_base = "{server.url()}"\ntimeout_seconds = 1.5\n'
            f"retries = {retries}\n"
            + (f'snapshot_dir = "{tmp_path / "cache"}"\n' if provider == "stripe" else ""),
            "utf-8",
        )
        result = CliRunner().invoke(
            cli.main,
            [
                "check",
                "--billing",
                provider,
                "--app",
                str(app),
                "--config",
                str(config),
                "--format",
                "json",
            ],
            env={variable: key, "CI": "1"},
        )
        took = server.since_first_connection()  # the app read and start-up aside
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "ERROR" and report["findings"] == []
    (error,) = report["errors"]
    assert "no complete response within 1.5 s" in error
    assert f"billing.{provider}.timeout_seconds" in error
    assert "no complete response within 1.5 s" in result.stderr
    attempts = retries + 1
    assert server.connections == attempts
    # The backoff between attempts is under a second; uncut, each would last 20 s.
    assert took < attempts * (1.5 + 3) < attempts * 20, took
    assert key not in result.stdout + result.stderr
