"""The one way SQL text is written in the core: plain SQL with ``{name}`` holes.

Stages, rules and the engine's own queries are SQL text kept as written, so a
reader sees the query and a later step can transpile it for another database.
Where a piece is shared (an expression used twice, a relation chosen at run
time) the text has a hole, ``{name}``, and :func:`sql` fills it. Nothing else
assembles SQL: no f-strings, no ``str.format``, no doubled braces.

Only a lower-case identifier in braces is a hole, so SQL's own braces (a regular
expression's ``{2,3}``, a struct literal) need no escaping. A hole without a
value, or a value without a hole, raises at once: a misspelt name fails where
the query is built (for module constants, at import), not as a malformed query.
Text from data is quoted before it fills a hole
(:func:`billdrift.infra.duck.sql_string`, :func:`billdrift.infra.duck.quote_identifier`).
"""

from __future__ import annotations

import re

_HOLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def sql(template: str, **parts: str) -> str:
    """`template` with every ``{name}`` replaced by ``parts[name]`` (inserted as is,
    not scanned again for holes)."""
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parts:
            raise KeyError(f"SQL hole {{{name}}} has no value (given: {sorted(parts)})")
        used.add(name)
        return parts[name]

    text = _HOLE.sub(fill, template)
    if unused := sorted(parts.keys() - used):
        raise KeyError(f"SQL values {unused} fill no hole in the template")
    return text


def natural_order(column: str) -> str:
    """ORDER BY keys that order ids naturally: each run of digits by its number ("2"
    before "6" before "19", "acct_2" before "acct_10"), other text as text, then the
    id itself, so that ids naming the same number ("02", "2") still have one order.
    Integer account ids are common, and "19, 2, 6" reads as a bug."""
    return sql(
        """list_transform(regexp_extract_all({column}, '\\d+|\\D+'),
    lambda part: CASE WHEN regexp_full_match(part, '\\d+')
                      THEN lpad(CAST(length(ltrim(part, '0')) AS VARCHAR), 5, '0')
                           || ltrim(part, '0')
                      ELSE part END) NULLS LAST, {column} NULLS LAST""",
        column=column,
    )
