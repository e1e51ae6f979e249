"""The config file ``billdrift init`` writes: every detected setting spelled out.

Nothing is left to detection at ``check`` time: the table, every column role,
the access and status fields and the primary field are written explicitly, so
the file documents how the data is read and a new column in the table cannot
silently change it. What was *not* found is written as a comment saying what
that means. Optional sections ([policy], [plans], [[exceptions]]) follow as
commented-out examples whose keys and defaults come from
:mod:`billdrift.config` itself, so they cannot drift from what it accepts.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from billdrift.config import DEFAULT_STATUSES, Policy
from billdrift.onboarding.accounts import Candidate
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


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def toml_value(value: object) -> str:
    """A TOML value for the plain types config defaults use."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} as TOML")
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _with_comment(line: str, comment: str) -> str:
    """`line` with `comment` after it, aligned; or above it when that would be too wide."""
    if not comment:
        return line
    padded = line.ljust(_COMMENT_COLUMN - 1)
    if len(padded) + 3 + len(comment) <= _MAX_WIDTH:
        return f"{padded} # {comment}"
    return f"# {comment}:\n{line}"


def render_config(draft: Draft) -> str:
    """The whole file."""
    lines = [
        "# billdrift configuration, written by `billdrift init` from",
        *(f"#   {line}" for line in draft.origin.split("\n")),
        "# Every detected setting is written out below; correct anything that is wrong.",
        "# Check the set-up:  billdrift doctor --config <this file>",
        "# Then run:          billdrift check --config <this file>",
        "",
        *_app_section(draft),
        "",
        *_columns_section(draft.mapping, draft.missing),
        "",
        *_billing_section(draft.billing),
        "",
        *policy_example(),
        "",
        *plans_example(),
        "",
        *exceptions_example(),
    ]
    return "\n".join(lines) + "\n"


def _app_section(draft: Draft) -> list[str]:
    mapping = draft.mapping
    lines = ["[app]"]
    if draft.app.value is not None:
        lines.append(f"source = {toml_string(draft.app.value)}")
    else:
        variable = draft.app.variable or "DATABASE_URL"
        lines += [
            "# The URL given to `billdrift init` carries a password, so it is not written",
            "# here. Keep the URL in an environment variable and name the variable:",
            "#   (with the real password in place of ***):",
            f"#   export {variable}='{draft.app.shown}'",
            "# then uncomment the next line (or pass --app env:" + variable + "):",
            f"# source = {toml_string('env:' + variable)}",
        ]
    if draft.table:
        lines.append(f"table = {toml_string(draft.table)}")
    if draft.others:
        lines.append("# Other tables that also look like accounts (switch `table` to use one):")
        lines += [
            f"#   {toml_string(other.name)}: {other.mapping.describe()}" for other in draft.others
        ]
    flags, statuses = mapping.access_fields, mapping.status_fields
    lines.append(
        _with_comment(
            f"access_fields = {toml_value(flags)}",
            "boolean columns that grant paid access" if flags else "no boolean access column found",
        )
    )
    lines.append(
        _with_comment(
            f"status_fields = {toml_value(statuses)}",
            "text subscription-status columns" if statuses else "no status column found",
        )
    )
    lines.append(
        _with_comment(
            f"primary_access_field = {toml_string(mapping.primary_access_field)}",
            "this field decides access; the others are cross-checked"
            if len(mapping.fields()) > 1
            else "this field decides access",
        )
    )
    return lines


def _columns_section(mapping: ColumnMapping, missing: Sequence[tuple[str, str]]) -> list[str]:
    meaning = dict(missing)
    lines = ["[app.columns]"]
    for role in ROLES:
        column = mapping.role_column(role)
        if column is not None:
            lines.append(f"{role} = {toml_string(column)}")
        else:
            text = f"{role}: no column found. {meaning.get(role, '')}".rstrip()
            lines += textwrap.wrap(text, _MAX_WIDTH, initial_indent="# ", subsequent_indent="#   ")
    return lines


def _billing_section(billing: Sequence[BillingInput]) -> list[str]:
    lines = ["[billing]"]
    if not billing:
        return [
            *lines,
            "# Billing exports to compare with (or pass --billing FILE to `billdrift check`):",
            '# sources = ["subscriptions.json"]',
        ]
    written = [item for item in billing if item.setting.value is not None]
    withheld = [item for item in billing if item.setting.value is None]
    if written:
        kinds = ", ".join(item.kind for item in written if item.kind)
        lines.append(
            _with_comment(
                f"sources = {toml_value([item.setting.value for item in written])}",
                kinds,
            )
        )
    for item in withheld:
        variable = item.setting.variable or "BILLING_DATABASE_URL"
        lines += [
            f"# {item.setting.shown} carries a password, so it is not written here:",
            f"#   export {variable}='...'  and add {toml_string('env:' + variable)} to sources",
        ]
    return lines


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
        lines.append(_with_comment(line, POLICY_HELP.get(key, "")))
    stripe = DEFAULT_STATUSES["stripe"]
    lines += [
        "#",
        _with_comment("# [policy.statuses.stripe]", "per provider: stripe, paddle, ..."),
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
        _with_comment('# account = "42"', 'or customer = "cus_...", or both'),
        _with_comment('# kind = "unpaid_but_active"', "optional: only this kind"),
        '# reason = "enterprise contract, invoiced manually"',
        _with_comment("# expires = 2027-01-01", "optional; once past, it stops suppressing"),
    ]
