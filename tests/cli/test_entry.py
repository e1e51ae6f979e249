"""The entry point ends the process without interpreter teardown: what a normal
exit guarantees (exit handlers, flushed output, the status) must still hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _leave(body: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    script = "import atexit, sys, threading, time\nfrom billdrift.cli.entry import leave\n" + body
    # Buffered streams, as for any user without PYTHONUNBUFFERED: the flush is under test.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, timeout=60, check=False, env=env
    )


def test_exit_handlers_run_and_buffered_output_is_flushed(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    done = _leave(
        "atexit.register(lambda: open(sys.argv[1], 'w').write('ran'))\n"
        "sys.stdout.write('x' * 200_000)\n"
        "sys.stderr.write('tail without newline')\n"
        "leave(3)\n",
        str(marker),
    )
    assert done.returncode == 3
    assert done.stdout == b"x" * 200_000
    assert done.stderr == b"tail without newline"
    assert marker.read_text() == "ran"


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [("None", 0, b""), ("0", 0, b""), ("2", 2, b""), ("'bad config'", 1, b"bad config\n")],
)
def test_codes_mean_what_sys_exit_makes_them_mean(code: str, status: int, stderr: bytes) -> None:
    done = _leave(f"leave({code})\n")
    assert (done.returncode, done.stderr) == (status, stderr)


def test_a_thread_still_working_is_waited_for(tmp_path: Path) -> None:
    """A non-daemon thread (a delivery still in flight) gets the usual exit, which
    waits for it, rather than being cut off."""
    marker = tmp_path / "marker"
    done = _leave(
        "def work():\n"
        "    time.sleep(0.5)\n"
        "    open(sys.argv[1], 'w').write('finished')\n"
        "threading.Thread(target=work).start()\n"
        "leave(1)\n",
        str(marker),
    )
    assert done.returncode == 1
    assert marker.read_text() == "finished"


def test_output_that_cannot_be_delivered_turns_success_into_failure() -> None:
    """As with Python's own exit: a final flush that fails is not a success."""
    done = _leave("import os\nsys.stdout.write('x' * 10)\nos.close(1)\nleave(0)\n")
    assert done.returncode == 120


def _after_main(name: str, user_setting: str | None, shown: str) -> str:
    """Run ``billdrift demo`` through the entry point with environment variable `name`
    unset or set to `user_setting`; the last line printed by an exit handler that
    evaluates `shown` (an expression) after the command ran. (A command that runs:
    ``--help`` loads none of pyarrow and pydantic, see test_light_start.py.)"""
    script = (
        "import atexit, os, sys\n"
        "from billdrift.cli import entry\n"
        f"atexit.register(lambda: print({shown}))\n"
        "sys.argv = ['billdrift', 'demo', '--format', 'json', '--output', os.devnull]\n"
        "entry.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != name}
    if user_setting is not None:
        env[name] = user_setting
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize("user_setting", [None, "logfire"])
def test_plugin_discovery_is_skipped_and_the_environment_restored(
    user_setting: str | None,
) -> None:
    """The config models are built without pydantic's entry-point scan; whatever the
    user had in PYDANTIC_DISABLE_PLUGINS is what the rest of the process sees."""
    shown = (
        "repr(os.environ.get('PYDANTIC_DISABLE_PLUGINS')), "
        "__import__('pydantic.plugin._loader', fromlist=['_plugins'])._plugins is None"
    )
    last = _after_main("PYDANTIC_DISABLE_PLUGINS", user_setting, shown)
    assert last == f"{user_setting!r} True"


@pytest.mark.parametrize(
    ("name", "default"), [("MIMALLOC_PURGE_DELAY", "'200'"), ("MIMALLOC_ALLOW_THP", "'0'")]
)
@pytest.mark.parametrize(("user_setting", "seen"), [(None, None), ("25", "'25'")])
def test_arrow_allocator_settings_unless_the_user_says_otherwise(
    name: str, default: str, user_setting: str | None, seen: str | None
) -> None:
    """The entry point sets mimalloc's options before pyarrow loads (the benchmark
    shows the effect on memory and time); a user's own value wins."""
    shown = f"repr(os.environ.get({name!r})), 'pyarrow' in sys.modules"
    assert _after_main(name, user_setting, shown) == f"{seen or default} True"


def test_ctrl_c_ends_a_check_at_once_even_with_a_reader_blocked_on_a_slow_peer(
    tmp_path: Path,
) -> None:
    """Exit 130 with "interrupted", promptly: a reader thread stuck on a provider that
    trickles its answer used to keep the process alive for minutes (issue 19)."""
    import signal
    import time

    from tests.fakes.trickle import TrickleServer

    app = tmp_path / "app.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,f\n", "utf-8")
    config = tmp_path / "billdrift.toml"
    with TrickleServer(limit=60) as server:
        config.write_text(
            f'[billing.stripe]\napi_base = "{server.url()}"\ntimeout_seconds = 50\n'
            f'snapshot_dir = "{tmp_path / "cache"}"\n',
            "utf-8",
        )
        command = [
            str(Path(sys.executable).parent / "billdrift"),
            "check",
            "--billing",
            "stripe",
            "--app",
            str(app),
            "--config",
            str(config),
        ]
        env = {**os.environ, "STRIPE_API_KEY": "sk_test_51InterruptInterrupt"}
        # A terminal's Ctrl-C: the child starts with SIGINT's default action even when
        # this test runs in a background job, whose shell makes children ignore SIGINT.
        running = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 30
        while server.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the reader is now waiting on the trickle
        assert server.connections > 0
        interrupted = time.monotonic()
        running.send_signal(signal.SIGINT)
        _, err = running.communicate(timeout=30)
        took = time.monotonic() - interrupted
    assert running.returncode == 130
    assert b"billdrift: interrupted" in err
    # Uncut, the reader would wait out its own 50 s deadline: 15 s is prompt even on a
    # loaded machine, and still fails if the interrupt waited for the reader.
    assert took < 15, f"{took:.1f} s after the signal"


def test_a_checks_result_is_held_until_the_process_ends_and_only_the_latest(
    tmp_path: Path,
) -> None:
    """Freeing a large report object by object when the command returns cost about
    0.05 s of CPU at 1M accounts; the process ends without teardown, so it is held
    instead, and a second run (``watch``) frees the first one's."""
    import gc
    import weakref

    from click.testing import CliRunner

    from billdrift.cli import app as cli
    from billdrift.infra import runtime
    from billdrift.usecases.demo import DEMO_AS_OF, demo_paths

    paths = demo_paths()
    args = ["check", "--billing", str(paths.billing), "--app", str(paths.app)]
    args += ["--config", str(paths.config), "--as-of", DEMO_AS_OF.isoformat(), "--format", "json"]

    def run(name: str) -> weakref.ref[object]:
        result = CliRunner().invoke(cli.main, [*args, "--output", str(tmp_path / name)])
        assert result.exit_code == 1, result.output  # the sample has drift
        (kept,) = runtime._KEPT
        assert kept.report.findings  # type: ignore[attr-defined]
        return weakref.ref(kept.report)  # type: ignore[attr-defined]

    first = run("first.json")
    gc.collect()
    assert first() is not None  # held after the command returned
    second = run("second.json")
    gc.collect()
    assert first() is None and second() is not None  # only the latest is held
