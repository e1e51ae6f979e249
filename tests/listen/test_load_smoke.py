"""A small run of bench/listen_load.py: its guarantees hold at smoke size too."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.infra.db.conftest import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import listen_load


def test_bursts_give_one_check_per_customer_within_the_rate_limit(
    pg: Database, tmp_path: Path
) -> None:
    result = listen_load.run(
        pg.url, customers=8, events=80, bursts=2, window=1.5, others=1_000, work=tmp_path
    )
    assert result["problems"] == []
    assert 0 < result["checks"] <= 2 * result["customers"]
    assert result["alerts_received"] > 0
    assert result["api_429s"] == 0
