"""A mirror read in many Arrow batches gives the rows one batch gives: each batch is
turned into tables before the next is read (bounded memory), and nothing is lost,
repeated or reordered where the batches meet."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pytest

from billdrift.infra.db.postgres import PostgresConnection
from tests.sources.billing import test_stripe_mirror as mirror_tests
from tests.sources.billing.test_stripe_mirror import (
    EXPECTED_ITEMS,
    SYNC,
    Mirror,
    expected_subscriptions,
    sync_engine,
)

reader = mirror_tests.reader
mirror = mirror_tests.mirror


def test_rows_split_over_one_row_batches_read_as_one_batch(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = PostgresConnection.stream
    batches: list[int] = []

    def one_row_batches(
        self: PostgresConnection, sql: str, params: Sequence[Any] = ()
    ) -> Iterator[pa.RecordBatch]:
        for batch in stream(self, sql, params):
            for row in range(batch.num_rows):
                batches.append(row)
                yield batch.slice(row, 1)

    monkeypatch.setattr(PostgresConnection, "stream", one_row_batches)
    sync_engine(mirror)
    data = mirror.read()

    assert len(batches) == 5
    assert data.subscriptions.to_pylist() == expected_subscriptions(SYNC)
    assert data.items.to_pylist() == EXPECTED_ITEMS
    assert data.description.endswith(": 5 subscriptions (test mode)")
