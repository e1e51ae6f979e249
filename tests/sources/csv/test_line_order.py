"""Line numbers stay exact on files big enough for DuckDB to scan in parallel.

DuckDB 2.0 was seen to reorder a parallel CSV scan under a projection of
expressions (a million-row file, a few runs in six), which shifted every line
number. Both CSV sources now number records on the bare scan; this guards it,
on DuckDB's path (several attempts: the reordering was intermittent) and on
Arrow's path for plain files (:mod:`billdrift.sources.csv.plain`).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from billdrift.config import AppConfig, BillingConfig
from billdrift.sources.app.csv_file import CsvAppSource
from billdrift.sources.billing.stripe_csv import StripeCsvSource
from billdrift.sources.csv import scan as csv_scan
from tests.builders import as_text

ROWS = 1_000_000


def _lines_match_ids(ids: pa.ChunkedArray, refs: pa.ChunkedArray, name: str, prefix: str) -> bool:
    """Record i (id `<prefix>i`) sits on line i + 2; rows may come in any order."""
    numbers = pc.cast(pc.utf8_slice_codeunits(ids, len(prefix)), pa.int64())
    lines = pc.cast(pc.add(numbers, 2), pa.string())
    expected = pc.binary_join_element_wise(f"{name}:line ", lines, "")
    return bool(pc.all(pc.equal(refs, expected)).as_py())


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("big")
    app, billing = folder / "users.csv", folder / "subs.csv"
    with app.open("w") as out:
        out.write("id,email,stripe_customer_id,has_paid_access,plan\n")
        out.writelines(
            f"u{i},u{i}@example.com,cus_{i},{'t' if i % 3 else 'f'},pro\n" for i in range(ROWS)
        )
    with billing.open("w") as out:
        out.write("id,Customer ID,Status,Plan,Quantity,Currency,Interval,Amount\n")
        out.writelines(f"sub_{i},cus_{i},active,price_pro,1,usd,month,29.00\n" for i in range(ROWS))
    return app, billing


#: (path, attempt): DuckDB's path three times, Arrow's once.
READS = [("duckdb", 0), ("duckdb", 1), ("duckdb", 2), ("arrow", 0)]


@pytest.fixture
def reader_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    path: str = request.param[0]
    if path == "duckdb":
        monkeypatch.setattr(csv_scan, "read_plain", lambda *args, **kwargs: None)
    return path


@pytest.mark.parametrize("reader_path", READS, indirect=True)
def test_app_csv_lines_follow_the_file(big_files: tuple[Path, Path], reader_path: str) -> None:
    data = CsvAppSource(str(big_files[0]), AppConfig()).read()
    assert data.accounts.num_rows == ROWS
    accounts = as_text(data.accounts)
    assert _lines_match_ids(accounts["account_id"], accounts["source_ref"], "users.csv", "u")
    first = accounts.filter(pc.equal(accounts["account_id"], "u12345"))
    assert first["source_ref"].to_pylist() == ["users.csv:line 12347"]


@pytest.mark.parametrize("reader_path", READS, indirect=True)
def test_billing_csv_lines_follow_the_file(big_files: tuple[Path, Path], reader_path: str) -> None:
    data = StripeCsvSource(str(big_files[1]), BillingConfig()).read()
    assert data.subscriptions.num_rows == ROWS
    subs = as_text(data.subscriptions)
    assert _lines_match_ids(subs["subscription_id"], subs["source_ref"], "subs.csv", "sub_")
    first = subs.filter(pc.equal(subs["subscription_id"], "sub_12345"))
    assert first["source_ref"].to_pylist() == ["subs.csv:line 12347"]
