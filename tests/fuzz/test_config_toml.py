"""The config file: generated keys and values, and mutations of a full valid config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.apps import app_file, billing_file
from tests.fuzz.invariants import check, write
from tests.fuzz.mutate import mutated
from tests.fuzz.settings import share

pytestmark = pytest.mark.fuzz
#: Inputs for this parser are shared by its 2 test(s).
FUZZ = share(2)
#: Planted in URLs and settings: must never be printed.
PASSWORD = "PlantedPassw0rd-xyz"
VALID = f"""\
[policy]
grace_days = 7
max_skipped_ratio = 0.01
partial_min_links = 20
partial_max_missing_ratio = 0.5
internal_email_patterns = ["*@example.org"]
free_plans = ["free"]

[plans]
"price_pro" = "pro"

[[exceptions]]
customer = "cus_1"
reason = "comped"
expires = 2027-01-01

[billing]
amount_units = "auto"
encoding = "utf-8"

[billing.stripe]
max_requests_per_second = 5.0
retries = 2

[output]
fail_on = "high"

[alerts]
alert_on = "never"
retries = 1

[alerts.webhook]
url = "https://hooks.example.com/{PASSWORD}"
"""
#: Keys and the kinds of values thrown at them.
KEYS = (
    "policy.grace_days",
    "policy.max_skipped_ratio",
    "policy.partial_min_links",
    "policy.partial_max_missing_ratio",
    "policy.team_billing",
    "policy.free_plans",
    "billing.amount_units",
    "billing.encoding",
    "billing.stripe.max_requests_per_second",
    "billing.stripe.concurrency",
    "billing.paddle.retries",
    "output.fail_on",
    "alerts.retries",
    "alerts.backoff_seconds",
    "app.columns.email",
    "alerts.webhook.url",
    "alerts.webhook.secret_env",
)
TOML_VALUES = (
    "nan",
    "inf",
    "-inf",
    "9223372036854775808",
    "-1",
    "0",
    "1e308",
    "1969-01-01",
    "10000-01-01",
    '"x"',
    '""',
    "true",
    "[]",
    "[" * 1500 + "]" * 1500,
    "{}",
    f'"https://u:{PASSWORD}@hooks.example.com/x"',
)


def _toml(assignments: list[tuple[str, str]]) -> str:
    tables: dict[str, list[str]] = {}
    for key, value in assignments:
        table, _, name = key.rpartition(".")
        tables.setdefault(table, []).append(f"{name} = {value}")
    return "".join(f"[{table}]\n" + "\n".join(lines) + "\n" for table, lines in tables.items())


@FUZZ
@given(
    assignments=st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(TOML_VALUES)), min_size=1, max_size=4
    )
)
def test_generated_config(tmp_path: Path, assignments: list[tuple[str, str]]) -> None:
    config = write(tmp_path / "billdrift.toml", _toml(list(dict(assignments).items())))
    run(tmp_path, config)


@FUZZ
@given(text=mutated(VALID, max_mutations=3))
def test_mutated_config(tmp_path: Path, text: str) -> None:
    # The token is a secret where billdrift promises never to echo it: in the webhook
    # URL. A mutation that moves it into another key (alert_on = "https://...") makes
    # it a value the user typed there, which errors may quote.
    kept = text.count(PASSWORD) == 1 and f'url = "https://hooks.example.com/{PASSWORD}"' in text
    run(tmp_path, write(tmp_path / "billdrift.toml", text), [PASSWORD] if kept else [])


def run(tmp_path: Path, config: Path, secrets: list[str] | None = None) -> dict[str, Any]:
    """A check with `config`; a failure may name the config file or, for a setting
    about an input (a column the app file lacks, an environment variable not set),
    that input."""
    billing, app = billing_file(tmp_path), app_file(tmp_path)
    return check(
        ["--billing", str(billing), "--app", str(app), "--config", str(config)],
        named=["billdrift.toml", app.name, billing.name, "environment variable"],
        secrets=[PASSWORD] if secrets is None else secrets,
    )
