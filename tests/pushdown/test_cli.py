"""`billdrift check --engine postgres` and `--explain` from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from billdrift.cli import app as cli
from tests.pushdown.test_mirrors import app_table
from tests.sources.billing import test_stripe_mirror as mirror_tests
from tests.sources.billing.test_stripe_mirror import Mirror, sync_engine

reader = mirror_tests.reader
mirror = mirror_tests.mirror

AS_OF = "2026-11-22T00:00:00Z"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def check(url: str, *extra: str) -> tuple[int, str, str]:
    return run(
        "check", "--app", url, "--app-table", "public.users", "--billing", url,
        "--as-of", AS_OF, "--format", "json", *extra,
    )  # fmt: skip


def test_engine_postgres_reports_what_the_in_process_check_reports(mirror: Mirror) -> None:
    sync_engine(mirror)
    app_table(mirror, "boolean")
    url = mirror.url
    code, out, _ = check(url)
    pushed_code, pushed_out, err = check(url, "--engine", "postgres")
    assert (pushed_code, code) == (1, 1), err
    assert json.loads(pushed_out)["findings"] == json.loads(out)["findings"]


def test_explain_prints_each_stage_with_the_policy_values_and_exits_0(mirror: Mirror) -> None:
    sync_engine(mirror)
    app_table(mirror, "boolean")
    code, out, err = check(mirror.url, "--engine", "postgres", "--explain", "--grace-days", "11")
    assert code == 0, err
    assert "-- account_state (stage)" in out
    assert "-- billing_subscriptions (canonical input)" in out
    assert 'CAST(11 AS INT) AS "grace_days"' in out
    assert "stripe.subscriptions" in out and '"public"."users"' in out
    assert '"findings"' not in out  # nothing ran: no report


def test_explain_without_an_engine_is_a_configuration_error(mirror: Mirror) -> None:
    code, _, err = check(mirror.url, "--explain")
    assert code == 2
    assert "--engine postgres" in err


def test_app_and_mirror_in_different_databases_are_refused_naming_both(mirror: Mirror) -> None:
    sync_engine(mirror)
    other = Mirror(mirror.server)
    app_table(other, "boolean")
    code, _, err = run(
        "check", "--app", other.url, "--app-table", "public.users", "--billing", mirror.url,
        "--as-of", AS_OF, "--engine", "postgres",
    )  # fmt: skip
    assert code == 2
    assert "is not the database of --app" in err
    assert "without --engine" in err
