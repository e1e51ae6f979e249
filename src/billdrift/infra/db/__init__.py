"""Live databases: URLs, read-only connections and introspection, one module per dialect.

Sources (app accounts, a Stripe mirror) and the ``init``/``doctor`` commands
talk to databases only through :func:`billdrift.infra.db.connect.connect`, which
returns a :class:`~billdrift.infra.db.interface.ReadOnlyConnection`: every
connection is read-only at the server before any query runs.
"""
