"""`billdrift history prune` (issue 18) end to end through click, and the prune a
recorded run does by itself when `[history.retention]` asks for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billdrift.cli.app import main
from billdrift.config import parse_config
from billdrift.core.model import Kind
from billdrift.history import fingerprint, open_store, record_run
from billdrift.history.review import record_decision
from billdrift.usecases.recording import record
from tests.history.helpers import finding, report

NOW = datetime.now(UTC).replace(microsecond=0)
FADED = finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2")


def _day(days_ago: float) -> datetime:
    """Noon of the day `days_ago` (half a day off every cut-off of whole days)."""
    return NOW - timedelta(days=days_ago) + timedelta(hours=12)


def _changing(day: int) -> object:
    return finding(
        Kind.PAID_BUT_BLOCKED, "u1", "cus_1", evidence={"billing": {"day": day, "pad": "x" * 5000}}
    )


@pytest.fixture
def location(tmp_path: Path) -> str:
    """40 daily runs ending half a day ago; FADED resolved 34.5 days ago."""
    path = str(tmp_path / "history.sqlite")
    with open_store(path) as store:
        for day in range(40, 0, -1):
            extra = (FADED,) if day > 35 else ()
            record_run(store, report(_changing(day), *extra), _day(day), _day(day))  # type: ignore[arg-type]
    return path


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["history", "prune", *args], env={"BILLDRIFT_CONFIG": ""})


def _runs(location: str) -> int:
    with open_store(location) as store:
        return len(store.recent_runs(1000))


def test_dry_run_then_prune_then_nothing_left_to_prune(location: str, tmp_path: Path) -> None:
    args = ("--history", location, "--keep-runs-days", "10", "--keep-resolved-days", "30")
    dry = _invoke(*args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would remove 29 runs, 1 resolved finding, 31 timeline entries" in dry.stdout
    assert "Nothing was changed (--dry-run)." in dry.stdout
    assert _runs(location) == 40
    size = Path(location).stat().st_size
    done = _invoke(*args)
    assert done.exit_code == 0, done.output
    assert "removed 29 runs, 1 resolved finding, 31 timeline entries" in done.stdout
    assert "Kept: every review" in done.stdout and "Compacted:" in done.stdout
    assert _runs(location) == 11  # the last 10 days, and the run KEPT was first seen in
    assert Path(location).stat().st_size < size / 2
    again = json.loads(_invoke(*args, "--format", "json").stdout)
    assert again["removed"] == {"runs": 0, "findings": 0, "spans": 0}
    assert again["dry_run"] is False and again["history"] == location


def test_the_config_gives_the_policy_and_options_win(location: str, tmp_path: Path) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text(
        f'[history]\nlocation = "{location}"\n[history.retention]\nkeep_runs_days = 20\n'
    )
    out = _invoke("--config", str(config), "--dry-run", "--format", "json")
    assert out.exit_code == 0, out.output
    # 20 runs are older, 3 of them kept: the first (both findings were first seen in
    # it), FADED's last sighting and the run it resolved in (FADED itself is kept).
    assert json.loads(out.stdout)["removed"]["runs"] == 17
    narrower = _invoke("--config", str(config), "--dry-run", "--keep-runs-days", "5")
    assert "would remove 32 runs" in narrower.stdout


def test_no_policy_is_an_error_naming_what_to_set(location: str) -> None:
    result = _invoke("--history", location)
    assert result.exit_code == 2
    assert "[history.retention]" in result.stderr and "--keep-runs-days" in result.stderr
    assert _invoke("--history", location, "--keep-runs-days", "0").exit_code == 2


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = _invoke("--history", str(missing), "--keep-runs-days", "5")
    assert result.exit_code == 2 and "no history store" in result.stderr
    assert not missing.exists()


def test_a_recorded_run_prunes_by_the_config(location: str) -> None:
    with open_store(location) as store:
        state = store.finding(fingerprint(FADED))
        assert state is not None
        record_decision(store, state, "noted", "refunded", "ann", _day(36))
    config = parse_config(
        {
            "history": {
                "location": location,
                "retention": {"keep_runs_days": 7, "keep_resolved_days": 7},
            }
        }
    )
    size = Path(location).stat().st_size
    record(config, report(_changing(0)), NOW, NOW)  # type: ignore[arg-type]
    # 7 days of runs, today's, and those the kept findings name: the first, FADED's
    # last sighting and the run it resolved in (FADED is reviewed, so it stays).
    assert _runs(location) == 11
    with open_store(location) as store:
        assert store.finding(fingerprint(FADED)) is not None  # reviewed: kept
        assert store.reviews_for([fingerprint(FADED)])
    assert Path(location).stat().st_size < size / 2  # compacted: most of it was free


def test_without_a_policy_a_recorded_run_prunes_nothing(location: str) -> None:
    config = parse_config({"history": {"location": location}})
    record(config, report(_changing(0)), NOW, NOW)  # type: ignore[arg-type]
    assert _runs(location) == 41
