"""`--output` and every file billdrift writes: a regular file is replaced atomically;
anything else the name points at is written through or refused, never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.infra.files import NotWritable, write_file
from billdrift.usecases.demo import demo_paths


def _check_to(output: Path) -> int:
    paths = demo_paths()
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(paths.billing),
            "--app",
            str(paths.app),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
            "--output",
            str(output),
        ],
    )
    return result.exit_code


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root (CI runs as root)")
def test_a_device_node_is_written_to_not_replaced(tmp_path: Path) -> None:
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a copy of /dev/null
    assert _check_to(null) == 1
    assert stat.S_ISCHR(null.stat().st_mode), "the device node was replaced by a file"
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_a_fifo_is_written_to_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "reports.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_file(fifo, b'{"verdict": "PASS"}\n')
    reader.join(10)
    assert received == [b'{"verdict": "PASS"}\n']
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_stays_and_its_target_gets_the_report(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_file(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_new_file_honours_the_umask_and_a_replaced_file_keeps_its_mode(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o022)
    try:
        write_file(tmp_path / "new.json", b"x")
        existing = tmp_path / "shared.json"
        existing.write_bytes(b"old")
        existing.chmod(0o640)
        write_file(existing, b"new")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    assert existing.read_bytes() == b"new"


def test_a_directory_is_refused_and_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(NotWritable):
        write_file(tmp_path, b"x")
    target = tmp_path / "report.json"
    target.write_bytes(b"previous")
    with pytest.raises(TypeError):
        write_file(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
