"""Views of a sequence of findings that make no finding object until one is read.

The engine's findings are columns (:class:`~billdrift.core.found.Found`); recording a
run splits them by what changed (new, ongoing, ...) and chains them with the
suppressed ones. Lists of the objects would build all of them for a count; these
views answer their length from the indices and read an object only when asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, overload, runtime_checkable

from billdrift.core.model import Finding


class _View(Sequence[Finding]):
    """A read-only sequence whose items another sequence holds (see the module)."""

    def _at(self, index: int) -> Finding:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice):
            return tuple(self._at(i) for i in range(len(self))[index])
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._at(index % len(self))

    def __iter__(self) -> Iterator[Finding]:
        return (self._at(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} findings)"


class Chained(_View):
    """The findings of `first`, then those of `then`."""

    def __init__(self, first: Sequence[Finding], then: Sequence[Finding]) -> None:
        self._first, self._then = first, then

    def __len__(self) -> int:
        return len(self._first) + len(self._then)

    def _at(self, index: int) -> Finding:
        split = len(self._first)
        return self._first[index] if index < split else self._then[index - split]


class Picked(_View):
    """The findings of `source` at positions `positions`, in that order. A slice of it
    asks a source that can build several findings at once (``pick``, as
    :class:`~billdrift.core.found.Found` does) for all of them in one call."""

    def __init__(self, source: Sequence[Finding], positions: Sequence[int]) -> None:
        self._source, self._positions = source, tuple(positions)

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice) and isinstance(self._source, _Picks):
            return tuple(self._source.pick(self._positions[index]))
        return super().__getitem__(index)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self[:])

    def _at(self, index: int) -> Finding:
        return self._source[self._positions[index]]


@runtime_checkable
class _Picks(Protocol):
    """A sequence of findings that builds those at several positions in one call."""

    def pick(self, positions: Sequence[int]) -> list[Finding]: ...
