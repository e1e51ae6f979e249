"""sqlglot is loaded only when a check is pushed down: `import billdrift` and an
in-process check stay as fast as before it became a dependency."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
import billdrift
from billdrift.cli import app
from billdrift.usecases.check import check
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths
paths = demo_paths()
check(billing=str(paths.billing), app=str(paths.app), config=paths.config, as_of=DEMO_AS_OF)
print("sqlglot" in sys.modules)
from billdrift.core.dialects import postgres
postgres.compile("SELECT 1")
print("sqlglot" in sys.modules)
"""


def test_sqlglot_is_imported_only_to_compile_a_plan() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]
