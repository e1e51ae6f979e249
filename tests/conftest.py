"""Shared fixtures: snapshot comparison with a regenerate switch."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("BILLDRIFT_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture
def snapshot() -> Callable[[str, str], None]:
    """Compare text with tests/snapshots/NAME; BILLDRIFT_UPDATE_SNAPSHOTS=1 rewrites it."""

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if UPDATE or not path.exists():
            if not UPDATE and os.environ.get("CI"):
                pytest.fail(f"snapshot {name} is missing; run with BILLDRIFT_UPDATE_SNAPSHOTS=1")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), (
            f"output differs from tests/snapshots/{name}; if intended, rerun with "
            "BILLDRIFT_UPDATE_SNAPSHOTS=1 and review the diff"
        )

    return check
