"""A person's choice of columns, the config file that states it, and the settings a run uses.

The mapping a person confirms on the audit page is written out the way
``billdrift init`` writes one (onboarding's TOML writer, every column explicit),
so "save as config" hands over a file that ``billdrift check`` reads exactly as
the page did. The run itself uses the same explicit settings
(:func:`audit_config`), and the test suite holds the two to each other.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from billdrift.config import AppColumns, AppConfig, Config, parse_config
from billdrift.errors import ConfigError
from billdrift.onboarding.init import missing_roles
from billdrift.onboarding.secrets import BILLING_URL_VARIABLE, source_setting
from billdrift.onboarding.toml_text import BillingInput, Draft, render_config
from billdrift.sources.app.columns import ROLES, ColumnMapping, detect_columns
from billdrift.usecases.audit.recognize import AppFile, Recognition, problems_of


@dataclass(frozen=True)
class MappingChoice:
    """Which column plays which role, as a person chose it (None: no column)."""

    roles: Mapping[str, str | None]
    access_fields: tuple[str, ...] = ()
    status_fields: tuple[str, ...] = ()
    #: None: the first access field, else the first status field.
    primary_access_field: str | None = None

    @classmethod
    def of(cls, mapping: ColumnMapping) -> MappingChoice:
        """The choice that keeps a detected mapping as it is."""
        return cls(
            {role: mapping.role_column(role) or None for role in ROLES},
            mapping.access_fields,
            mapping.status_fields,
            mapping.primary_access_field or None,
        )

    def app_options(self, source: str | None = None, table: str | None = None) -> AppConfig:
        """``[app]`` settings stating every choice (nothing left to detection)."""
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ConfigError(f"unknown column role {sorted(unknown)[0]!r}")
        primary = self.primary_access_field or next(
            iter((*self.access_fields, *self.status_fields)), None
        )
        return AppConfig(
            source=source,
            table=table or None,
            columns=AppColumns(**{role: column or None for role, column in self.roles.items()}),
            access_fields=self.access_fields,
            status_fields=self.status_fields,
            primary_access_field=primary,
        )


def choose(recognition: Recognition, choice: MappingChoice) -> Recognition:
    """`recognition` with the app mapping `choice` makes, checked as ``check`` will check it.

    Raises ConfigError (naming the column or role) when the choice cannot be read:
    a column that is not in the file, one column both a flag and a status, no
    account id, no access column.
    """
    app = recognition.app
    if app.error is not None or app.mapping is None:
        raise ConfigError(f"{app.name} was not recognized, so its columns cannot be chosen")
    if not choice.roles.get("account_id"):
        raise ConfigError("choose the column that identifies an account (account_id)")
    if not choice.access_fields and not choice.status_fields:
        raise ConfigError(
            "choose at least one access column: a yes/no flag or a subscription status"
        )
    mapping = detect_columns(app.column_names, choice.app_options(), app.name)
    chosen = replace(app, mapping=mapping)
    return replace(recognition, app=chosen, problems=problems_of(recognition.billing, chosen))


def audit_config(recognition: Recognition, base: Config | None = None) -> Config:
    """The settings a run of this audit uses: `base` (policy, plans, exceptions from a
    config file, or the defaults) with the files and the confirmed mapping.

    The app settings are the ``[app]`` table :func:`config_text` writes (for the
    uploaded file's own path), read back: one definition of what states a mapping,
    so the run and the saved config cannot drift apart. Every key that table states
    replaces the base's, and so do ``table`` and ``query`` (the uploaded file has
    neither when the table does not say one: a base's own would read something
    else); the base's other app settings (encoding...) are kept.
    """
    if not recognition.ready:
        raise ConfigError("the audit cannot run yet: " + "; ".join(recognition.problems))
    settings = base or Config()
    _, written = _drafted(recognition, str(recognition.app.path), ())
    keys = written.app.model_fields_set | {"table", "query"}
    stated = {key: getattr(written.app, key) for key in keys}
    return settings.model_copy(
        update={
            "app": settings.app.model_copy(update=stated),
            "billing": settings.billing.model_copy(
                update={"sources": tuple(str(file.path) for file in recognition.billing)}
            ),
        }
    )


def config_text(
    recognition: Recognition, app_name: str | None = None, billing_names: Sequence[str] = ()
) -> str:
    """The TOML file for this audit, as ``billdrift init`` writes one.

    Paths are written as the files' own names (`app_name`, `billing_names`, default
    the names shown), for a file kept next to the exports: the uploaded copies are
    temporary. The text is read back before it is returned and must map the
    columns exactly as the page showed them.
    """
    if not recognition.ready:
        raise ConfigError("no config yet: " + "; ".join(recognition.problems))
    text, _ = _drafted(recognition, app_name, billing_names)
    return text


def _drafted(
    recognition: Recognition, app_name: str | None, billing_names: Sequence[str]
) -> tuple[str, Config]:
    """The config text for this audit and the settings it reads back as (checked to map
    the columns as the page showed them)."""
    app = recognition.app
    mapping = _complete(app)
    names = list(billing_names) or [file.name for file in recognition.billing]
    billing = tuple(
        BillingInput(source_setting(name, BILLING_URL_VARIABLE), file.kind)
        for name, file in zip(names, recognition.billing, strict=True)
    )
    draft = Draft(
        origin=f"{app.name} (on the audit page of `billdrift serve`)",
        app=source_setting(app_name or app.name),
        table=app.table,
        mapping=mapping,
        billing=billing,
        missing=missing_roles(mapping),
    )
    text = render_config(draft)
    written = parse_config(tomllib.loads(text), "the drafted config")
    again = detect_columns(app.column_names, written.app, app.name)
    if replace(again, auto_detected=()) != replace(mapping, auto_detected=()):
        raise RuntimeError(
            f"the audit page drafted a config that reads {app.name} differently "
            f"({again.describe()} instead of {mapping.describe()}); please report this"
        )
    return text, written


def _complete(app: AppFile) -> ColumnMapping:
    if app.mapping is None or not app.mapping.account_id or not app.mapping.primary_access_field:
        raise ConfigError(f"{app.name}: the column mapping is not complete")
    return app.mapping
