"""``billdrift mcp`` without the optional MCP SDK: exit 2 and the extra to install,
never a traceback; any other missing module is not mistaken for the SDK."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from billdrift.cli.app import main


def _forget(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """Unload `packages` (and their submodules) for this test, as if never imported."""
    for name in list(sys.modules):
        if any(name == package or name.startswith(package + ".") for package in packages):
            monkeypatch.delitem(sys.modules, name)


def _forget_server(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "billdrift.mcp_server")


@pytest.mark.parametrize("missing", ["mcp", "mcp_types"])
def test_without_the_sdk_it_names_the_extra_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    _forget(monkeypatch, "billdrift.mcp_server", missing)  # loaded by earlier tests
    monkeypatch.setitem(sys.modules, missing, None)  # import mcp -> ModuleNotFoundError
    result = CliRunner().invoke(main, ["mcp"])
    assert result.exit_code == 2
    assert "pip install 'billdrift[mcp]'" in result.stderr
    assert "Traceback" not in result.output


def test_another_missing_module_is_an_internal_error_not_the_sdk_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _forget_server(monkeypatch)
    monkeypatch.setitem(sys.modules, "billdrift.mcp_server.guard", None)
    result = CliRunner().invoke(main, ["mcp"])
    assert result.exit_code == 2
    assert "internal error: ModuleNotFoundError" in result.stderr
    assert "billdrift[mcp]" not in result.stderr
