"""The README's architecture map, command list and Python example cannot drift from
the code: each is checked against the package itself."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import click

from billdrift.cli.app import COMMANDS, main
from tests.test_architecture import FRONT_ENDS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "billdrift"
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: Imports that go up a layer today, each with the change that removes it.
PENDING_LAYER_EXCEPTIONS: set[tuple[str, str]] = set()


def _map() -> str:
    return README.split("<!-- architecture map")[1].split("<!-- end of architecture map")[0]


def _mapped_packages() -> list[str]:
    """Package paths the map lists, top layer first (``cli``, ``usecases/schedule``...)."""
    return [m.group(1).rstrip("/") for m in re.finditer(r"^  ([a-z_/]+/)\s", _map(), re.M)]


def _packages() -> set[str]:
    return {
        init.parent.relative_to(PACKAGE).as_posix()
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    }


def test_the_map_names_every_package_and_nothing_else() -> None:
    mapped = _mapped_packages()
    assert len(mapped) == len(set(mapped))
    assert set(mapped) == _packages(), "update the README's architecture map"
    for name in re.findall(r"^  ([\w.]+\.py)\b", _map(), re.M):
        assert (PACKAGE / name).is_file(), name


def test_at_most_a_handful_of_modules_at_the_package_root() -> None:
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py", "__main__.py", "_version.py", "errors.py"]
    assert (PACKAGE / "config" / "__init__.py").is_file()  # shared, like errors.py


def _top_level_imports() -> dict[tuple[str, str], list[str]]:
    """(importing layer, imported layer) -> where, for every billdrift import,
    module-level or inside a function."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        layer = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "billdrift" and len(parts) > 1 and parts[1] != layer:
                    found.setdefault((layer, parts[1]), []).append(f"{relative}: {name}")
    return found


def test_imports_only_go_down_the_layers() -> None:
    shared = {"config", "errors", "_version"}
    order = [name for name in _mapped_packages() if "/" not in name and name not in shared]
    assert order == [
        *FRONT_ENDS,
        "usecases",
        "onboarding",
        "outputs",
        "history",
        "sources",
        "core",
        "infra",
    ]
    # The front-ends are peers on one layer: between them, tests/test_architecture.py
    # holds the exact rule (never each other; the command line starts one lazily).
    front_ends = set(FRONT_ENDS)
    rank = {name: 0 if name in front_ends else order.index(name) for name in order}
    upward = {
        edge: where
        for edge, where in _top_level_imports().items()
        if edge[0] in order
        and edge[1] not in shared
        and not {edge[0], edge[1]} <= front_ends
        and (edge[1] not in order or rank[edge[1]] < rank[edge[0]])
    }
    assert set(upward) <= PENDING_LAYER_EXCEPTIONS, upward
    assert set(upward) >= PENDING_LAYER_EXCEPTIONS, "a pending exception was fixed: drop it"


def _command_paths(group: click.Group, prefix: str = "") -> list[str]:
    context = click.Context(group)
    paths = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        path = f"{prefix}{name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths += _command_paths(command, f"{path} ")
    return paths


def test_every_command_is_documented() -> None:
    assert set(main.list_commands(click.Context(main))) == set(COMMANDS)
    for path in _command_paths(main):
        assert re.search(rf"billdrift {re.escape(path)}\b", README), f"billdrift {path}"


def test_the_python_example_runs_and_prints_what_it_says(monkeypatch: object) -> None:
    section = README.split("## Use from Python")[1].split("\n## ")[0]
    code = section.split("```python\n")[1].split("```")[0]
    expected = [line.split("# ")[-1] for line in code.splitlines() if "print(" in line]
    printed = io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    assert printed.getvalue().splitlines() == expected


def test_the_json_sample_agrees_with_the_demo() -> None:
    """Every value the README's JSON sample shows is what the demo outputs (issue 19:
    the sample had gone stale: 14 findings and USD 318.75 where the demo gives 15 and
    349.83)."""
    import json

    from click.testing import CliRunner

    sample = README.split("## JSON report")[1].split("```json\n")[1].split("```")[0]
    result = CliRunner().invoke(main, ["demo", "--format", "json"])
    demo = json.loads(result.stdout)
    shown = demo["summary"]
    for key in ("accounts", "subscriptions", "customers", "findings", "suppressed"):
        assert f'"{key}": {shown[key]}' in sample, key
    for key in ("by_severity", "exposure", "skipped"):
        assert f'"{key}": {json.dumps(shown[key])}' in sample, key
    urgent = shown["exposure_by_kind"]["paid_but_blocked"]
    assert f'"paid_but_blocked": {json.dumps(urgent)}' in sample
    for key in ("in_sync", "paid_but_blocked"):
        assert f'"{key}": {shown["classification"][key]}' in sample
    bob = next(f for f in demo["findings"] if f["account_id"] == "2")
    assert json.dumps(bob["message"]) in sample
    assert json.dumps(bob["exposure"]) in sample
    match = bob["evidence"]["match"]
    # typed evidence (schema 2.0): numbers as numbers, lists as arrays
    assert isinstance(match["confidence"], float)
    assert f'"confidence": {json.dumps(match["confidence"])}, ' in sample
    assert f'"candidates": {json.dumps(match["candidates"])}' in sample
    assert f'"fields": {json.dumps(bob["evidence"]["app"]["fields"])}' in sample
    subscriptions = bob["evidence"]["billing"]["subscriptions"]
    assert f'"subscriptions": {json.dumps(subscriptions)}' in sample
    assert f'"schema_version": "{demo["schema_version"]}"' in sample
