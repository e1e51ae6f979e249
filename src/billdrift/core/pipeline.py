"""Declared stages and the order they run in, derived from what each one reads.

A stage is one derived relation: its name, the relations its query reads and the
query. Nothing sequences the stages by hand: :func:`execution_order` derives the
order from the declarations (a topological order, :mod:`graphlib`, stable in the
order they are listed), so adding a stage or a rule is one declaration, and a
stage that reads a relation nobody produces, or stages that read each other in a
circle, fail with a message naming them before any query runs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

import duckdb

from billdrift.core.rules.base import RuleContext, always
from billdrift.core.sql import sql


class StageDeclarationError(ValueError):
    """Stages whose declarations cannot be run: a relation nobody provides, a name
    declared twice, or a cycle."""


@dataclass(frozen=True)
class Stage:
    """One derived relation, named `name`, computed by `query` from `reads`."""

    name: str
    #: Every relation the queries below read: inputs, policy relations, other stages.
    reads: tuple[str, ...]
    query: str
    #: A view is computed while its reader streams it and never stored: for a
    #: million-row step that only one other stage reads.
    view: bool = False
    #: A one-boolean query over `reads`: when it yields false (or NULL), `otherwise`
    #: gives the stage's rows and `query` is never run. For work the data can show
    #: to be pointless (fields that cannot disagree when there is one).
    when: str | None = None
    #: Whether the configuration and the app's columns allow the stage at all.
    applies: Callable[[RuleContext], bool] = always
    #: The stage's rows, same columns, when `when` or `applies` says `query` is not
    #: needed: no rows, or a cheaper way to the same ones.
    otherwise: str | None = None

    def __post_init__(self) -> None:
        conditional = self.when is not None or self.applies is not always
        if conditional != (self.otherwise is not None):
            raise StageDeclarationError(
                f"stage {self.name!r}: a condition (when, applies) and `otherwise` go together"
            )


def execution_order(stages: Sequence[Stage], inputs: Collection[str]) -> tuple[Stage, ...]:
    """`stages` ordered so that each runs after every stage it reads; `inputs` are
    the relations that exist before any stage runs. Of the stages whose reads are
    ready, the one listed first runs first: the order is stable, and it is the
    listed order itself whenever that order respects the declarations.

    Raises :class:`StageDeclarationError` for a stage reading a relation that is
    neither an input nor a stage, for a relation declared twice, and for a cycle.
    """
    position: dict[str, int] = {}
    for stage in stages:
        if stage.name in position or stage.name in inputs:
            raise StageDeclarationError(
                f"relation {stage.name!r} is declared twice (two stages, or a stage and an input)"
            )
        position[stage.name] = len(position)
    sorter: TopologicalSorter[int] = TopologicalSorter()
    for stage in stages:
        missing = [name for name in stage.reads if name not in position and name not in inputs]
        if missing:
            raise StageDeclarationError(
                f"stage {stage.name!r} reads {', '.join(map(repr, missing))}, which no stage "
                "produces and no input provides"
            )
        sorter.add(position[stage.name], *(position[n] for n in stage.reads if n in position))
    try:
        sorter.prepare()
    except CycleError as error:
        cycle = " -> ".join(repr(stages[index].name) for index in error.args[1])
        raise StageDeclarationError(f"stages read each other in a cycle: {cycle}") from None
    order: list[Stage] = []
    ready: list[int] = []  # a heap of list positions
    while sorter.is_active():
        for index in sorter.get_ready():
            heapq.heappush(ready, index)
        index = heapq.heappop(ready)
        order.append(stages[index])
        sorter.done(index)
    return tuple(order)


def run(
    con: duckdb.DuckDBPyConnection,
    stages: Sequence[Stage],
    context: RuleContext,
    inputs: Collection[str],
) -> dict[str, int]:
    """Create every stage in `con` (a table, or a view), in their derived order.
    Returns how many rows each table holds, as DuckDB reports creating it (counting
    them again cost a small check a few percent of its time)."""
    created: dict[str, int] = {}
    for stage in execution_order(stages, inputs):
        query = stage.query
        if stage.otherwise is not None and not (
            stage.applies(context) and (stage.when is None or scalar(con, stage.when))
        ):
            query = stage.otherwise
        rows = con.execute(
            sql(
                "CREATE {kind} {name} AS {query}",
                kind="VIEW" if stage.view else "TABLE",
                name=stage.name,
                query=query,
            )
        ).fetchall()
        if not stage.view:
            ((created[stage.name],),) = rows
    return created


def scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """A one-value query's value (0 for NULL or no row; a boolean as 0 or 1), its
    result consumed to the end: DuckDB refuses to register a relation while a
    result is still open."""
    rows = con.execute(query).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0
