"""A key pasted where a file is expected is not shown back, by a real ``billdrift``
process: not in the error, not in the ``--debug`` traceback (issue 13, review)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from billdrift.usecases.demo import demo_paths

BILLDRIFT = str(Path(sys.executable).parent / "billdrift")


def _run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BILLDRIFT, *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_key_given_as_a_file_is_masked_in_the_error_and_the_traceback(tmp_path: Path) -> None:
    done = _run(
        tmp_path, {}, "check", "--billing", "sk_test_51PastedQ7xKey", "--app", "x.csv", "--debug"
    )
    assert done.returncode == 2
    assert "billing file not found: sk_test_***" in done.stderr
    assert "Traceback" in done.stderr  # the --debug traceback went out, scrubbed too
    assert "Q7x" not in done.stdout + done.stderr


def test_a_secret_from_the_environment_is_masked_in_any_option(tmp_path: Path) -> None:
    shutil.copy(demo_paths().billing, tmp_path / "billing.json")
    env = {"ACME_EXPORT_TOKEN": "opaqueQ7xTokenValue"}
    done = _run(tmp_path, env, "check", "--billing", "billing.json", "--app", "opaqueQ7xTokenValue")
    assert done.returncode == 2
    assert "cannot read app data from ***:" in done.stderr, done.stderr
    assert "Q7x" not in done.stdout + done.stderr
