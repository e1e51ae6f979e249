"""The config file ``billdrift init`` writes: every detected setting spelled out.

Nothing is left to detection at ``check`` time: the table, every column role,
the access and status fields and the primary field are written explicitly, so
the file documents how the data is read and a new column in the table cannot
silently change it. What was *not* found is written as a comment saying what
that means. Optional sections ([policy], [plans], [[exceptions]]) follow as
commented-out examples whose keys and defaults come from
:mod:`billdrift.config` itself, so they cannot drift from what it accepts.

The file is a tomlkit document: the settings are TOML items (tomlkit quotes and
escapes every value, a column named ``User "ID"`` included) with comments
beside or above them, and the examples are comment lines whose values tomlkit
writes the same way.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import tomlkit
from tomlkit.items import Item, Table

from billdrift.config import DEFAULT_STATUSES, Policy
from billdrift.onboarding.accounts import Candidate
from billdrift.onboarding.plans import PlanProposal
from billdrift.onboarding.secrets import SourceSetting
from billdrift.sources.app.columns import ROLES, ColumnMapping

#: Trailing comments start at this column when the line is short enough.
_COMMENT_COLUMN: Final = 40
#: A line with its trailing comment may be this wide; a longer comment goes above.
_MAX_WIDTH: Final = 88

#: One line of help per [policy] key (keys missing here are written without help).
POLICY_HELP: Final = {
    "grace_days": "days past_due keeps access",
    "app_granting_statuses": "app status values that grant access",
    "free_plans": "app plans that need no subscription",
    "internal_email_patterns": 'never billed, e.g. ["*@yourco.com"]',
    "internal_roles": "app roles that are never billed",
    "team_billing": "accounts may share one customer",
    "partial_min_links": "partial-data guard: with this many links,",
    "partial_max_missing_ratio": "over this share unknown = ERROR",
    "max_skipped_ratio": "over this share unreadable = ERROR",
}


@dataclass(frozen=True)
class BillingInput:
    """One --billing input as it will be written."""

    setting: SourceSetting
    #: The format the registry recognized ("stripe-json"), or "" when not checked.
    kind: str = ""


@dataclass(frozen=True)
class Draft:
    """Everything the config file states."""

    #: Where the data was found, for the header comment (redacted).
    origin: str
    app: SourceSetting
    #: ``app.table``; empty for a CSV file.
    table: str
    mapping: ColumnMapping
    #: Other tables that fit, best first (listed in a comment).
    others: tuple[Candidate, ...] = ()
    billing: tuple[BillingInput, ...] = ()
    #: (role, what its absence means) for every role with no column.
    missing: tuple[tuple[str, str], ...] = ()
    #: The [plans] map proposed from the data; None writes the commented example.
    plans: PlanProposal | None = None


def _item(value: object) -> Item:
    """A tomlkit item for a plain value (tuples, as config defaults hold them, are arrays)."""
    return tomlkit.item(list(value) if isinstance(value, tuple) else value)


def toml_value(value: object) -> str:
    """`value` as TOML writes it inline (a string quoted and escaped, a list in brackets)."""
    return _item(value).as_string()


def _gap(line: str, comment: str) -> str | None:
    """The spaces between `line` and its trailing ``# comment`` (which starts at
    _COMMENT_COLUMN when the line is short enough); None when the line would be too wide."""
    gap = " " * (max(_COMMENT_COLUMN - 1 - len(line), 0) + 1)
    return gap if len(line) + len(gap) + 2 + len(comment) <= _MAX_WIDTH else None


def _with_comment(line: str, comment: str) -> list[str]:
    """`line` with `comment` after it, aligned; or above it when that would be too wide."""
    if not comment:
        return [line]
    gap = _gap(line, comment)
    return [f"# {comment}:", line] if gap is None else [f"{line}{gap}# {comment}"]


def _comments(container: Table | tomlkit.TOMLDocument, lines: Sequence[str]) -> None:
    """Add `lines` (each starting with "#", or empty) as comment lines."""
    for line in lines:
        if not line:
            container.add(tomlkit.nl())
        else:
            container.add(tomlkit.comment(line.removeprefix("#").removeprefix(" ")))


def _setting(table: Table, key: str, value: object, comment: str = "") -> None:
    """``key = value`` with `comment` after it, aligned; or above it when too wide."""
    item = _item(value)
    if comment:
        gap = _gap(f"{key} = {item.as_string()}", comment)
        if gap is None:
            table.add(tomlkit.comment(f"{comment}:"))
        else:
            item.comment(comment)
            item.trivia.comment_ws = gap
    table.add(key, item)


def render_config(draft: Draft) -> str:
    """The whole file."""
    document = tomlkit.document()
    _comments(
        document,
        [
            "# billdrift configuration, written by `billdrift init` from",
            *(f"#   {line}" for line in draft.origin.split("\n")),
            "# Every detected setting is written out below; correct anything that is wrong.",
            "# Check the set-up:  billdrift doctor --config <this file>",
            "# Then run:          billdrift check --config <this file>",
            "",
        ],
    )
    app = _app_table(draft)
    app.add(tomlkit.nl())
    app.add("columns", _columns_table(draft.mapping, draft.missing))
    document.add("app", app)
    document.add("billing", _billing_table(draft.billing))
    _comments(document, ["", *policy_example(), ""])
    if draft.plans is not None and draft.plans.entries:
        document.add("plans", _plans_table(draft.plans))
        _comments(document, [""])
    else:
        _comments(document, [*plans_example(), ""])
    _comments(document, exceptions_example())
    return tomlkit.dumps(document)


def _plans_table(proposal: PlanProposal) -> Table:
    """[plans] as proposed: sure matches active, the others commented out with why."""
    table = tomlkit.table()
    _comments(
        table,
        [
            "# Plans, proposed from the billing plan names and the app's plan values: a",
            "# billing lookup key or plan name on the left, the app's plan on the right.",
            "# Active lines match by name; commented ones need a person (uncomment to use).",
        ],
    )
    for entry in proposal.entries:
        key = tomlkit.key(entry.key).as_string()
        if entry.sure:
            _setting(table, entry.key, entry.plan, entry.why)
        else:
            line = f"# {key} = {toml_value(entry.plan or '?')}"
            _comments(table, _with_comment(line, entry.why))
    if proposal.omitted:
        _comments(table, [f"# ... and {proposal.omitted} more billing names not listed"])
    if proposal.unmapped:
        listed = ", ".join(toml_value(plan) for plan in proposal.unmapped)
        _comments(table, [f"# App plans no billing name maps to yet: {listed}"])
    return table


def _app_table(draft: Draft) -> Table:
    mapping = draft.mapping
    app = tomlkit.table()
    if draft.app.value is not None:
        _setting(app, "source", draft.app.value)
    else:
        variable = draft.app.variable or "DATABASE_URL"
        _comments(
            app,
            [
                "# The URL given to `billdrift init` carries a password, so it is not written",
                "# here. Keep the URL in an environment variable and name the variable:",
                "#   (with the real password in place of ***):",
                f"#   export {variable}='{draft.app.shown}'",
                "# then uncomment the next line (or pass --app env:" + variable + "):",
                f"# source = {toml_value('env:' + variable)}",
            ],
        )
    if draft.table:
        _setting(app, "table", draft.table)
    if draft.others:
        _comments(
            app,
            [
                "# Other tables that also look like accounts (switch `table` to use one):",
                *(
                    f"#   {toml_value(other.name)}: {other.mapping.describe()}"
                    for other in draft.others
                ),
            ],
        )
    flags, statuses = mapping.access_fields, mapping.status_fields
    _setting(
        app,
        "access_fields",
        flags,
        "boolean columns that grant paid access" if flags else "no boolean access column found",
    )
    _setting(
        app,
        "status_fields",
        statuses,
        "text subscription-status columns" if statuses else "no status column found",
    )
    _setting(
        app,
        "primary_access_field",
        mapping.primary_access_field,
        "this field decides access; the others are cross-checked"
        if len(mapping.fields()) > 1
        else "this field decides access",
    )
    return app


def _columns_table(mapping: ColumnMapping, missing: Sequence[tuple[str, str]]) -> Table:
    meaning = dict(missing)
    columns = tomlkit.table()
    for role in ROLES:
        column = mapping.role_column(role)
        if column is not None:
            _setting(columns, role, column)
        else:
            text = f"{role}: no column found. {meaning.get(role, '')}".rstrip()
            _comments(
                columns,
                textwrap.wrap(text, _MAX_WIDTH, initial_indent="# ", subsequent_indent="#   "),
            )
    columns.add(tomlkit.nl())
    return columns


def _billing_table(billing: Sequence[BillingInput]) -> Table:
    table = tomlkit.table()
    if not billing:
        _comments(
            table,
            [
                "# Billing exports to compare with (or pass --billing FILE to `billdrift check`):",
                '# sources = ["subscriptions.json"]',
            ],
        )
        return table
    written = [item for item in billing if item.setting.value is not None]
    withheld = [item for item in billing if item.setting.value is None]
    if written:
        kinds = ", ".join(item.kind for item in written if item.kind)
        _setting(table, "sources", [item.setting.value for item in written], kinds)
    for item in withheld:
        variable = item.setting.variable or "BILLING_DATABASE_URL"
        _comments(
            table,
            [
                f"# {item.setting.shown} carries a password, so it is not written here:",
                f"#   export {variable}='...'  and add {toml_value('env:' + variable)} to sources",
            ],
        )
    return table


def policy_example() -> list[str]:
    """[policy] with every key at its default, commented out."""
    defaults = Policy()
    lines = [
        "# Policy: uncomment and change what differs from these defaults.",
        "# [policy]",
    ]
    for key in Policy.model_fields:
        if key == "statuses":
            continue
        line = f"# {key} = {toml_value(getattr(defaults, key))}"
        lines += _with_comment(line, POLICY_HELP.get(key, ""))
    stripe = DEFAULT_STATUSES["stripe"]
    lines += [
        "#",
        *_with_comment("# [policy.statuses.stripe]", "per provider: stripe, paddle, ..."),
        f"# entitled = {toml_value(stripe.entitled)}",
        f"# grace = {toml_value(stripe.grace)}",
        f"# not_entitled = {toml_value(stripe.not_entitled)}",
    ]
    return lines


def plans_example() -> list[str]:
    return [
        "# Plans: map a price id, lookup key or product id to the app's plan value",
        "# (without this map, plan drift is not checked).",
        "# [plans]",
        '# price_1PqXyzExample = "pro"',
        '# basic_monthly = "basic"',
    ]


def exceptions_example() -> list[str]:
    return [
        "# Exceptions: known, reviewed mismatches; they suppress matching findings.",
        "# [[exceptions]]",
        *_with_comment('# account = "42"', 'or customer = "cus_...", or both'),
        *_with_comment('# kind = "unpaid_but_active"', "optional: only this kind"),
        '# reason = "enterprise contract, invoiced manually"',
        *_with_comment("# expires = 2027-01-01", "optional; once past, it stops suppressing"),
    ]
