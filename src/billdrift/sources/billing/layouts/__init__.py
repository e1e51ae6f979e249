"""Every way Stripe's subscriptions land in a database, one module per layout.

A database URL given as ``--billing`` is a :class:`~billdrift.sources.billing.
stripe_mirror.StripeMirrorSource` (registered in :mod:`billdrift.sources.registry`);
which layout it holds is found by introspection against :data:`LAYOUTS`, in this
order: a table is claimed by the first layout whose markers it has, so the loaders'
own marker columns (``_airbyte_*``, ``_fivetran_synced``, ``_account_id``) win over
the plain names a mirror also uses.
"""

from __future__ import annotations

from billdrift.sources.billing.layouts import (
    airbyte,
    data_pipeline,
    fivetran,
    mirrors,
    stripe_postgres,
)
from billdrift.sources.billing.layouts.base import Layout

LAYOUTS: tuple[Layout, ...] = (
    airbyte.LAYOUT,
    fivetran.LAYOUT,
    stripe_postgres.LAYOUT,
    data_pipeline.LAYOUT,
    mirrors.SYNC_ENGINE_LAYOUT,
    mirrors.DJ_STRIPE_LAYOUT,
)
