"""Running the rule plan inside the database that holds both sides (issue 17).

One module per engine, registered in :data:`ENGINES`: each defines the canonical
relations over the engine's own tables (the app's accounts through the ``[app]``
column mapping, the billing mirror's layout found by introspection), runs the
compiled plan (:mod:`billdrift.core.dialects`) through a read-only connection and
hands back what :func:`billdrift.core.plan.judge_answers` needs.
"""

from __future__ import annotations

#: Every engine a check can be pushed down to, and the module running it there.
ENGINES: dict[str, str] = {
    "postgres": "billdrift.sources.pushdown.postgres",
    "spark": "billdrift.sources.pushdown.spark",
    # official connectors, each an optional extra; untested here (no service reachable)
    "snowflake": "billdrift.sources.pushdown.snowflake",
    "bigquery": "billdrift.sources.pushdown.bigquery",
    "redshift": "billdrift.sources.pushdown.redshift",
    "databricks": "billdrift.sources.pushdown.databricks",
}
