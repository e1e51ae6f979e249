"""The audit page's library part (issue 15): recognize files, confirm columns, config, run."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from billdrift.config import Config, parse_config
from billdrift.core.model import Finding
from billdrift.errors import ConfigError
from billdrift.usecases.audit import (
    MappingChoice,
    Step,
    audit_config,
    choose,
    config_text,
    recognize,
    run_audit,
)
from billdrift.usecases.check import check
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths

FIXTURES = Path(__file__).parents[2] / "fixtures" / "billing"
#: An app export whose access column no detector knows: a person must pick it.
APP_CSV = """\
id,email,stripe_customer_id,paying_customer,plan
1,alice@example.com,cus_QAlice,true,pro
2,bob@example.com,cus_QBob,false,pro
3,carol@example.com,cus_QCarol,true,basic
4,dave@example.jp,cus_QDave,true,pro
5,erin@example.com,,true,pro
"""


@pytest.fixture
def app_csv(tmp_path: Path) -> Path:
    path = tmp_path / "upload-1"
    path.write_text(APP_CSV, encoding="utf-8")
    return path


@pytest.fixture
def billing_csv(tmp_path: Path) -> Path:
    path = tmp_path / "upload-0"
    shutil.copy(FIXTURES / "stripe_dashboard.csv", path)
    return path


def _fixed(recognized_app: Path, billing: Path) -> MappingChoice:
    mapping = recognize([(billing, "b.csv")], (recognized_app, "users.csv")).app.mapping
    assert mapping is not None
    return MappingChoice(
        {**MappingChoice.of(mapping).roles, "account_id": "id"}, access_fields=("paying_customer",)
    )


def test_recognizes_each_file_with_columns_and_samples(app_csv: Path, billing_csv: Path) -> None:
    json_file = FIXTURES / "stripe_subscriptions.json"
    found = recognize(
        [(billing_csv, "export.csv"), (json_file, "subs.json")], (app_csv, "users.csv")
    )
    first, second = found.billing
    assert (first.kind, first.label, first.name) == (
        "stripe-csv",
        "Stripe subscriptions CSV export",
        "export.csv",
    )
    assert ("customer_id", "Customer ID") in first.roles
    assert first.columns[0].name == "id"
    assert first.columns[0].samples == ("sub_1PdashActive", "sub_1PdashTrial", "sub_1PdashCanceled")
    assert (second.kind, second.roles, second.columns) == ("stripe-json", (), ())
    app = found.app
    assert (app.kind, app.table) == ("csv", "")
    assert app.column_names == ("id", "email", "stripe_customer_id", "paying_customer", "plan")
    assert app.columns[3].samples == ("true", "false")  # distinct, in order of appearance
    assert app.columns[4].samples == ("pro", "basic")
    assert app.mapping is not None
    assert (app.mapping.account_id, app.mapping.customer_id) == ("id", "stripe_customer_id")
    assert app.mapping.primary_access_field == ""
    assert not found.ready
    assert found.problems == (
        "users.csv: choose the column that grants access (a yes/no flag or a subscription status)",
    )


def test_samples_are_at_most_three_distinct_non_empty_values(tmp_path: Path) -> None:
    app = tmp_path / "u"
    app.write_text(
        "id,has_paid_access\n" + "".join(f"{n},{'' if n % 2 else 't'}\n" for n in range(9))
    )
    found = recognize([], (app, "u.csv"))
    assert found.app.columns[0].samples == ("0", "1", "2")
    assert found.app.columns[1].samples == ("t",)
    assert found.problems == ("no billing file: add at least one billing export",)


def test_a_file_that_is_not_recognized_is_named_as_uploaded(tmp_path: Path, app_csv: Path) -> None:
    odd = tmp_path / "upload-7"
    odd.write_text("hello,world\n1,2\n")
    found = recognize([(odd, "notes.csv")], (app_csv, "users.csv"))
    assert found.billing[0].kind == ""
    error = found.billing[0].error or ""
    assert "cannot tell what notes.csv is" in error and str(odd) not in error
    assert found.problems[0].startswith("notes.csv: cannot tell what notes.csv is")


def test_an_app_file_that_is_not_recognized(tmp_path: Path, billing_csv: Path) -> None:
    odd = tmp_path / "upload-3"
    odd.write_bytes(b"")
    found = recognize([(billing_csv, "b.csv")], (odd, "users.csv"))
    assert found.app.error is not None and "users.csv" in found.app.error
    assert found.app.mapping is None and not found.ready
    with pytest.raises(ConfigError, match="not recognized"):
        choose(found, MappingChoice({"account_id": "id"}, access_fields=("x",)))


def test_sqlite_app_file_with_its_table_and_samples() -> None:
    demo = demo_paths()
    found = recognize([(demo.billing, "subs.json")], (demo.app, "app.sqlite"))
    assert (found.app.kind, found.app.table, found.app.tables) == ("sqlite", "users", ("users",))
    assert found.app.columns[0].samples == ("1", "2", "3")
    assert found.ready


def test_choosing_the_access_column_completes_the_mapping(app_csv: Path, billing_csv: Path) -> None:
    found = recognize([(billing_csv, "b.csv")], (app_csv, "users.csv"))
    chosen = choose(found, _fixed(app_csv, billing_csv))
    assert chosen.ready and chosen.problems == ()
    assert chosen.app.mapping is not None
    assert chosen.app.mapping.access_fields == ("paying_customer",)
    assert chosen.app.mapping.primary_access_field == "paying_customer"
    assert chosen.app.mapping.auto_detected == ()  # every role now stated


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (MappingChoice({"account_id": "id"}, access_fields=("nope",)), "'nope', which is not in"),
        (MappingChoice({"account_id": None}, access_fields=("plan",)), "identifies an account"),
        (MappingChoice({"account_id": "id"}), "at least one access column"),
        (
            MappingChoice({"account_id": "id"}, ("plan",), ("plan",)),
            "both app.access_fields and app.status_fields",
        ),
        (MappingChoice({"account_id": "id", "owner": "email"}, ("plan",)), "unknown column role"),
    ],
)
def test_a_choice_that_cannot_be_read_is_refused(
    app_csv: Path, billing_csv: Path, choice: MappingChoice, message: str
) -> None:
    found = recognize([(billing_csv, "b.csv")], (app_csv, "users.csv"))
    with pytest.raises(ConfigError, match=message):
        choose(found, choice)


def test_nothing_runs_and_no_config_is_written_before_the_mapping_is_complete(
    app_csv: Path, billing_csv: Path
) -> None:
    found = recognize([(billing_csv, "b.csv")], (app_csv, "users.csv"))
    with pytest.raises(ConfigError, match=r"cannot run yet: users\.csv: choose the column"):
        run_audit(found, DEMO_AS_OF)
    with pytest.raises(ConfigError, match="no config yet"):
        config_text(found)


def test_the_saved_config_makes_check_find_exactly_what_the_audit_found(
    tmp_path: Path, app_csv: Path, billing_csv: Path
) -> None:
    """What the page saves is what it ran: `check --config` on the file, next to the
    exports under their own names, gives the same findings."""
    found = choose(
        recognize([(billing_csv, "b.csv")], (app_csv, "users.csv")), _fixed(app_csv, billing_csv)
    )
    steps: list[Step] = []
    report = run_audit(found, DEMO_AS_OF, steps.append)
    text = config_text(found, billing_names=["export.csv"])
    assert 'source = "users.csv"' in text and 'sources = ["export.csv"]' in text
    folder = tmp_path / "kept"
    folder.mkdir()
    shutil.copy(app_csv, folder / "users.csv")
    shutil.copy(billing_csv, folder / "export.csv")
    (folder / "billdrift.toml").write_text(text, encoding="utf-8")
    again = check(config=folder / "billdrift.toml", as_of=DEMO_AS_OF)

    def seen(findings: tuple[Finding, ...]) -> list[tuple[object, ...]]:
        return [(f.kind, f.severity, f.account_id, f.customer_id, f.message) for f in findings]

    assert report.findings and seen(again.findings) == seen(report.findings)
    assert [step.phase for step in steps] == ["reading", "comparing", "done"]
    assert steps[0].message == "reading b.csv (1.2 kB), users.csv (234 bytes)"
    assert steps[1].counts == {"subscriptions": 5, "accounts": 5}
    assert steps[1].message == "comparing 5 accounts with 5 subscriptions"
    assert steps[2].message.endswith(f": {len(report.findings)} findings")
    assert 0 <= steps[0].elapsed <= steps[1].elapsed <= steps[2].elapsed


def test_a_base_config_lends_its_policy_but_not_its_sources(
    app_csv: Path, billing_csv: Path
) -> None:
    found = choose(
        recognize([(billing_csv, "b.csv")], (app_csv, "users.csv")), _fixed(app_csv, billing_csv)
    )
    base = Config.model_validate(
        {"plans": {"price_1ProMonthly": "pro"}, "app": {"source": "elsewhere.csv", "query": "x"}}
    )
    config = audit_config(found, base)
    assert config.plans == {"price_1ProMonthly": "pro"}
    assert (config.app.source, config.app.query) == (str(app_csv), None)
    assert config.billing.sources == (str(billing_csv),)


def test_the_run_uses_the_app_settings_the_saved_config_states(
    app_csv: Path, billing_csv: Path
) -> None:
    """One definition: every [app] key the saved config writes is what the run uses, and
    the base's other app settings (say, its encoding) are kept."""
    found = choose(
        recognize([(billing_csv, "b.csv")], (app_csv, "users.csv")), _fixed(app_csv, billing_csv)
    )
    base = Config.model_validate(
        {"app": {"encoding": "latin-1", "table": "t", "columns": {"email": "x"}}}
    )
    config = audit_config(found, base)
    saved = parse_config(tomllib.loads(config_text(found, str(app_csv))), "saved").app
    stated = saved.model_fields_set
    assert {"source", "columns", "access_fields", "primary_access_field"} <= stated
    assert {key: getattr(config.app, key) for key in stated} == {
        key: getattr(saved, key) for key in stated
    }
    assert config.app.encoding == "latin-1" and config.app.table is None
