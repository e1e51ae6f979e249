"""Rules about how billdrift's code is organised, checked on every test run.

Each rule erodes one convenient edit at a time, so a reviewer cannot be the
only guard:

* no module under ``src/billdrift`` is longer than ``MAX_LINES`` lines: a longer
  one holds more than one idea;
* no import cycle among billdrift's modules, counting the imports written
  inside functions, which is where cycles hide (imports under
  ``if TYPE_CHECKING:`` never run, so they do not count);
* only the command line (``billdrift.cli``) talks to the terminal: everything
  else returns data or raises, and never imports click, prints or calls
  ``sys.exit``;
* the front-ends (the command line, the web app, the agent server, the
  listener) are peers: each may import ``usecases`` and below
  (tests/test_readme.py), never another front-end, except that a command that
  starts one (``billdrift serve``, ``mcp``, ``listen``) imports that
  front-end's entry, inside the command's body, so the others' dependencies
  are loaded only by the command that needs them.

Imports are read with :mod:`ast`, never by importing the code, so a cycle is
found even where Python would tolerate it at run time.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "billdrift"
MAX_LINES = 500

#: Modules still over MAX_LINES while others split them (issue 12), as paths under
#: src/billdrift. Temporary: the lead empties this list as those splits land. Do not
#: add to it; split the module instead.
OVER_THE_LIMIT_FOR_NOW = frozenset(
    {
        "cli/main.py",
        "cli/review.py",
        "outputs/alerts/settings.py",
    }
)

#: The one package that may import click, print and exit.
FRONT_END = "billdrift.cli"
#: The front-end packages: peers on the top layer.
FRONT_ENDS = ("cli", "web", "mcp_server", "listen")
#: What the command line may import of another front-end, and only inside a function:
#: the module that starts it and the settings it is started with.
FRONT_END_ENTRIES = frozenset({"web.server", "web.settings", "mcp_server", "listen.server"})
#: Builtins that print or end the process (``exit`` and ``quit`` are sys.exit's twins).
_LOUD_BUILTINS = frozenset({"print", "exit", "quit"})


def module_name(path: Path, root: Path) -> str:
    """``billdrift.sources.app.sqlite`` for src/billdrift/sources/app/sqlite.py."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: Path | None = None, root: Path | None = None) -> dict[str, Path]:
    """Every module of the package (billdrift unless told), by dotted name."""
    package = PACKAGE if package is None else package
    root = SRC if root is None else root
    return {
        module_name(path, root): path
        for path in sorted(package.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _known(name: str, known: Mapping[str, Path]) -> str | None:
    """The module `name` refers to: itself, or the package that defines it."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node, functions included, except the bodies of ``if TYPE_CHECKING:``."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _type_checking(node.test):
            pending.extend(node.orelse)
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def imported(name: str, tree: ast.Module, known: Mapping[str, Path]) -> set[str]:
    """The known modules `tree` (module `name`) imports when it runs, at module level or
    in a function."""
    package = name if known[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _run_time_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from a import b` imports the module a.b when there is one, else a.
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for t in targets if (target := _known(t, known)) is not None)
    found.discard(name)
    return found


def import_graph(known: Mapping[str, Path]) -> dict[str, set[str]]:
    return {
        name: imported(name, ast.parse(path.read_text(encoding="utf-8")), known)
        for name, path in known.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_shortest_cycle(graph, group) for group in groups]


def _shortest_cycle(graph: Mapping[str, set[str]], group: set[str]) -> list[str]:
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def _imports_by_depth(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import that runs, and whether it is written inside a function."""
    pending: list[tuple[ast.AST, bool]] = [(tree, False)]
    while pending:
        node, inside = pending.pop()
        if isinstance(node, ast.If) and _type_checking(node.test):
            pending.extend((child, inside) for child in node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, inside
        nested = inside or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        pending.extend((child, nested) for child in ast.iter_child_nodes(node))


def front_end_crossings(known: Mapping[str, Path], root: str = "billdrift") -> list[str]:
    """``module:line: target`` for every import from one front-end into another that
    the rule does not allow (see the module's docstring)."""

    def front_end(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 and parts[0] == root and parts[1] in FRONT_ENDS else None

    found: list[str] = []
    for name, path in known.items():
        mine = front_end(name)
        if mine is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, inside in _imports_by_depth(tree):
            for target in imported(name, ast.Module(body=[node], type_ignores=[]), known):
                theirs = front_end(target)
                if theirs is None or theirs == mine:
                    continue
                entry = target.removeprefix(root + ".") in FRONT_END_ENTRIES
                if not (mine == "cli" and entry and inside):
                    found.append(f"{name}:{node.lineno}: {target}")
    return sorted(found)


def terminal_uses(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, what) for every import of click, call of print() and use of sys.exit."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.partition(".")[0] == "click":
                    yield node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            if module.partition(".")[0] == "click":
                yield node.lineno, f"from {module} import ..."
            if module == "sys" and any(alias.name == "exit" for alias in node.names):
                yield node.lineno, "from sys import exit"
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in _LOUD_BUILTINS:
                yield node.lineno, f"{node.func.id}()"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) == ("sys", "exit")
        ):
            yield node.lineno, "sys.exit"


# --------------------------------------------------------------------------- the rules


def test_no_module_is_longer_than_the_limit() -> None:
    too_long = {}
    for path in modules().values():
        relative = path.relative_to(PACKAGE).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and relative not in OVER_THE_LIMIT_FOR_NOW:
            too_long[relative] = lines
    assert not too_long, f"modules over {MAX_LINES} lines (split each by idea): " + ", ".join(
        f"{path} ({lines})" for path, lines in sorted(too_long.items())
    )


def test_no_import_cycle_among_modules() -> None:
    found = cycles(import_graph(modules()))
    assert not found, "import cycles (move what both sides need into a module both import):\n" + (
        "\n".join(" -> ".join(cycle) for cycle in found)
    )


def test_front_ends_are_peers_that_start_each_other_only_lazily() -> None:
    crossings = front_end_crossings(modules())
    assert not crossings, (
        "a front-end imports another: move what both need into usecases (or below); "
        "the command line may import only a front-end's entry, inside the command:\n"
        + "\n".join(crossings)
    )


def test_only_the_command_line_talks_to_the_terminal() -> None:
    loud = [
        f"{path.relative_to(SRC).as_posix()}:{line}: {what}"
        for name, path in modules().items()
        if name != FRONT_END and not name.startswith(FRONT_END + ".")
        for line, what in terminal_uses(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not loud, (
        "outside billdrift.cli, return data or raise instead of printing or exiting:\n"
        + "\n".join(loud)
    )


# --------------------------------------------------------------------------- the checks


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """Each rule's check on a small package made to break it, so a rule cannot pass
    because its check went blind."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from pkg.sub import b\n",
        "sub/__init__.py": "from .c import C\n",
        "sub/b.py": "def f():\n    from .. import a\n",  # hidden in a function
        # Never runs, so no cycle; the else branch does run.
        "sub/c.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import pkg.sub\nelse:\n    import pkg.d\n"
        ),
        "d.py": "import click\nfrom sys import exit\nimport sys\nprint(1)\nsys.exit(2)\n",
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    known = modules(package, tmp_path)
    assert sorted(known) == ["pkg", "pkg.a", "pkg.d", "pkg.sub", "pkg.sub.b", "pkg.sub.c"]
    graph = import_graph(known)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.sub"] == {"pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.d"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.a"]]
    loud = [what for _, what in terminal_uses(ast.parse(files["d.py"]))]
    assert sorted(loud) == ["from sys import exit", "import click", "print()", "sys.exit"]


def test_the_front_end_check_finds_each_kind_of_crossing(tmp_path: Path) -> None:
    package = tmp_path / "billdrift"
    for folder in ("cli", "web", "listen", "usecases"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    files = {
        "cli/serve.py": (
            "from billdrift.usecases import x\n"  # below: fine
            "from billdrift.web.settings import LIMIT\n"  # an entry, but not lazily
            "def body():\n"
            "    from billdrift.web.server import serve\n"  # the allowed form
            "    from billdrift.web.app import create\n"  # lazily, but not an entry
        ),
        "web/server.py": "",
        "web/settings.py": "",
        "web/app.py": "def f():\n    from billdrift.listen import server\n",  # a peer
        "listen/server.py": "",
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    found = front_end_crossings(modules(package, tmp_path))
    assert found == [
        "billdrift.cli.serve:2: billdrift.web.settings",
        "billdrift.cli.serve:5: billdrift.web.app",
        "billdrift.web.app:2: billdrift.listen.server",
    ]
