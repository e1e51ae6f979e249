"""What must hold for every input, checked on the real command line.

* the exit code is 0, 1 or 2 and matches the verdict; no traceback, no "internal
  error", and no exception escapes the command;
* the JSON report parses strictly (no NaN or Infinity), matches the report schema,
  and every skipped row names its source and location;
* an input with a planted broken field is never a PASS;
* every failure message names the input at fault (its file name); an ERROR verdict
  names an input or points at the skipped rows, which do;
* no planted secret appears in any output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from click.testing import CliRunner

from billdrift.cli import app as cli

AS_OF = "2026-11-22T00:00:00Z"
SCHEMA = json.loads(
    (resources.files("billdrift") / "schema" / "report.schema.json").read_text("utf-8")
)
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
_EXIT = {"PASS": 0, "WARN": 0, "FAIL": 1, "ERROR": 2}
#: ERROR reasons that are about the inputs together, not one of them.
_ACROSS_INPUTS = ("see the skipped rows", "the billing data looks partial")
#: A secret planted in the environment of every run (an API key billdrift may read).
SECRET = "sk_test_PLANTEDsecret0123456789"


def write(path: Path, text: str) -> Path:
    """`text` as UTF-8; lone surrogates from the generators become undecodable bytes."""
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def check(
    args: Sequence[str],
    *,
    named: Sequence[str],
    broken: bool = False,
    secrets: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``billdrift check ARGS --format json`` in-process; assert every invariant.

    `named`: the file names a failure may be blamed on (the fuzzed input first).
    Returns the report."""
    environment = {"STRIPE_API_KEY": SECRET, **(env or {})}
    result = CliRunner().invoke(
        cli.main, ["check", *args, "--as-of", AS_OF, "--format", "json"], env=environment
    )
    escaped = result.exception
    assert escaped is None or isinstance(escaped, SystemExit), repr(escaped)
    return judge(result.exit_code, result.stdout, result.stderr, named, broken, [SECRET, *secrets])


def check_in_subprocess(args: Sequence[str], *, named: Sequence[str], broken: bool) -> None:
    """The same invariants through a real process (the installed entry point's code)."""
    env = {**os.environ, "STRIPE_API_KEY": SECRET}
    command = [sys.executable, "-m", "billdrift", "check", *args, "--as-of", AS_OF]
    done = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, env=env, timeout=120
    )
    judge(done.returncode, done.stdout, done.stderr, named, broken, [SECRET])


def judge(
    code: int,
    out: str,
    err: str,
    named: Sequence[str],
    broken: bool,
    secrets: Sequence[str],
) -> dict[str, Any]:
    assert code in (0, 1, 2), (code, err)
    for text in (out, err):
        assert "Traceback" not in text, err
        assert "internal error" not in text, err
        for secret in secrets:
            assert secret not in text, "a planted secret was printed"
    report: dict[str, Any] = json.loads(out, parse_constant=_refuse)
    _VALIDATOR.validate(report)
    assert _EXIT[report["verdict"]] == code, (report["verdict"], code)
    if broken:
        assert report["verdict"] != "PASS", "a planted broken field passed"
    for skip in report.get("skipped", []):
        assert skip["source"] and skip["location"], skip
    for line in err.splitlines():
        if line.startswith("billdrift: error:"):
            assert any(name in line for name in named), line
        elif line.startswith("billdrift: ERROR:"):
            assert any(name in line for name in named) or any(
                words in line for words in _ACROSS_INPUTS
            ), line
    return report


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} in the JSON report")
