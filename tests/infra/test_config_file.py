"""Which config file a command uses, and which values in it are paths next to it
(issue 14: ``check`` ignored the ``./billdrift.toml`` that ``init`` wrote, and
paths inside a config resolved against the working directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.config import load_config
from billdrift.errors import ConfigError
from billdrift.infra.config_file import (
    API_NAMES,
    FILE_KINDS,
    anchor_paths,
    find_config,
    read_toml,
    relocate,
)
from billdrift.sources.registry import billing_kinds


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, no $BILLDRIFT_CONFIG."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    return work


def test_an_explicit_path_wins_then_the_variable_then_the_working_directory(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_config(None) == (None, "none")
    (elsewhere / "billdrift.toml").write_text("")
    assert find_config(None) == (Path("billdrift.toml"), "found in the working directory")
    monkeypatch.setenv("BILLDRIFT_CONFIG", "ops/b.toml")
    assert find_config(None) == (Path("ops/b.toml"), "$BILLDRIFT_CONFIG")
    assert find_config("given.toml") == (Path("given.toml"), "--config")


def test_a_directory_named_billdrift_toml_is_not_a_config(elsewhere: Path) -> None:
    (elsewhere / "billdrift.toml").mkdir()
    assert find_config(None) == (None, "none")
    with pytest.raises(ConfigError, match=r"cannot read config file billdrift\.toml"):
        read_toml(Path("billdrift.toml"))


def test_relative_paths_mean_next_to_the_config_file() -> None:
    data = {
        "app": {"source": "users.csv"},
        "billing": {
            "sources": ["subs.json", "stripe-csv:export.csv", "stripe", "paddle"],
            "stripe": {"snapshot_dir": ".cache"},
        },
        "history": {"location": ".billdrift/history.sqlite"},
        "output": {"output": "out/report.json"},
    }
    anchored = anchor_paths(data, Path("conf/billdrift.toml"))
    assert anchored == {
        "app": {"source": "conf/users.csv"},
        "billing": {
            "sources": ["conf/subs.json", "stripe-csv:conf/export.csv", "stripe", "paddle"],
            "stripe": {"snapshot_dir": "conf/.cache"},
        },
        "history": {"location": "conf/.billdrift/history.sqlite"},
        "output": {"output": "conf/out/report.json"},
    }


@pytest.mark.parametrize(
    "value",
    [
        "/data/users.csv",
        "~/users.csv",
        "env:DATABASE_URL",
        "postgresql://ro@db/app",
        "sqlite:///app.db",
        "stripe-mirror:postgresql://ro@db/app",
        "",
        42,
    ],
)
def test_absolute_paths_urls_and_names_are_left_as_written(value: object) -> None:
    data = {
        "app": {"source": value},
        "billing": {"sources": [value]},
        "history": {"location": value},
    }
    expected = {
        "app": {"source": value},
        "billing": {"sources": [value]},
        "history": {"location": value},
    }
    assert anchor_paths(data, Path("/etc/billdrift/billdrift.toml")) == expected


def test_a_config_in_the_working_directory_changes_nothing() -> None:
    data = {"app": {"source": "./users.csv"}, "billing": {"sources": ["a/b.json"]}}
    assert anchor_paths(data, Path("billdrift.toml")) == {
        "app": {"source": "./users.csv"},
        "billing": {"sources": ["a/b.json"]},
    }


def test_load_config_anchors_and_a_wrong_type_is_still_reported(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "billdrift.toml"
    config.parent.mkdir()
    config.write_text('[app]\nsource = "users.csv"\n[billing]\nsources = ["s.json"]\n')
    loaded = load_config(config)
    assert loaded.app.source == str(tmp_path / "conf" / "users.csv")
    assert loaded.billing.sources == (str(tmp_path / "conf" / "s.json"),)
    config.write_text("[history]\nlocation = 3\n")
    with pytest.raises(ConfigError, match=r"history\.location"):
        load_config(config)


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("users.csv", "../users.csv"),
        ("conf/users.csv", "users.csv"),
        ("stripe-json:subs.json", "stripe-json:../subs.json"),
    ],
)
def test_relocate_writes_what_anchoring_reads_back_as_the_same_file(
    given: str, written: str
) -> None:
    """What ``init --output conf/billdrift.toml`` writes names the file it was given."""
    config = Path("conf/billdrift.toml")
    assert relocate(given, config) == written
    read_back = anchor_paths({"billing": {"sources": [written]}}, config)["billing"]["sources"]
    kind, _, _ = given.rpartition(":")
    assert read_back[0].startswith(f"{kind}:" if kind else "")
    assert (
        Path(read_back[0].removeprefix(f"{kind}:")).resolve()
        == Path(given.removeprefix(f"{kind}:")).resolve()
    )


@pytest.mark.parametrize("given", ["stripe", "env:DATABASE_URL", "/abs/users.csv", "~/u.csv"])
def test_relocate_leaves_names_urls_and_absolute_paths(given: str) -> None:
    assert relocate(given, Path("conf/billdrift.toml")) == given


def test_the_file_kinds_are_the_registry_s_kinds_that_read_a_file() -> None:
    """A new file format registered without being listed here would not be anchored."""
    reads_a_file = set(billing_kinds()) - set(API_NAMES) - {"stripe-mirror"}
    assert set(FILE_KINDS) == reads_a_file
