"""Uploaded file names become plain names inside the audit's folder (issue 15)."""

from __future__ import annotations

import pytest

from billdrift.web.audit_uploads import display_name, shown_size


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("users.csv", "users.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\export.csv", "export.csv"),
        ("..", "unnamed"),
        (".", "unnamed"),
        ("", "unnamed"),
        ("a\x00b\nc.csv", "abc.csv"),
        ("x" * 300, "x" * 200),
    ],
)
def test_a_browser_given_name_is_a_plain_file_name(given: str, kept: str) -> None:
    assert display_name(given) == kept


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (200_000, "200.0 kB"),
        (2 * 1024**3, "2.1 GB"),
    ],
)
def test_sizes_in_decimal_units(size: int, shown: str) -> None:
    assert shown_size(size) == shown
