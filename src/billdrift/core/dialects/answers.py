"""What a target sent back for a plan, as the answers the report is built from: one
class for every dialect (:mod:`.postgres` hands it a JSON document, :mod:`.spark` the
rows it collected), so the reading of money and of positional rows cannot differ
between targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from billdrift.core.plan import Plan


class PlanAnswers:
    """The rows of each of a plan's outputs, by output name (`rows`): a question's rows
    positional (sequences, or dicts in column order), a rule's rows as dicts in report
    order. Any other name in `rows` is kept in :attr:`extras`."""

    def __init__(self, rows: Mapping[str, Any], plan: Plan) -> None:
        names = {output.name for output in (*plan.questions, *plan.reported)}
        #: Further results sent back beside the plan's outputs, by name.
        self.extras: dict[str, Any] = {
            name: value for name, value in rows.items() if name not in names
        }
        self._questions = {
            output.query: [_positional(row) for row in rows[output.name]]
            for output in plan.questions
        }
        self._rows: dict[str, list[dict[str, Any]]] = {
            output.name: [_typed(row) for row in rows[output.name]] for output in plan.reported
        }

    def ask(self, query: str) -> list[tuple[object, ...]]:
        if query not in self._questions:  # pragma: no cover - a question the plan lacks
            raise KeyError(f"the plan carries no answer to {query!r}")
        return list(self._questions[query])

    def rows(self, rule: str) -> list[dict[str, Any]]:
        return self._rows[rule]


def _positional(row: Sequence[Any] | Mapping[str, Any]) -> tuple[object, ...]:
    return tuple(row.values()) if isinstance(row, Mapping) else tuple(row)


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Money as DuckDB hands it over: a double even when whole (JSON and Spark may
    give an integer)."""
    if row.get("monthly_minor") is not None:
        row["monthly_minor"] = float(row["monthly_minor"])
    return row
