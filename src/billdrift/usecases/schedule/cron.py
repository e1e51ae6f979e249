"""`billdrift schedule cron`: one crontab line that never overlaps itself.

``flock -n`` skips a run while the previous one still holds the lock, so a slow
run cannot pile up behind itself; output goes to a log beside the history store.
"""

from __future__ import annotations

import shlex
from pathlib import Path


def crontab_line(cron: str, executable: str, config: str, directory: Path) -> str:
    base = directory.resolve()
    state = base / ".billdrift"
    command = " ".join(
        shlex.quote(part)
        for part in (
            executable,
            "check",
            "--config",
            str((base / config).resolve()),
            "--history",
            str(state / "history.sqlite"),
            "--format",
            "json",
            "--output",
            str(state / "last-report.json"),
        )
    )
    lock = shlex.quote(str(state / "cron.lock"))
    log = shlex.quote(str(state / "cron.log"))
    return (
        f"{cron} mkdir -p {shlex.quote(str(state))} && cd {shlex.quote(str(base))} && "
        f"flock -n {lock} {command} >> {log} 2>&1"
    )
