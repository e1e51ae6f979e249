"""The command line end to end: real files, real exit codes, every output path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli

SCHEMA = json.loads(
    (resources.files("billdrift") / "schema" / "report.schema.json").read_text("utf-8")
)
AS_OF = "2026-11-22T00:00:00Z"

BILLING_CSV = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
    "sub_1,cus_1,ann@example.com,active,price_pro,1,usd,month,29.00,"
    "2026-11-01 00:00,2026-12-01 00:00,false\n"
    "sub_2,cus_2,bob@example.com,canceled,price_pro,1,usd,month,29.00,"
    "2026-09-01 00:00,2026-10-01 00:00,false\n"
    "sub_3,cus_3,cy@example.com,active,price_basic,1,usd,month,9.00,"
    "2026-11-01 00:00,2026-12-01 00:00,false\n"
)

APP_CSV = """\
id,email,stripe_customer_id,has_paid_access,plan
u1,ann@example.com,cus_1,f,pro
u2,bob@example.com,cus_2,t,pro
u3,cy@example.com,cus_3,t,basic
"""

IN_SYNC_APP_CSV = """\
id,email,stripe_customer_id,has_paid_access,plan
u1,ann@example.com,cus_1,t,pro
u2,bob@example.com,cus_2,f,free
u3,cy@example.com,cus_3,t,basic
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "billing": tmp_path / "subscriptions.csv",
        "app": tmp_path / "users.csv",
        "in_sync": tmp_path / "in_sync.csv",
    }
    paths["billing"].write_text(BILLING_CSV)
    paths["app"].write_text(APP_CSV)
    paths["in_sync"].write_text(IN_SYNC_APP_CSV)
    return paths


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def check(files: dict[str, Path], *extra: str, app: str = "app") -> tuple[int, str, str]:
    return run(
        "check",
        "--billing",
        str(files["billing"]),
        "--app",
        str(files[app]),
        "--as-of",
        AS_OF,
        *extra,
    )


def check_tolerating_skips(
    tmp_path: Path, files: dict[str, Path], app: str
) -> tuple[int, dict[str, Any]]:
    """Run `check --format json` with a policy that reports skipped rows without erroring."""
    config = tmp_path / "billdrift.toml"
    config.write_text("[policy]\nmax_skipped_ratio = 0.5\n")
    code, out, _ = run(
        "check",
        "--billing",
        str(files["billing"]),
        "--app",
        app,
        "--as-of",
        AS_OF,
        "--config",
        str(config),
        "--format",
        "json",
    )
    return code, json.loads(out)


def test_drift_exits_1_with_a_valid_json_report(files: dict[str, Path]) -> None:
    code, out, err = check(files, "--format", "json")
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["verdict"] == "FAIL"
    assert document["summary"]["by_kind"] == {"paid_but_blocked": 1, "unpaid_but_active": 1}
    assert document["summary"]["exposure"] == {"USD": "58.00"}
    assert "FAIL" in err


def test_in_sync_exits_0_with_pass(files: dict[str, Path]) -> None:
    code, out, _ = check(files, app="in_sync")
    assert code == 0
    assert out.startswith("billdrift: PASS")
    assert "No drift found." in out


def test_findings_below_fail_on_exit_0_and_fail_on_lowers_the_bar(files: dict[str, Path]) -> None:
    plans = ("--plan", "price_pro=pro", "--plan", "price_basic=pro")  # u3 is on basic
    code, out, _ = check(files, *plans, "--format", "json", app="in_sync")
    assert (code, json.loads(out)["verdict"]) == (0, "WARN")
    assert json.loads(out)["summary"]["by_kind"] == {"plan_drift": 1}
    code, out, _ = check(files, *plans, "--fail-on", "medium", "--format", "json", app="in_sync")
    assert (code, json.loads(out)["verdict"]) == (1, "FAIL")


def test_grace_days_flag(tmp_path: Path, files: dict[str, Path]) -> None:
    files["billing"].write_text(
        BILLING_CSV.replace(
            "sub_2,cus_2,bob@example.com,canceled", "sub_2,cus_2,bob@example.com,past_due"
        ).replace("2026-09-01 00:00,2026-10-01 00:00", "2026-11-12 00:00,2026-12-12 00:00")
    )
    _, out, _ = check(files, "--format", "json")
    assert json.loads(out)["summary"]["by_kind"]["unpaid_but_active"] == 1  # 10 days > 7
    _, out, _ = check(files, "--format", "json", "--grace-days", "14")
    assert "unpaid_but_active" not in json.loads(out)["summary"]["by_kind"]


def test_missing_billing_file_exits_2_and_names_it(files: dict[str, Path]) -> None:
    code, out, err = run("check", "--billing", "nope.json", "--app", str(files["app"]))
    assert code == 2
    assert "nope.json" in err and "not found" in err
    assert out == ""


def test_error_in_json_format_still_writes_an_error_document(files: dict[str, Path]) -> None:
    code, out, _ = run(
        "check", "--billing", "nope.json", "--app", str(files["app"]), "--format", "json"
    )
    assert code == 2
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["verdict"] == "ERROR" and "nope.json" in document["errors"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "yesterday"), "--as-of: expected an ISO-8601"),
        (("--plan", "price_pro"), "--plan: expected PRICE_OR_LOOKUP_KEY=PLAN"),
        (("--fail-on", "urgent"), "'urgent' is not one of"),
        (("--grace-days", "-1"), "-1 is not in the range"),
    ],
)
def test_bad_flags_exit_2(files: dict[str, Path], args: tuple[str, ...], message: str) -> None:
    code, _, err = run(
        "check", "--billing", str(files["billing"]), "--app", str(files["app"]), *args
    )
    assert code == 2
    assert message in err


def test_bad_config_names_the_key(tmp_path: Path, files: dict[str, Path]) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text('[policy]\ngrace_days = "soon"\n[output]\nfail_on = "urgent"\n')
    code, _, err = check(files, "--config", str(config))
    assert code == 2
    assert "policy.grace_days" in err and "output.fail_on" in err
    config.write_text("[policy\n")
    code, _, err = check(files, "--config", str(config))
    assert code == 2 and "not valid TOML" in err


def test_config_file_supplies_inputs_and_policy(tmp_path: Path, files: dict[str, Path]) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text(
        f'[billing]\nsources = ["{files["billing"]}"]\n[app]\nsource = "{files["app"]}"\n'
        '[[exceptions]]\naccount = "u2"\nreason = "comped"\n'
    )
    code, out, _ = run("check", "--config", str(config), "--as-of", AS_OF, "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert document["summary"]["by_kind"] == {"paid_but_blocked": 1}
    assert document["suppressed"][0]["suppressed_reason"] == "comped"


def test_output_file_written_only_when_complete(tmp_path: Path, files: dict[str, Path]) -> None:
    target = tmp_path / "report.md"
    target.write_text("previous report")
    code, out, err = check(files, "--format", "markdown", "--output", str(target))
    assert code == 1 and out == ""
    assert target.read_text().startswith("## billdrift: FAIL")
    assert "billdrift: FAIL" in err
    target.write_text("previous report")
    code, _, _ = run(
        "check", "--billing", "missing.csv", "--app", str(files["app"]), "--output", str(target)
    )
    assert code == 2
    # A failed run writes its own complete ERROR report, in every format (issue 19;
    # test_a_failed_run_replaces_the_last_report_with_an_error_in_every_format).
    assert target.read_text().startswith("## billdrift: ERROR")  # .md: markdown
    assert "missing.csv" in target.read_text()


def test_mask_hides_emails_and_ids(files: dict[str, Path]) -> None:
    code, out, _ = check(files, "--format", "json", "--mask")
    assert code == 1
    assert "@example.com" not in out.replace("***@e***.com", "")
    assert "cus_1" not in out and "sub_2" not in out
    customers = [f["customer_id"] for f in json.loads(out)["findings"] if f["customer_id"]]
    assert all(c.startswith("cus_…") and len(c) > len("cus_…") for c in customers)


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_demo_totals_are_the_same_with_and_without_mask(fmt: str) -> None:
    """demo --mask used to show JPY 5000 alone (EUR 45.00 and USD 349.83 lost): short
    subscription ids all masked alike and the totals counted them once (issue 14)."""
    _, plain, _ = run("demo", "--format", fmt)
    _, masked, _ = run("demo", "--format", fmt, "--mask")
    for total in ("EUR 45.00", "JPY 5000", "USD 349.83"):
        if fmt == "json":
            currency, amount = total.split()
            total = f'"{currency}": "{amount}"'
        assert total in plain and total in masked, total


def test_internal_errors_exit_2_never_1(
    monkeypatch: pytest.MonkeyPatch, files: dict[str, Path]
) -> None:
    # A bug inside the engine cannot be produced on purpose; this is the one stub.
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("billdrift.usecases.check.reconcile", broken)
    code, _, err = check(files)
    assert code == 2
    assert "internal error: RuntimeError: boom" in err


def test_demo_shows_every_kind_and_exits_0() -> None:
    code, out, err = run("demo", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["verdict"] == "FAIL"
    assert set(document["summary"]["by_kind"]) == {
        "paid_but_blocked",
        "unpaid_but_active",
        "plan_drift",
        "orphaned_subscription",
        "missing_billing_link",
        "stale_billing_link",
        "duplicate_customer",
        "app_fields_disagree",
        "ambiguous",
    }
    assert "would exit 1" in err


def test_demo_ends_with_what_to_run_next_on_your_own_data() -> None:
    from billdrift.cli.app import COMMANDS

    _, _, err = run("demo")
    tail = err.rstrip().splitlines()[-4:]
    assert tail[0] == "Next, on your own data:"
    named = [line.split()[1] for line in tail[1:]]
    assert named == ["init", "doctor", "check"]
    assert set(named) <= set(COMMANDS)


def test_demo_text_is_readable() -> None:
    code, out, _ = run("demo")
    assert code == 0
    assert out.startswith("billdrift: FAIL")
    assert max(len(line) for line in out.splitlines()) <= 80


def test_installed_entry_point_exit_codes(files: dict[str, Path]) -> None:
    """The real process, not the in-process runner: exit codes as a shell sees them."""
    base = [sys.executable, "-m", "billdrift", "check", "--as-of", AS_OF]
    drift = subprocess.run(
        [*base, "--billing", str(files["billing"]), "--app", str(files["app"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert drift.returncode == 1
    clean = subprocess.run(
        [*base, "--billing", str(files["billing"]), "--app", str(files["in_sync"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0
    broken = subprocess.run(
        [*base, "--billing", "missing.csv", "--app", str(files["app"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 2 and "missing.csv" in broken.stderr


def test_readme_options_exist_in_help() -> None:
    """Docs cannot drift: every option the README's table names is a real option."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    documented = set(re.findall(r"^\| `(--[a-z-]+)", readme, flags=re.MULTILINE))
    _, help_text, _ = run("check", "--help")
    assert documented, "README option table not found"
    for option in documented:
        assert option in help_text, option


def test_unreadable_app_row_is_reported_and_its_customer_not_orphaned(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    app_csv = tmp_path / "users.csv"
    app_csv.write_text(
        IN_SYNC_APP_CSV.replace("u3,cy@example.com,cus_3,t,", "u3,cy@example.com,cus_3,maybe,")
    )
    code, document = check_tolerating_skips(tmp_path, files, str(app_csv))
    assert (code, document["verdict"]) == (0, "WARN")  # a skipped row is never a PASS
    assert document["findings"] == []  # cus_3 is not reported as orphaned
    assert document["skipped"] == [
        {
            "side": "app",
            "source": "users.csv",
            "location": "line 4",
            "field": "has_paid_access",
            "reason": document["skipped"][0]["reason"],
        }
    ]
    assert "'maybe'" in document["skipped"][0]["reason"]
    code, out, _ = run(
        "check",
        "--billing",
        str(files["billing"]),
        "--app",
        str(app_csv),
        "--as-of",
        AS_OF,
        "--config",
        str(tmp_path / "billdrift.toml"),
        "--strict",
    )
    assert code == 2
    assert out.startswith("billdrift: ERROR") and "--strict is set" in out


def test_app_csv_without_customer_column_matches_by_email(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    app_csv = tmp_path / "users.csv"
    app_csv.write_text(
        "id,email,has_paid_access\nu1,ann@example.com,f\nu2,bob@example.com,f\n"
        "u3,cy@example.com,maybe\n"
    )
    code, document = check_tolerating_skips(tmp_path, files, str(app_csv))
    assert code == 1
    # u3's row is unreadable and carries no customer id: cus_3 has nobody left
    assert document["summary"]["by_kind"] == {"paid_but_blocked": 1, "orphaned_subscription": 1}
    assert document["findings"][0]["evidence"]["match"]["method"] == "email"


@pytest.mark.parametrize(
    ("billing_text", "app_text", "message"),
    [
        ("", APP_CSV, "is empty"),
        (BILLING_CSV.splitlines()[0] + "\n", APP_CSV, "no subscriptions"),
        (BILLING_CSV, "id,email,stripe_customer_id,has_paid_access\n", "no accounts"),
    ],
)
def test_empty_inputs_are_errors_never_a_pass(
    tmp_path: Path, billing_text: str, app_text: str, message: str
) -> None:
    billing_file, app_file = tmp_path / "subs.csv", tmp_path / "users.csv"
    billing_file.write_text(billing_text)
    app_file.write_text(app_text)
    code, out, err = run(
        "check", "--billing", str(billing_file), "--app", str(app_file), "--format", "json"
    )
    assert code == 2
    document = json.loads(out)
    assert document["verdict"] == "ERROR"
    assert message in " ".join(document["errors"]) or message in err


def test_sqlite_app_with_an_unreadable_row(tmp_path: Path, files: dict[str, Path]) -> None:
    import sqlite3

    database = tmp_path / "app.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "CREATE TABLE users (id TEXT, email TEXT, stripe_customer_id TEXT, "
            "has_paid_access TEXT, plan TEXT)"
        )
        db.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
            [
                ("u1", "ann@example.com", "cus_1", "t", "pro"),
                ("u2", "bob@example.com", "cus_2", "f", "free"),
                ("u3", "cy@example.com", "cus_3", "maybe", "basic"),
            ],
        )
    db.close()
    code, document = check_tolerating_skips(tmp_path, files, f"sqlite:///{database}")
    assert (code, document["verdict"]) == (0, "WARN")
    assert document["findings"] == []  # cus_3's account row is unreadable, not missing
    skip = document["skipped"][0]
    assert (skip["source"], skip["location"], skip["field"]) == (
        "app.db",
        "row id=u3",
        "has_paid_access",
    )


def test_the_command_leaves_nothing_but_its_own_words_on_stderr() -> None:
    """The entry point pauses the garbage collector while modules load; objects it
    left uncollectable (gc.freeze) made DuckDB's bindings print leak warnings at exit."""
    done = subprocess.run(
        [sys.executable, "-m", "billdrift", "demo"], capture_output=True, text=True, timeout=120
    )
    from billdrift.cli.check_run import _NEXT_STEPS

    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert lines[-4:] == _NEXT_STEPS.splitlines(), done.stderr
    assert lines[:-4] and all(line.startswith("billdrift") for line in lines[:-4]), done.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_stderr_says_why_a_run_is_an_error_naming_the_input(tmp_path: Path, fmt: str) -> None:
    """Not only `ERROR: no findings`: the reason, wherever the report itself went."""
    empty = tmp_path / "subs.json"
    empty.write_text('{"object": "list", "data": []}')
    app_file = tmp_path / "users.csv"
    app_file.write_text("id,stripe_customer_id,has_paid_access\n1,cus_1,true\n")
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(empty),
            "--app",
            str(app_file),
            "--format",
            fmt,
            "--output",
            str(tmp_path / "report.out"),
        ],
    )
    assert result.exit_code == 2
    assert "billdrift: ERROR: " in result.stderr
    assert "holds no subscriptions" in result.stderr
    assert "no findings" not in result.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html", "csv"])
def test_a_failed_run_replaces_the_last_report_with_an_error_in_every_format(
    tmp_path: Path, fmt: str
) -> None:
    """One behaviour for every format (issue 19): the file shows this run's ERROR,
    complete, never the previous good report as if it were this run's."""
    output = tmp_path / f"report.{fmt}"
    output.write_text("PREVIOUS GOOD REPORT")
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(tmp_path / "missing.json"),
            "--app",
            str(tmp_path / "x.csv"),
            "--format",
            fmt,
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 2
    written = output.read_text()
    assert "PREVIOUS GOOD REPORT" not in written
    assert "error" in written.lower() and "missing.json" in written
    assert result.stderr.count("missing.json") == 1  # said once, not twice
