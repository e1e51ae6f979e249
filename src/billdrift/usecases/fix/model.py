"""What a fix plan is made of: plain data, so a person reviews it and a machine applies it.

A :class:`FixPlan` is the whole decision: the app table and dialect, one guarded
:class:`Statement` per account to change (each naming the findings it fixes, with
their evidence), and the findings billdrift will not fix in the app
(:class:`NotFixable`, each with what to do instead). It turns into the reviewable
SQL script (:mod:`billdrift.usecases.fix.script`) and back from the JSON line that
script carries, so ``fix apply`` never parses SQL a person may have edited: it
rebuilds every statement from this data and refuses a script whose text differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

#: Bumped when the plan's JSON shape changes; ``fix apply`` refuses formats it does not know.
PLAN_FORMAT: Final = 1
Dialect = Literal["postgresql", "mysql", "sqlite"]
DIALECTS: Final[tuple[Dialect, ...]] = ("postgresql", "mysql", "sqlite")
#: How a guard compares: ``exact`` the value as read; ``folded`` lower-cased and trimmed
#: (status columns, which billdrift reads that way before comparing them with policy).
GuardHow = Literal["exact", "folded"]


@dataclass(frozen=True)
class Change:
    """One column set by a statement: from what billdrift saw to what it should be."""

    column: str
    before: str | None
    after: str


@dataclass(frozen=True)
class Guard:
    """One observed value the row must still hold for the statement to change it."""

    column: str
    observed: str | None
    how: GuardHow = "exact"


@dataclass(frozen=True)
class FindingRef:
    """A finding a statement fixes (or that cannot be fixed), as shown in the script."""

    fingerprint: str
    kind: str
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    message: str
    #: The decision in force when the plan was made (acknowledged, snoozed...), if any.
    review: str | None = None


@dataclass(frozen=True)
class Statement:
    """One guarded UPDATE of one app row (every selected finding of that account)."""

    account_id: str
    key_column: str
    changes: tuple[Change, ...]
    guards: tuple[Guard, ...]
    findings: tuple[FindingRef, ...]
    #: Why these values, in words (one line per finding), shown above the statement.
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotFixable:
    """A selected finding billdrift does not fix in the app, and what to do instead."""

    finding: FindingRef
    reason: str
    instead: str


@dataclass(frozen=True)
class FixPlan:
    """A reviewable remediation of selected findings for one app table."""

    dialect: Dialect
    #: ``("users",)`` or ``("public", "users")``.
    table: tuple[str, ...]
    #: Where the findings came from (``history .billdrift/history.sqlite``, ``report r.json``).
    origin: str
    statements: tuple[Statement, ...]
    not_fixable: tuple[NotFixable, ...] = ()
    notes: tuple[str, ...] = ()
    format: int = field(default=PLAN_FORMAT)

    @property
    def empty(self) -> bool:
        return not self.statements

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the script's machine-readable line, the MCP tool's result)."""
        return asdict(self)

    def canonical_json(self) -> str:
        """One line of ASCII JSON, keys sorted: the same plan always gives the same bytes,
        and no character in it can end a SQL line comment."""
        return json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))

    @property
    def digest(self) -> str:
        """sha256 of :meth:`canonical_json`: names the plan in the history store."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FixPlan:
        """The plan :meth:`as_dict` gave (KeyError/TypeError/ValueError on anything else)."""
        if data.get("format") != PLAN_FORMAT:
            raise ValueError(f"plan format {data.get('format')!r}, expected {PLAN_FORMAT}")
        dialect = data["dialect"]
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}")
        return cls(
            dialect=dialect,
            table=tuple(str(part) for part in data["table"]),
            origin=str(data["origin"]),
            statements=tuple(_statement(item) for item in data["statements"]),
            not_fixable=tuple(
                NotFixable(FindingRef(**item["finding"]), item["reason"], item["instead"])
                for item in data["not_fixable"]
            ),
            notes=tuple(str(note) for note in data["notes"]),
        )


def _statement(data: dict[str, Any]) -> Statement:
    guards = []
    for item in data["guards"]:
        if item["how"] not in ("exact", "folded"):
            raise ValueError(f"unknown guard {item['how']!r}")
        guards.append(Guard(**item))
    return Statement(
        account_id=str(data["account_id"]),
        key_column=str(data["key_column"]),
        changes=tuple(Change(**item) for item in data["changes"]),
        guards=tuple(guards),
        findings=tuple(FindingRef(**item) for item in data["findings"]),
        reasons=tuple(str(reason) for reason in data["reasons"]),
    )
