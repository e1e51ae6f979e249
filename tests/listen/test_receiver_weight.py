"""The receiving process loads what accepting an event needs, not the check.

Each receiving process (``--receivers N``) is a fresh interpreter: importing the
checking half with it cost about 75 MB of DuckDB, Arrow and every source per
process, for code it never runs.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: What a receiving process must not load: the check's engine and its libraries.
CHECK_MODULES = ("duckdb", "pyarrow", "billdrift.core.engine", "billdrift.usecases.targeted")


def test_the_receiving_process_does_not_import_the_check() -> None:
    probe = (
        "import json, sys\n"
        "import billdrift.listen.receiver\n"
        f"print(json.dumps([m for m in {CHECK_MODULES!r} if m in sys.modules]))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(loaded) == []
