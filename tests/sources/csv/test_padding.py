"""padding: the exact, cheap test that lets sources skip cleaning text."""

from __future__ import annotations

import pyarrow as pa
import pytest

from billdrift.sources.csv import padding


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a", "b c", None, "é", "日本"], False),
        ([None, None], False),
        ([], False),
        (["a", " b"], True),
        (["a", "b\t"], True),
        (["a", "b\r"], True),
        (["\u00e9 ", "x"], True),
        (["x", "\u00a0y"], False),  # no-break space is not trimmed by the sources either
    ],
)
def test_padded_looks_at_the_first_and_last_byte_of_every_value(
    values: list[str | None], expected: bool
) -> None:
    array = pa.array(values, pa.string())
    assert padding.padded(array) is expected
    assert padding.padded(pa.chunked_array([array, array], pa.string())) is expected
    assert padding.padded(array.cast(pa.large_string())) is expected


def test_padded_reads_slices_and_later_chunks() -> None:
    """Offsets of a sliced array start mid-buffer; a padded value in the second chunk
    (or cut away by the slice) must be found (or not)."""
    array = pa.array(["a ", "b", "c", " d"], pa.string())
    assert padding.padded(array.slice(1, 2)) is False
    assert padding.padded(array.slice(1, 3)) is True
    assert padding.padded(pa.chunked_array([array.slice(1, 2), array.slice(3, 1)])) is True


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["a", None], False), (["a", ""], True), (["a", "b "], True), ([], False)],
)
def test_needs_cleaning_means_padded_or_empty(values: list[str | None], expected: bool) -> None:
    assert padding.needs_cleaning(pa.array(values, pa.string())) is expected
