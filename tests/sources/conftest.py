"""App CSV fixtures for the source tests (tests/sources/app and tests/sources/csv):
real files in tmp_path, read with a real config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from billdrift.config import AppConfig
from billdrift.core.model import AppData
from billdrift.sources.app.csv_file import CsvAppSource

WriteCsv = Callable[..., Path]
ReadCsv = Callable[..., AppData]


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    """Write `text` (str encoded as `encoding`, or raw bytes) to tmp_path/`name`."""

    def write(text: str | bytes, name: str = "users.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return write


@pytest.fixture
def read_csv(write_csv: WriteCsv) -> ReadCsv:
    """Write a CSV and read it back with CsvAppSource and the given AppConfig fields."""

    def read(text: str | bytes, name: str = "users.csv", **config: Any) -> AppData:
        path = write_csv(text, name)
        return CsvAppSource(str(path), AppConfig(**config)).read()

    return read
