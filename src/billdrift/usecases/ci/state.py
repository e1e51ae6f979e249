"""The state a scheduled run keeps (history store, Stripe snapshot), restored from the
previous run's artifact when the Actions cache no longer has it.

The action saves its state directory twice after every run: to the Actions cache
(fast, but evicted after 7 days without access, and the oldest entries first once a
repository passes 10 GB) and as an artifact (kept for the retention period, 90 days by
default). A weekly schedule outlives the cache, so when the cache restores nothing the
action asks the API for the newest unexpired state artifact of the same branch and
unpacks it here. The archive is unpacked only inside the directory, and everything in
it is made private (0700/0600): it holds account ids and customers' emails.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

from billdrift.errors import BilldriftError
from billdrift.infra.private import make_dirs, private_tree
from billdrift.usecases.ci.github_api import GitHubApi

#: The largest state archive unpacked (a history store and a Stripe snapshot of a
#: large account stay well under it; anything bigger is not billdrift's).
MAX_UNPACKED_BYTES: Final = 4 * 1024**3


@dataclass(frozen=True)
class Restored:
    """Which artifact was unpacked, from which run, and how many files."""

    artifact_id: int
    run_id: int | None
    created_at: str
    files: int


def newest_artifact(api: GitHubApi, name: str, branch: str | None) -> dict[str, Any] | None:
    """The newest unexpired artifact called `name` made on `branch` (any when None)."""
    candidates = [
        artifact
        for artifact in api.pages(
            f"/repos/{api.repository}/actions/artifacts", "artifacts", name=name
        )
        if artifact.get("name") == name
        and not artifact.get("expired", False)
        and (branch is None or (artifact.get("workflow_run") or {}).get("head_branch") == branch)
    ]
    return max(candidates, key=lambda artifact: str(artifact.get("created_at", "")), default=None)


def _unpack(archive: bytes, directory: Path) -> int:
    """Unpack `archive` into `directory`, refusing any member that would land outside
    it and archives larger than MAX_UNPACKED_BYTES unpacked; returns the file count."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as error:
        raise BilldriftError(f"the state artifact is not a zip archive: {error}") from None
    with bundle:
        members = bundle.infolist()
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
            raise BilldriftError("the state artifact unpacks to more than 4 GiB; not restored")
        for member in members:
            parts = PurePosixPath(member.filename).parts
            if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in member.filename:
                raise BilldriftError(f"the state artifact holds an unsafe path: {member.filename}")
        make_dirs(directory)
        bundle.extractall(directory)
        files = sum(1 for member in members if not member.is_dir())
    for path in sorted({directory, *(p for p in directory.rglob("*") if p.is_dir())}):
        private_tree(path)
    return files


def restore_state(
    api: GitHubApi, name: str, branch: str | None, directory: Path
) -> Restored | None:
    """Unpack the newest state artifact into `directory`; None when there is none (a
    first run, or every one has expired)."""
    artifact = newest_artifact(api, name, branch)
    if artifact is None:
        return None
    archive = api.request("GET", str(artifact["archive_download_url"]), follow=True).content
    files = _unpack(archive, directory)
    run = (artifact.get("workflow_run") or {}).get("id")
    return Restored(
        int(artifact["id"]),
        None if run is None else int(run),
        str(artifact.get("created_at", "")),
        files,
    )
