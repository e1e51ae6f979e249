"""Fixtures of the output tests."""

from __future__ import annotations

import pytest

from billdrift.core import found as found_module


@pytest.fixture()
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many findings the engine's columns were turned into objects, build by build:
    a renderer or alert that reads a few findings of a large report builds only those."""
    counts: list[int] = []
    build = found_module._build

    def counted(rule, rows):  # type: ignore[no-untyped-def]
        counts.append(rows.num_rows)
        return build(rule, rows)

    monkeypatch.setattr(found_module, "_build", counted)
    return counts
