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
    """A read-only sequence whose items another sequence holds (see the module). Reading
    several at once (a slice, iterating) asks the sources that can build findings in
    bulk (:meth:`pick`, as :class:`~billdrift.core.found.Found` does) for all of them
    in one call: one at a time, each would be built on its own."""

    def _at(self, index: int) -> Finding:
        raise NotImplementedError

    def pick(self, positions: Sequence[int]) -> list[Finding]:
        """The findings at `positions` (each in range), in that order."""
        return [self._at(position) for position in positions]

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice):
            return tuple(self.pick(range(len(self))[index]))
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._at(index % len(self))

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.pick(range(len(self))))

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

    def pick(self, positions: Sequence[int]) -> list[Finding]:
        split = len(self._first)
        first = iter(_picked(self._first, [p for p in positions if p < split]))
        then = iter(_picked(self._then, [p - split for p in positions if p >= split]))
        return [next(first) if position < split else next(then) for position in positions]


class Picked(_View):
    """The findings of `source` at positions `positions`, in that order."""

    def __init__(self, source: Sequence[Finding], positions: Sequence[int]) -> None:
        self._source, self._positions = source, tuple(positions)

    def __len__(self) -> int:
        return len(self._positions)

    def _at(self, index: int) -> Finding:
        return self._source[self._positions[index]]

    def pick(self, positions: Sequence[int]) -> list[Finding]:
        return _picked(self._source, [self._positions[position] for position in positions])


@runtime_checkable
class _Picks(Protocol):
    """A sequence of findings that builds those at several positions in one call."""

    def pick(self, positions: Sequence[int]) -> list[Finding]: ...


def _picked(source: Sequence[Finding], positions: Sequence[int]) -> list[Finding]:
    """The findings of `source` at `positions`: in one call where it can build them so."""
    if isinstance(source, _Picks):
        return source.pick(positions)
    return [source[position] for position in positions]
