"""Doctor: the config file, and the environment variables the set-up names.

A config that fails to load still lets the other checks run, on the defaults,
so one run shows every independent problem. Environment variables
(``env:NAME``) are shown by name and database URLs by dialect only; each URL
found is remembered so its password is scrubbed from every later check.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from billdrift.config import AppConfig, Config, load_config
from billdrift.errors import ConfigError
from billdrift.infra.api.keys import key_from_env
from billdrift.infra.config_file import DEFAULT_NAME, ENV_VAR, find_config
from billdrift.infra.db.urls import ENV_PREFIX, is_database_url, resolve
from billdrift.onboarding.doctor.billing import without_kind
from billdrift.onboarding.doctor.report import PROVIDER_KEYS, Collector, fail, ok, warn
from billdrift.onboarding.doctor.wording import INIT_HINT
from billdrift.onboarding.secrets import APP_URL_VARIABLE, carries_secret


def config_checks(run: Collector, given: str | None) -> Config:
    """The config file every command would use (--config, $BILLDRIFT_CONFIG, else
    ./billdrift.toml), named with how it was found, and whether it loads."""
    found, how = find_config(given)
    if found is None:
        run.add(
            ok(
                "config",
                f"no config file (no --config, ${ENV_VAR} or ./{DEFAULT_NAME}): defaults "
                "and command-line options apply",
            )
        )
        return Config()
    path = str(found)
    try:
        config = load_config(path)
    except ConfigError as error:
        message = str(error)
        if "not found" in message:
            fix = f"check the path, or create one with {INIT_HINT.split('`')[1]}"
        elif "not valid TOML" in message:
            fix = f"correct the TOML syntax in {path} at the line named"
        else:
            fix = (
                f"correct the keys named in {path} (see the configuration reference in the README)"
            )
        run.add(fail("config", message, fix))
        return Config()
    chosen = "" if how == "--config" else f" ({how})"  # say why a file nobody named is read
    run.add(ok("config", f"{path}{chosen} loads and is valid"))
    in_file = [("app.source", config.app.source)]
    in_file += [("billing.sources", source) for source in config.billing.sources]
    keys = sorted({key for key, value in in_file if value and carries_secret(value)})
    if keys:
        run.add(
            warn(
                "config secrets",
                f"{path} holds a database password ({', '.join(keys)})",
                f"keep the URL in an environment variable (export {APP_URL_VARIABLE}=...) and "
                f'write source = "{ENV_PREFIX}{APP_URL_VARIABLE}" in {path} instead',
            )
        )
    return config


def environment_checks(run: Collector, options: AppConfig, sources: Sequence[str]) -> None:
    referenced: dict[str, str] = {}
    named = [("app.source", options.source)]
    named += [("billing", without_kind(source)) for source in sources]
    for where, value in named:
        if value and value.startswith(ENV_PREFIX):
            referenced.setdefault(value[len(ENV_PREFIX) :].strip(), where)
    for name, where in referenced.items():
        check = f"env {name}"
        if not os.environ.get(name, "").strip():
            run.add(
                fail(
                    check,
                    f"environment variable {name} is not set ({where} is {ENV_PREFIX}{name})",
                    f"export {name}='postgresql://user:password@host:5432/dbname' (the "
                    f"database's URL) before running billdrift, or change {where}",
                )
            )
            continue
        try:
            url = resolve(f"{ENV_PREFIX}{name}")
        except ConfigError as error:
            run.add(
                fail(check, str(error), f"set {name} to a URL like postgresql://user:pw@host/db")
            )
            continue
        run.urls.append(url)
        run.add(ok(check, f"{name} is set (a {url.dialect} URL, used by {where})"))
    states = [f"{key} {'set' if os.environ.get(key) else 'not set'}" for key in PROVIDER_KEYS]
    for key in PROVIDER_KEYS:
        try:
            key_from_env((key,))
        except ConfigError as error:  # what `check` would refuse, said now
            run.add(fail(f"env {key}", str(error), f"export {key}=... with the key alone"))
    files = bool(sources) and all(not is_database_url(without_kind(s)) for s in sources)
    needed = " (not needed: billing is read from files)" if files else ""
    run.add(ok("provider keys", f"{', '.join(states)}{needed}"))
