"""init proposes [plans]: sure name matches active, the rest commented with why (issue 14)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.config import load_config
from billdrift.onboarding.plans import PlanEntry, normalized, propose_plans

DEMO = Path(__file__).parents[2] / "src" / "billdrift" / "demo_data"


def test_normalized_drops_case_punctuation_and_interval_words() -> None:
    assert normalized("Pro (yearly)") == "pro"
    assert normalized("pro_monthly") == "pro"
    assert normalized("Business-Plus Annual") == "business plus"
    assert normalized("pro_eur") == "pro eur"  # only interval words go


def test_exact_and_normalized_names_are_sure_the_rest_commented_with_why() -> None:
    proposal = propose_plans(
        ["pro_monthly", "Pro (yearly)", "Team", "pro_plus_monthly", "enterprise", "x_monthly"],
        ["pro", "team", "pro plus", "free", "basic"],
        free_plans=["free"],
    )
    entries = {entry.key: entry for entry in proposal.entries}
    assert entries["pro_monthly"] == PlanEntry(
        "pro_monthly", "pro", True, "same name without interval words"
    )
    assert entries["Pro (yearly)"].plan == "pro" and entries["Pro (yearly)"].sure
    assert entries["Team"] == PlanEntry("Team", "team", True, "same name")
    assert entries["pro_plus_monthly"] == PlanEntry(
        "pro_plus_monthly", "pro plus", True, "same name without interval words"
    )
    assert entries["enterprise"] == PlanEntry("enterprise", "", False, "no app plan matches")
    assert not entries["x_monthly"].sure
    assert proposal.active == {
        "pro_monthly": "pro",
        "Pro (yearly)": "pro",
        "Team": "team",
        "pro_plus_monthly": "pro plus",
    }
    assert proposal.unmapped == ("basic",)  # free plans need no billing name


def test_a_partial_or_ambiguous_match_is_never_active() -> None:
    proposal = propose_plans(["pro_eur", "PRO"], ["pro", "pro-"])
    entries = {entry.key: entry for entry in proposal.entries}
    assert entries["pro_eur"].why == "unsure: shares words with 'pro', 'pro-'"
    assert not entries["pro_eur"].sure
    assert entries["PRO"].sure  # exact (case-insensitive) wins over several normalized
    ambiguous = propose_plans(["pro monthly"], ["Pro", "pro-"])
    assert not ambiguous.entries[0].sure
    assert ambiguous.entries[0].why == "unsure: matches 'Pro', 'pro-'"


def test_provider_ids_are_not_plan_names() -> None:
    proposal = propose_plans(
        ["price_1PqXyzExample", "prod_Abcdefgh12", "pro_01h8x9y7z6a5b4c3d2e1f0g9h8"], ["pro"]
    )
    assert proposal.entries == ()


def test_init_writes_the_proposal_and_it_round_trips(tmp_path: Path) -> None:
    app = tmp_path / "app.sqlite"
    shutil.copy(DEMO / "app.sqlite", app)
    billing = tmp_path / "subscriptions.json"
    shutil.copy(DEMO / "stripe_subscriptions.json", billing)
    output = tmp_path / "billdrift.toml"
    result = CliRunner().invoke(
        cli.main, ["init", "--app", str(app), "--billing", str(billing), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    text = output.read_text()
    assert tomllib.loads(text)["plans"] == load_config(output).plans
    assert load_config(output).plans == {
        "basic_monthly": "basic",
        "pro_monthly": "pro",
        "pro_yearly": "pro",
        "team_monthly": "team",
    }
    assert '# pro_eur = "pro"' in text and "unsure: shares words with 'pro'" in text


def test_init_without_billing_plan_names_keeps_the_commented_example(tmp_path: Path) -> None:
    app = tmp_path / "app.sqlite"
    shutil.copy(DEMO / "app.sqlite", app)
    output = tmp_path / "billdrift.toml"
    result = CliRunner().invoke(cli.main, ["init", "--app", str(app), "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert load_config(output).plans == {}
    assert "# [plans]" in output.read_text()


def test_unreadable_app_rows_leave_the_example_and_init_still_writes(tmp_path: Path) -> None:
    """init only needs the header; rows it cannot read are for check and doctor to report."""
    app = tmp_path / "users.csv"
    app.write_bytes(
        b"id,email,stripe_customer_id,has_paid_access,plan\n"
        b"u1,a@example.com,cus_1,t,pro\nu2,\xff\xfe@example.com,cus_2,t,basic\n"
    )
    billing = tmp_path / "subscriptions.json"
    shutil.copy(DEMO / "stripe_subscriptions.json", billing)
    output = tmp_path / "billdrift.toml"
    result = CliRunner().invoke(
        cli.main, ["init", "--app", str(app), "--billing", str(billing), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert load_config(output).plans == {}
    assert "# [plans]" in output.read_text()
