"""The check that each of a rule's reported rows has a key of its own (issue 17).

A severity's findings are listed in the natural order of their rule's key alone; that
is the order the report always had only if no two rows share a key and none lacks
one. ``tests/core/test_columnar_evidence.py`` runs it on every labelled rule case.
"""

from __future__ import annotations

import pyarrow as pa

from billdrift.core.rules.base import Rule


def check_keys(rule: Rule, table: pa.Table) -> None:
    """Fail unless every row of `rule`'s reported rows `table` has its own key."""
    keys = table.column(rule.key).to_pylist()
    assert None not in keys, f"{rule.kind.value}: a row without its {rule.key}"
    assert len(set(keys)) == len(keys), f"{rule.kind.value}: a {rule.key} twice"
