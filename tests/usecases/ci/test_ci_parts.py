"""The action's Python parts on their boundaries: GitHub's size limits, unsafe
archives, multi-line outputs, runs that are not for a pull request."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from billdrift.errors import BilldriftError
from billdrift.usecases.ci.pr_comment import pull_request_number
from billdrift.usecases.ci.report_facts import read_facts, truncated, write_outputs
from billdrift.usecases.ci.state import _unpack


def test_truncation_only_past_the_limit_and_at_a_line_boundary() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    assert truncated(text, len(text), "the artifact") == text
    cut = truncated(text, len(text) - 1, "the artifact")
    assert len(cut) <= len(text) - 1 and "truncated" in cut and "the artifact" in cut
    kept = cut.split("\n\n_…")[0]
    assert text.startswith(kept + "\n")  # whole lines only


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/../../b", "C:/x"])
def test_an_archive_reaching_outside_the_state_directory_is_refused(
    tmp_path: Path, name: str
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "x")
    with pytest.raises(BilldriftError, match="unsafe path"):
        _unpack(buffer.getvalue(), tmp_path / "state")
    assert not (tmp_path / "escape").exists()


def test_a_safe_archive_unpacks_private(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("history.sqlite", "h")
        archive.writestr("cache/billdrift/stripe-1/s.json", "{}")
    assert _unpack(buffer.getvalue(), tmp_path / "state") == 2
    for path in [tmp_path / "state", *(tmp_path / "state").rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_outputs_never_span_lines(tmp_path: Path) -> None:
    target = tmp_path / "out"
    write_outputs(target, {"a": "1", "b": ""})
    assert target.read_text("utf-8") == "a=1\nb=\n"
    with pytest.raises(BilldriftError):
        write_outputs(target, {"c": "x\ny=2"})  # would forge output y


def test_pull_request_number_only_for_pull_request_events(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12}}), "utf-8")
    assert pull_request_number("pull_request", event) == 12
    assert pull_request_number("pull_request_target", event) == 12
    assert pull_request_number("schedule", event) is None
    assert pull_request_number("pull_request", tmp_path / "missing.json") is None


def test_facts_of_a_missing_report_are_an_error(tmp_path: Path) -> None:
    facts = read_facts(tmp_path / "none.json", 0)
    assert facts.verdict == "ERROR" and facts.exit_code == 2 and facts.new is None


def test_new_and_reopened_counts_come_from_the_reports_changes(tmp_path: Path) -> None:
    """Schema 2.0: `changes` counts them; null (no history store) leaves them empty."""
    report = tmp_path / "report.json"
    changes = {"previous_run_at": None, "new": 3, "reopened": 1, "ongoing": 2, "resolved": []}
    report.write_text(json.dumps({"verdict": "FAIL", "findings": [], "changes": changes}))
    facts = read_facts(report, 1)
    assert (facts.new, facts.reopened) == (3, 1)
    report.write_text(json.dumps({"verdict": "FAIL", "findings": [], "changes": None}))
    assert read_facts(report, 1).outputs()["new"] == ""
