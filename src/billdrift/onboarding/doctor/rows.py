"""Doctor: read one file side through its source, as ``check`` will, and judge the rows.

Shared by both sides: no rows is a failure (``check`` would stop), skipped rows
a warning, or a failure above ``policy.max_skipped_ratio`` as in ``check``.
"""

from __future__ import annotations

from collections.abc import Callable

from billdrift.config import Policy
from billdrift.core.model import Skip
from billdrift.core.policy import over_share
from billdrift.errors import BilldriftError
from billdrift.onboarding.doctor.report import Collector, fail, ok, warn
from billdrift.onboarding.doctor.wording import many


def read_rows(
    run: Collector,
    name: str,
    read: Callable[[], tuple[int, tuple[Skip, ...]]],
    policy: Policy,
    noun: str,
) -> None:
    """Read a file side through its source: row count, and whether rows would be skipped."""
    try:
        count, skips = read()
    except BilldriftError as error:
        run.add(fail(name, str(error), "fix the input named above; `billdrift check` stops here"))
        return
    if count == 0:
        run.add(
            fail(
                name,
                f"no {noun} read; `check` would stop with an error",
                "check that the export is complete (Stripe: list with status=all)",
            )
        )
        return
    if not skips:
        run.add(ok(name, f"{many(count, noun)} read, no row skipped"))
        return
    first = skips[0]
    detail = (
        f"{many(count, noun)} read, {many(len(skips), 'rows')} skipped (first: {first.source} "
        f"{first.location}: {first.reason})"
    )
    if over_share(len(skips), count + len(skips), policy.max_skipped_ratio):
        run.add(
            fail(
                name,
                f"{detail}; more than policy.max_skipped_ratio ({policy.max_skipped_ratio:g})",
                "correct the skipped rows at the source; `billdrift check` lists them all",
            )
        )
    else:
        run.add(warn(name, detail, "correct the skipped rows; `billdrift check` lists them all"))
