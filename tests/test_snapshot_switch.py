"""The snapshot regenerate switch cannot be used in CI (issue 19)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pytest(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "BILLDRIFT_UPDATE_SNAPSHOTS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--co", "tests/outputs/test_render.py"],
        cwd=ROOT,
        env={**env, **env_extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_regenerating_snapshots_under_ci_is_refused() -> None:
    refused = _pytest({"CI": "true", "BILLDRIFT_UPDATE_SNAPSHOTS": "1"})
    assert refused.returncode != 0
    assert "refused when CI is set" in refused.stdout + refused.stderr
    assert _pytest({"CI": "true"}).returncode == 0
    assert _pytest({"BILLDRIFT_UPDATE_SNAPSHOTS": "1"}).returncode == 0  # collection only
