"""The doctor report as text (80 columns, fixes under each problem) or as JSON.

Returns the text; writing it, and exiting with the report's code, is the
command line's job. Control characters that reached a detail are replaced in
the text form, so a hostile value cannot move the terminal's cursor.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Final

from billdrift.onboarding.doctor.report import STATUS_ORDER, DoctorReport
from billdrift.onboarding.doctor.wording import many

WIDTH: Final = 80
_LABELS: Final = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
_INDENT: Final = " " * 7


def _wrap(text: str, first: str, rest: str) -> list[str]:
    lines = textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return lines or [first.rstrip()]


def render_text(report: DoctorReport) -> str:
    """One entry per check, fixes under warnings and failures; 80 columns."""
    lines = ["billdrift doctor"]
    for check in report.checks:
        head = f"[{_LABELS[check.status]}]".ljust(len(_INDENT))
        lines += _wrap(f"{check.name}: {check.detail}", head, _INDENT)
        if check.fix:
            first, *more = check.fix.split("\n")
            lines += _wrap(f"fix: {first}", _INDENT, _INDENT + "  ")
            for extra in more:  # SQL and the like: one statement per line
                lines += _wrap(extra, _INDENT + "  ", _INDENT + "    ")
    counts = {
        status: sum(1 for c in report.checks if c.status == status) for status in STATUS_ORDER
    }
    summary = ", ".join(
        f"{counts[status]} {word}" if status != "warn" else many(counts[status], word)
        for status, word in (("fail", "failed"), ("warn", "warnings"), ("ok", "ok"))
        if counts[status]
    )
    lines.append(f"billdrift doctor: {_LABELS[report.status]} ({summary})")
    return "\n".join(lines) + "\n"


def render_json(report: DoctorReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def render(report: DoctorReport, format: str) -> str:
    if format == "json":
        return render_json(report)
    return _CONTROL.sub("?", render_text(report))
