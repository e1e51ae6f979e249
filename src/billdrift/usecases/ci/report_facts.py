"""What a finished check says, read back from its JSON report, as the GitHub Action
exposes it: step outputs (``$GITHUB_OUTPUT``) and the job summary (``$GITHUB_STEP_SUMMARY``).

The JSON report is the one document every run writes (an ERROR one too, when the run
failed), so the action reads its facts there instead of parsing text. The count of new
findings exists only when the run was recorded in a history store: then the report's
``changes`` counts them (``null`` without one; report schema 2.0).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from billdrift.errors import EXIT_ERROR, BilldriftError

#: GitHub refuses a job summary over 1 MiB per step; keep well under it.
SUMMARY_LIMIT: Final = 1_000_000
#: GitHub refuses an issue comment body over 65,536 characters.
COMMENT_LIMIT: Final = 60_000

#: The documents the action keeps, by format, under the report directory.
REPORT_FILES: Final = {
    "json": "billdrift-report.json",
    "markdown": "billdrift-report.md",
    "html": "billdrift-report.html",
    "csv": "billdrift-report.csv",
    "text": "billdrift-report.txt",
}


@dataclass(frozen=True)
class ReportFacts:
    """The figures a workflow branches on."""

    verdict: str
    exit_code: int
    findings: int
    #: None when the run was not recorded in a history store (nothing to compare with).
    new: int | None
    reopened: int | None

    def outputs(self) -> dict[str, str]:
        """Step outputs: names as action.yml declares them; absent counts are empty."""
        return {
            "verdict": self.verdict,
            "exit-code": str(self.exit_code),
            "findings": str(self.findings),
            "new": "" if self.new is None else str(self.new),
            "reopened": "" if self.reopened is None else str(self.reopened),
        }


def _changed(report: dict[str, Any], status: str) -> int | None:
    """How many findings have `status` (new, reopened), or None when the run kept no
    history (``changes`` is null)."""
    changes = report.get("changes")
    if not isinstance(changes, dict):
        return None
    count = changes.get(status)
    return count if isinstance(count, int) else None


def read_facts(json_report: Path, exit_code: int) -> ReportFacts:
    """The facts of the report at `json_report`; `exit_code` is the check's own (it
    wins over the report's: a history store that failed makes an error of a clean run).
    A missing or unreadable report is an ERROR with no findings."""
    try:
        report = json.loads(json_report.read_text("utf-8"))
    except (OSError, ValueError):
        return ReportFacts("ERROR", exit_code or EXIT_ERROR, 0, None, None)
    return ReportFacts(
        verdict=str(report.get("verdict", "ERROR")),
        exit_code=exit_code,
        findings=len(report.get("findings") or []),
        new=_changed(report, "new"),
        reopened=_changed(report, "reopened"),
    )


def write_outputs(path: Path, outputs: dict[str, str]) -> None:
    """Append `outputs` to the ``$GITHUB_OUTPUT`` file as ``name=value`` lines."""
    for name, value in outputs.items():
        if "\n" in value or "\r" in value:
            raise BilldriftError(f"step output {name} spans lines: {value!r}")
    with path.open("a", encoding="utf-8") as file:
        file.writelines(f"{name}={value}\n" for name, value in outputs.items())


def truncated(markdown: str, limit: int, where: str) -> str:
    """`markdown` cut at a line boundary to fit in `limit` characters, saying so and
    where the whole report is (`where`)."""
    if len(markdown) <= limit:
        return markdown
    note = f"\n\n_… report truncated here to fit; the whole report is in {where}._\n"
    cut = markdown.rfind("\n", 0, limit - len(note))
    return markdown[: max(cut, 0)] + note


def summary_markdown(report_dir: Path, facts: ReportFacts, artifact: str) -> str:
    """What goes to the job summary: the markdown report (truncated to GitHub's limit)
    or, when the run wrote none, why."""
    try:
        markdown = (report_dir / REPORT_FILES["markdown"]).read_text("utf-8")
    except OSError:
        return (
            f"## billdrift: {facts.verdict}\n\nThe check wrote no report (exit code "
            f"{facts.exit_code}); its error is in the step log.\n"
        )
    return truncated(markdown, SUMMARY_LIMIT, f"the `{artifact}` artifact")


def append_summary(path: Path, markdown: str) -> None:
    """Append to the ``$GITHUB_STEP_SUMMARY`` file (other steps may have written to it)."""
    with path.open("a", encoding="utf-8") as file:
        file.write(markdown if markdown.endswith("\n") else markdown + "\n")
