"""The config file on disk: which one a command uses, how it is read, and which of
its values are paths that mean "next to this file".

One rule for every command that takes ``--config`` (issue 14): an explicit path
wins, then ``$BILLDRIFT_CONFIG``, then ``./billdrift.toml`` if the working
directory holds one (what ``billdrift init`` writes); with none of them the
defaults and the command-line options apply. A config file is written next to the
data it names, and committed with it, so a relative path inside it (``users.csv``,
``.billdrift/history.sqlite``) means relative to the file, not to wherever the
command happens to run: :func:`anchor_paths` rewrites those before validation.
Absolute paths, ``~`` paths, URLs, ``env:NAME`` and provider names are left as
written.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Final

from billdrift.errors import ConfigError

#: The file ``billdrift init`` writes and every command looks for.
DEFAULT_NAME: Final = "billdrift.toml"
#: Names a config file for every command (after ``--config``, before ``./billdrift.toml``).
ENV_VAR: Final = "BILLDRIFT_CONFIG"
#: Billing kinds that read a file named after ``KIND:`` (the others take a URL or a name);
#: tests/infra/test_config_file.py checks them against the source registry.
FILE_KINDS: Final = ("paddle-json", "stripe-csv", "stripe-json")
#: Billing inputs that are a provider's API, not a file.
API_NAMES: Final = ("stripe", "paddle")


def find_config(given: str | Path | None) -> tuple[Path | None, str]:
    """The config file a command uses, and how it was chosen (for doctor and messages):
    ``"--config"``, ``"$BILLDRIFT_CONFIG"``, ``"found in the working directory"``, or
    ``"none"`` (no file: defaults apply). A named file that is missing is the
    loader's error to report, so it is returned as named."""
    if given is not None and str(given) != "":
        return Path(given), "--config"
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return Path(from_env), f"${ENV_VAR}"
    here = Path(DEFAULT_NAME)
    if here.is_file():
        return here, "found in the working directory"
    return None, "none"


def read_toml(file: Path) -> dict[str, Any]:
    """The parsed TOML of `file`; every way it can fail is a ConfigError naming it."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {file} is not UTF-8 text") from None
    except OSError as error:  # a directory, no permission...
        raise ConfigError(f"cannot read config file {file}: {error.strerror}") from None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as error:
        why = error if isinstance(error, tomllib.TOMLDecodeError) else "nested too deeply"
        raise ConfigError(f"config file {file} is not valid TOML: {why}") from None


def _is_relative_path(value: object) -> bool:
    """A plain relative file path: not absolute, not ``~``, not a URL or ``env:NAME``."""
    return (
        isinstance(value, str)
        and value.strip() != ""
        and "://" not in value
        and not value.startswith(("env:", "sqlite:", "~"))
        and not Path(value).is_absolute()
    )


def _anchored(value: object, directory: Path) -> object:
    return str(directory / value) if isinstance(value, str) and _is_relative_path(value) else value


def _billing_source(value: object, directory: Path) -> object:
    """A billing input: a file (or ``KIND:FILE``) is anchored; APIs and URLs are not."""
    if not isinstance(value, str) or value in API_NAMES:
        return value
    kind, sep, rest = value.partition(":")
    if sep and kind in FILE_KINDS:
        return f"{kind}:{_anchored(rest, directory)}"
    return _anchored(value, directory)


def relocate(value: str, config_file: Path) -> str:
    """`value` (a source as given on the command line, relative to the working
    directory) as it must be written into `config_file` to mean the same file once
    :func:`anchor_paths` reads it back: what ``billdrift init --output conf/x.toml``
    writes."""
    directory = config_file.parent
    if directory == Path("."):
        return value
    kind, sep, rest = value.partition(":")
    if sep and kind in FILE_KINDS:
        return f"{kind}:{relocate(rest, config_file)}"
    if value in API_NAMES or not _is_relative_path(value):
        return value
    return os.path.relpath(value, directory)


def _table(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    table = data.get(key)
    return table if isinstance(table, dict) else None


def anchor_paths(data: dict[str, Any], config_file: Path) -> dict[str, Any]:
    """`data` (a parsed config, not yet validated) with its relative file paths made
    relative to `config_file`'s directory, joined as the file's own path was given
    (``conf/billdrift.toml`` + ``users.csv`` -> ``conf/users.csv``). A file in the
    working directory changes nothing. Values of the wrong type are left for
    validation to report."""
    directory = config_file.parent
    if directory == Path("."):
        return data
    app, history, output = _table(data, "app"), _table(data, "history"), _table(data, "output")
    if app is not None and "source" in app:
        app["source"] = _anchored(app["source"], directory)
    if history is not None and "location" in history:
        history["location"] = _anchored(history["location"], directory)
    if output is not None and "output" in output:
        output["output"] = _anchored(output["output"], directory)
    billing = _table(data, "billing")
    if billing is not None:
        sources = billing.get("sources")
        if isinstance(sources, list):
            billing["sources"] = [_billing_source(source, directory) for source in sources]
        stripe = _table(billing, "stripe")
        if stripe is not None and "snapshot_dir" in stripe:
            stripe["snapshot_dir"] = _anchored(stripe["snapshot_dir"], directory)
    return data
