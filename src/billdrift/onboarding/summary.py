"""What ``billdrift init`` tells the user: what it found, what it did not, what next.

Plain text, at most 80 columns wide. Names and URLs are shown redacted.
"""

from __future__ import annotations

import shlex
import textwrap
from typing import Final

from billdrift.onboarding.init import InitResult
from billdrift.onboarding.toml_text import toml_value
from billdrift.sources.app.columns import ROLES

WIDTH: Final = 80
_LABEL: Final = 18


def _wrapped(text: str, indent: str, hang: str = "  ") -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + hang,
        break_long_words=False,
        break_on_hyphens=False,
    )


def init_summary(result: InitResult, output: str) -> str:
    """The report shown after the config file was written to `output`."""
    catalog, chosen, mapping = result.catalog, result.chosen, result.mapping
    lines: list[str] = []
    where = catalog.shown if not catalog.server else f"{catalog.server} at {catalog.shown}"
    lines += _wrapped(f"App data: {where}", "")
    columns = len(chosen.table.columns)
    if catalog.kind == "csv":
        lines.append(f"Accounts: the rows of {catalog.shown} ({columns} columns)")
    else:
        kind = "view" if chosen.table.kind == "view" else "table"
        lines.append(f"Accounts: {kind} {chosen.name} ({columns} columns)")
    for role in ROLES:
        lines.append(f"  {role.ljust(_LABEL)}{mapping.role_column(role) or '-'}")
    for name, kind in mapping.fields():
        primary = ", primary: decides access" if name == mapping.primary_access_field else ""
        label = "access flag" if kind == "flag" else "access status"
        lines.append(f"  {label.ljust(_LABEL)}{name} ({kind}{primary})")
    if result.others:
        names = ", ".join(other.name for other in result.others)
        lines += _wrapped(
            f"Also looked like accounts (listed in the file, switch app.table to use one): {names}",
            "",
        )
    if result.missing:
        lines.append("Not found:")
        for role, meaning in result.missing:
            lines += _wrapped(f"{role}: {meaning}", "  ")
    if result.billing:
        for item in result.billing:
            kind = f" ({item.kind})" if item.kind else " (not opened; see billdrift doctor)"
            lines += _wrapped(f"Billing: {item.setting.shown}{kind}", "")
    else:
        lines.append("Billing: none given (set billing.sources, or pass --billing to check)")
    lines.append("")
    if result.app.withheld:
        variable = result.app.variable or "DATABASE_URL"
        lines += _wrapped(
            f"app.source is not written to {output}: the URL carries a password. Keep the "
            f"URL in an environment variable, with the real password:",
            "",
            "",
        )
        lines.append(f"  export {variable}='{result.app.shown}'")
        lines += _wrapped(
            f"and uncomment source = {toml_value('env:' + variable)} in {output} (or pass "
            f"--app env:{variable}).",
            "",
            "",
        )
        lines.append("")
    config = shlex.quote(output)
    billing = "" if result.billing else " --billing FILE"
    lines += [
        f"Wrote {output}. Review it, then:",
        f"  billdrift doctor --config {config}",
        f"  billdrift check --config {config}{billing}",
    ]
    return "\n".join(lines) + "\n"
