"""The Stripe snapshot cache holds customer emails: it is kept like the history store,
directories 0700 and files 0600, tightened when found wider, refused when another
user's (a full fetch, nothing read or written there, and a note saying why)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.stripe_fake import FakeStripe
from tests.sources.billing.test_stripe_api import NOW, read

pytest_plugins = ["tests.fakes.fixtures"]


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common umask (022), under which plain mkdir and open give 0755 and 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(tmp_path: Path) -> Path:
    (folder,) = (tmp_path / "snapshots").glob("stripe-*")
    return folder


def assert_private(tmp_path: Path) -> None:
    folder = snapshot(tmp_path)
    assert mode(tmp_path / "snapshots") == 0o700
    assert mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["items.parquet", "meta.json", "subscriptions.parquet"]
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


def test_a_new_snapshot_is_readable_by_its_owner_only(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(20, seed=2, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    assert_private(tmp_path)
    assert [p.name for p in (tmp_path / "snapshots").iterdir()] == [snapshot(tmp_path).name]


def test_missing_parents_of_the_cache_are_created_private(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(5, seed=2, now=NOW)
    tmp_path.chmod(0o755)
    cache = tmp_path / "home" / ".cache" / "billdrift"
    read(fake_stripe, tmp_path, monkeypatch, snapshot_dir=str(cache))
    for directory in (tmp_path / "home", tmp_path / "home" / ".cache", cache):
        assert mode(directory) == 0o700, directory
    assert mode(tmp_path) == 0o755  # what existed is not billdrift's to change


def test_a_snapshot_open_to_others_is_tightened_and_still_used(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an earlier billdrift left it: 0755 directories, 0644 files."""
    fake_stripe.populate(20, seed=2, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    folder = snapshot(tmp_path)
    for path in (tmp_path / "snapshots", folder):
        path.chmod(0o755)
    for file in folder.iterdir():
        file.chmod(0o644)
    again = read(fake_stripe, tmp_path, monkeypatch)
    assert "incremental" in again.description
    assert_private(tmp_path)


def test_a_cache_of_another_user_is_neither_read_nor_written(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(20, seed=2, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    meta = snapshot(tmp_path) / "meta.json"
    written = meta.read_bytes()
    someone_else = os.getuid() + 1
    monkeypatch.setattr(os, "getuid", lambda: someone_else)  # everything now looks foreign
    again = read(fake_stripe, tmp_path, monkeypatch)
    assert "full fetch" in again.description and len(again.subscriptions) == 20
    (note,) = [n for n in again.notes if "no snapshot kept" in n]
    assert "belongs to another user" in note and "billing.stripe.snapshot_dir" in note
    assert meta.read_bytes() == written  # not rewritten either


def test_a_link_among_the_snapshot_files_is_refused(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(5, seed=2, now=NOW)
    read(fake_stripe, tmp_path, monkeypatch)
    items = snapshot(tmp_path) / "items.parquet"
    elsewhere = tmp_path / "elsewhere.parquet"
    items.rename(elsewhere)
    items.symlink_to(elsewhere)
    again = read(fake_stripe, tmp_path, monkeypatch)
    assert "full fetch" in again.description
    assert any("symbolic link" in note for note in again.notes)
