"""What a fresh clone installs: the demo gets the runtime only, the metadata says the
license in the current SPDX form (PEP 639) and ships the LICENSE file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _prerequisites(makefile: str, target: str) -> list[str]:
    match = re.search(rf"^{re.escape(target)}:(.*)$", makefile, re.MULTILINE)
    assert match, f"no {target} target"
    return match.group(1).split()


def _recipe(makefile: str, target: str) -> str:
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)*)", makefile, re.MULTILINE)
    assert match, f"no {target} target"
    return match.group(1)


def test_make_demo_installs_the_runtime_without_the_dev_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    seen: set[str] = set()
    todo = ["demo"]
    while todo:  # every target the demo depends on, transitively
        target = todo.pop()
        if target in seen or target == "pyproject.toml":
            continue
        seen.add(target)
        recipe = _recipe(makefile, target)
        assert "[dev]" not in recipe, f"{target} installs the dev extra"
        todo += _prerequisites(makefile, target)
    assert "$(BIN)/.installed-runtime" in seen
    assert "[dev]" in _recipe(makefile, "$(BIN)/.installed")


def test_license_metadata_is_an_spdx_expression_with_the_file_shipped() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("Apache License\nVersion 2.0, January 2004")
