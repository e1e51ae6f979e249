"""Physical line numbers when the usual ways of finding them disagree with DuckDB.

Reading real files through both sides is tested in test_both_sides.py,
test_app_reading.py and test_billing_reading.py; these are the cases no real file produced.
"""

from __future__ import annotations

from pathlib import Path

from billdrift.sources.csv.dialect import Header
from billdrift.sources.csv.lines import locate
from billdrift.sources.csv.plain import Layout


def test_line_numbers_are_marked_approximate_when_no_method_agrees(tmp_path: Path) -> None:
    # DuckDB and the line scanners never disagreed on any real input we could build;
    # simulate it with a row count that no layout explains.
    path = tmp_path / "users.csv"
    path.write_bytes(b"id,paid\n1,1\n\n2,0\n")
    header = Header(("id", "paid"), ",", 1)
    lines = locate(path, header, Layout.of(path), count=5, rejects=[])
    assert lines.approximate
    assert lines.line_of(0) == 2
