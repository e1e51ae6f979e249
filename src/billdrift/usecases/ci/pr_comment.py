"""One pull-request comment per pull request, edited on every run, never repeated.

The comment carries a hidden marker; a run lists the pull request's comments, edits
the first one that carries the marker, or creates it when there is none. Several
billdrift jobs in one repository keep their own comments apart by `key`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from billdrift.usecases.ci.github_api import GitHubApi
from billdrift.usecases.ci.report_facts import COMMENT_LIMIT, truncated

#: Events whose payload names a pull request.
PR_EVENTS: Final = ("pull_request", "pull_request_target")


def marker(key: str = "report") -> str:
    """The hidden line that identifies billdrift's comment (markdown does not show it)."""
    return f"<!-- billdrift:{key} -->"


def pull_request_number(event_name: str, event_path: Path | None) -> int | None:
    """The pull request this run is for, from the event payload; None outside one."""
    if event_name not in PR_EVENTS or event_path is None:
        return None
    try:
        payload = json.loads(event_path.read_text("utf-8"))
        return int(payload["pull_request"]["number"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Posted:
    """What happened to the comment."""

    action: Literal["created", "updated"]
    comment_id: int
    url: str


def comment_body(markdown: str, run_url: str | None, key: str = "report") -> str:
    """The comment: marker, the report (cut to GitHub's limit) and a link to the run."""
    where = f"[the run's artifacts]({run_url})" if run_url else "the run's artifacts"
    body = truncated(markdown.rstrip("\n"), COMMENT_LIMIT, where)
    footer = f"\n\n<sub>Updated by billdrift on every run: [workflow run]({run_url})</sub>"
    return f"{marker(key)}\n{body}{footer if run_url else ''}\n"


def upsert_comment(api: GitHubApi, number: int, body: str, key: str = "report") -> Posted:
    """Edit billdrift's comment on pull request `number`, or create it if there is none."""
    base = f"/repos/{api.repository}/issues"
    tag = marker(key)
    existing = next(
        (c for c in api.pages(f"{base}/{number}/comments") if tag in str(c.get("body", ""))),
        None,
    )
    if existing is not None:
        answer = api.request(
            "PATCH", f"{base}/comments/{existing['id']}", json={"body": body}
        ).json()
        return Posted("updated", int(answer["id"]), str(answer.get("html_url", "")))
    answer = api.request("POST", f"{base}/{number}/comments", json={"body": body}).json()
    return Posted("created", int(answer["id"]), str(answer.get("html_url", "")))
