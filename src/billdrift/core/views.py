"""Views of a sequence of findings that make no finding object until one is read.

The engine's findings are columns (:class:`~billdrift.core.found.Found`); recording a
run splits them by what changed (new, ongoing, ...) and chains them with the
suppressed ones. Lists of the objects would build all of them for a count; these
views answer their length from the indices and read an object only when asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from billdrift.core.model import Finding


class Chained(Sequence[Finding]):
    """The report's findings then its suppressed ones, without making the report's
    finding objects until one is asked for (see :class:`~billdrift.core.found.Found`)."""

    def __init__(self, first: Sequence[Finding], then: Sequence[Finding]) -> None:
        self._first, self._then = first, then

    def __len__(self) -> int:
        return len(self._first) + len(self._then)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if index < 0:
            index += len(self)
        if 0 <= index < len(self._first):
            return self._first[index]
        return self._then[index - len(self._first)]

    def __iter__(self) -> Iterator[Finding]:
        yield from self._first
        yield from self._then


class Picked(Sequence[Finding]):
    """The findings of `source` at positions `positions`, in that order."""

    def __init__(self, source: Sequence[Finding], positions: Sequence[int]) -> None:
        self._source, self._positions = source, tuple(positions)

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice):
            return tuple(self._source[i] for i in self._positions[index])
        return self._source[self._positions[index]]

    def __iter__(self) -> Iterator[Finding]:
        return (self._source[i] for i in self._positions)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Picked({len(self)} findings)"
