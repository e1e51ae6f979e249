"""Runs the `run:` steps of the repository's action.yml as GitHub Actions would, with a
simulated GitHub environment: GITHUB_OUTPUT (one file per step, read back as the
step's outputs), GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_WORKSPACE, GITHUB_ACTION_PATH,
RUNNER_TEMP and the rest pointing at temporary files.

Expressions are evaluated for the forms action.yml uses and no others (an unknown form
fails the test, so the action cannot drift out of what is tested): ``inputs.X``,
``github.X``, ``steps.ID.outputs.NAME``, ``'literal'``, ``==``, ``!=``, ``&&`` and
``always()``. A step's ``if:`` without ``always()`` runs only while every step so far
succeeded, as on GitHub.

``uses:`` steps are skipped, since they call GitHub's own services, which do not exist
here: actions/setup-python (the test's Python is already on PATH),
actions/cache/restore and actions/cache/save (so every run looks like one whose cache
was evicted, and the action's artifact fallback, served by a local fake API, is what
restores the state), actions/upload-artifact (the tests read the report directory and
zip the state directory themselves).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
ACTION = ROOT / "action.yml"
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text("utf-8"))
    return action


@dataclass
class ActionRun:
    """One run of the action: each step's outcome and outputs, the summary, the exit."""

    outcomes: dict[str, str] = field(default_factory=dict)  # step name -> success|failure|skipped
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # the action's own outputs
    summary: str = ""
    logs: dict[str, str] = field(default_factory=dict)
    exit_code: int = 0  # of the last step that failed, else 0


def _parse_outputs(text: str) -> dict[str, str]:
    outputs = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        assert sep and "<<" not in name, f"unsupported output line: {line!r}"
        outputs[name] = value
    return outputs


class _Context:
    def __init__(self, inputs: dict[str, str], github: dict[str, str]) -> None:
        self.inputs = inputs
        self.github = github
        self.steps: dict[str, dict[str, str]] = {}

    def value(self, expression: str) -> Any:
        expression = expression.strip()
        if "&&" in expression:
            return all(self.value(part) for part in expression.split("&&"))
        for operator in ("==", "!="):
            if operator in expression:
                left, right = (self.value(part) for part in expression.split(operator))
                return (str(left) == str(right)) == (operator == "==")
        if expression == "always()":
            return True
        if expression.startswith("'") and expression.endswith("'"):
            return expression[1:-1].replace("''", "'")
        parts = expression.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return self.inputs[parts[1]]
        if parts[0] == "github" and len(parts) == 2:
            return self.github[parts[1]]
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"expression form not simulated: {expression!r}")

    def text(self, template: str) -> str:
        return _EXPRESSION.sub(lambda match: str(self.value(match.group(1))), str(template))


def run_action(
    workspace: Path,
    runner_temp: Path,
    with_inputs: dict[str, str],
    env: dict[str, str],
    github: dict[str, str] | None = None,
) -> ActionRun:
    """Run action.yml's steps in `workspace`; `env` is the job's environment (PATH,
    secrets, GITHUB_* of the run), `with_inputs` the caller's `with:`."""
    action = load_action()
    github = {
        "action_path": str(ROOT),
        "workspace": str(workspace),
        "token": env.get("FAKE_GITHUB_TOKEN", ""),
        "ref_name": env.get("GITHUB_REF_NAME", "main"),
        "base_ref": env.get("GITHUB_BASE_REF", ""),
        "run_id": env.get("GITHUB_RUN_ID", "1"),
        "run_attempt": "1",
        **(github or {}),
    }
    context = _Context({}, github)
    for name, spec in action["inputs"].items():
        given = with_inputs.get(name)
        context.inputs[name] = given if given is not None else context.text(spec.get("default", ""))
    unknown = set(with_inputs) - set(action["inputs"])
    assert not unknown, f"no such inputs: {unknown}"
    summary = runner_temp / "step_summary.md"
    summary.write_text("")
    base = {
        **env,
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ENV": str(runner_temp / "github_env"),
        "GITHUB_PATH": str(runner_temp / "github_path"),
    }
    run = ActionRun()
    ok = True
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {index}")
        condition = str(step.get("if", "")).strip()
        if condition.startswith("${{"):
            condition = _EXPRESSION.sub(lambda m: m.group(1), condition)
        wanted = (not condition or bool(context.value(condition))) and (
            ok or "always()" in condition
        )
        if "uses" in step or not wanted:
            run.outcomes[name] = "skipped"
            continue
        assert step["shell"] == "bash"
        output_file = runner_temp / f"output_{index}"
        output_file.write_text("")
        step_env = {key: context.text(value) for key, value in (step.get("env") or {}).items()}
        script = runner_temp / f"step_{index}.sh"
        script.write_text(context.text(step["run"]))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env={**base, **step_env, "GITHUB_OUTPUT": str(output_file)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        run.logs[name] = done.stdout + done.stderr
        outputs = _parse_outputs(output_file.read_text("utf-8"))
        run.step_outputs[name] = outputs
        if "id" in step:
            context.steps[step["id"]] = outputs
        run.outcomes[name] = "success" if done.returncode == 0 else "failure"
        if done.returncode != 0:
            ok = False
            run.exit_code = done.returncode
    run.summary = summary.read_text("utf-8")
    run.outputs = {name: context.text(spec["value"]) for name, spec in action["outputs"].items()}
    return run
