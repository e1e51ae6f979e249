"""The public Python API: the same check the CLI runs, returned as data."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import billdrift
from billdrift.cli import app as cli
from billdrift.core.model import Kind, Verdict
from billdrift.outputs.render import render_bytes
from billdrift.usecases import check as check_module
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths


def test_check_returns_the_report_the_cli_renders(capsys: pytest.CaptureFixture[str]) -> None:
    paths = demo_paths()
    report = billdrift.check(
        billing=str(paths.billing), app=str(paths.app), config=paths.config, as_of=DEMO_AS_OF
    )
    assert capsys.readouterr() == ("", "")  # the library never prints
    assert report.verdict is Verdict.FAIL and report.exit_code == 1
    assert {finding.kind for finding in report.findings} >= {
        Kind.PAID_BUT_BLOCKED,
        Kind.UNPAID_BUT_ACTIVE,
    }
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(paths.billing),
            "--app",
            str(paths.app),
            "--config",
            str(paths.config),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout) == json.loads(render_bytes("json", report))


def test_check_takes_flags_over_the_config_as_the_cli_does() -> None:
    paths = demo_paths()
    strict = billdrift.check(
        [str(paths.billing)], str(paths.app), config=str(paths.config), as_of="2026-11-22"
    )
    lenient = billdrift.check(
        [str(paths.billing)],
        str(paths.app),
        config=billdrift.load_config(paths.config),
        as_of="2026-11-22T00:00:00Z",
        grace_days=10_000,
    )
    assert strict.as_of == lenient.as_of == DEMO_AS_OF
    assert lenient.by_kind.get("unpaid_but_active", 0) < strict.by_kind["unpaid_but_active"]


def test_a_failure_is_raised_not_printed(tmp_path: Path) -> None:
    with pytest.raises(billdrift.BilldriftError) as raised:
        billdrift.check(billing=str(tmp_path / "missing.json"), app=str(demo_paths().app))
    assert "missing.json" in str(raised.value)
    assert raised.value.exit_code == 2
    with pytest.raises(billdrift.BilldriftError, match="no billing input"):
        billdrift.check(app=str(demo_paths().app))


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_paused_for_the_check_and_restored(
    monkeypatch: pytest.MonkeyPatch, enabled_before: bool
) -> None:
    """Reading and reconciling run with the cyclic collector off (see
    billdrift.infra.runtime); the caller's setting comes back."""
    seen: list[bool] = []
    real = check_module.reconcile

    def spy(inputs: check_module.Inputs) -> billdrift.Report:
        seen.append(gc.isenabled())
        return real(inputs)

    monkeypatch.setattr(check_module, "reconcile", spy)
    was = gc.isenabled()
    paths = demo_paths()
    try:
        if enabled_before:
            gc.enable()
        else:
            gc.disable()
        billdrift.check(str(paths.billing), str(paths.app), as_of=DEMO_AS_OF)
        assert gc.isenabled() is enabled_before
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
    assert seen == [False]


def test_unknown_public_names_are_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        billdrift.no_such_thing  # noqa: B018
    assert set(billdrift.__all__) >= {"check", "Report", "monitored_check", "BilldriftError"}
