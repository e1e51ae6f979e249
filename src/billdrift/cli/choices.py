"""Option choices and defaults whose source of truth sits in a module that loads the
engine's libraries (the finding kinds in :mod:`billdrift.core.model`, which imports
Arrow; the review queue's filters in :mod:`billdrift.history.queue`).

Commands are declared at import, and ``--help`` or an argument error must load none
of those (issue 17: a small SaaS is the common user, and start-up is most of its
check); the values are repeated here, and tests/cli/test_light_start.py holds each
to its source.
"""

from __future__ import annotations

from typing import Final

from billdrift._version import __version__

#: :class:`billdrift.core.model.Kind`'s values, in its order.
KINDS: Final = (
    "paid_but_blocked",
    "unpaid_but_active",
    "plan_drift",
    "orphaned_subscription",
    "missing_billing_link",
    "stale_billing_link",
    "duplicate_customer",
    "app_fields_disagree",
    "ambiguous",
)

#: :mod:`billdrift.history.queue`'s filters, sorts and page size.
QUEUE_LIFECYCLES: Final = ("new", "ongoing", "reopened", "resolved", "suppressed")
QUEUE_REVIEW_STATES: Final = ("undecided", "acknowledged", "snoozed", "expected", "noted")
QUEUE_SORTS: Final = ("severity", "money", "first_seen", "last_seen", "kind", "account")
QUEUE_DEFAULT_LIMIT: Final = 50

#: :data:`billdrift.usecases.fix.select.REVIEW_STATES`: which findings a fix plan takes.
FIX_REVIEW_STATES: Final = ("unreviewed", "acknowledged", "snoozed", "expected", "any")

#: :data:`billdrift.usecases.schedule.github.DEFAULT_ACTION_REF`: the action a written
#: workflow uses unless told (the release of the billdrift that wrote it).
DEFAULT_ACTION_REF: Final = f"billdrift/billdrift@v{__version__}"
