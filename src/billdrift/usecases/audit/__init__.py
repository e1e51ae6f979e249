"""Auditing files a person drops on a page: recognize them, confirm the columns, run.

The library part of the web app's "Audit files" page (any front-end may use it):
:func:`recognize` says what each file is and how its columns would be read,
with sample values; :func:`choose` applies a changed column mapping;
:func:`config_text` writes that choice as ``billdrift init`` writes a config;
:func:`run_audit` runs the check with progress steps and returns the Report.
"""

from billdrift.usecases.audit.choice import MappingChoice, audit_config, choose, config_text
from billdrift.usecases.audit.recognize import (
    AppFile,
    BillingFile,
    ColumnSample,
    Recognition,
    recognize,
)
from billdrift.usecases.audit.run import OnStep, Step, run_audit

__all__ = [
    "AppFile",
    "BillingFile",
    "ColumnSample",
    "MappingChoice",
    "OnStep",
    "Recognition",
    "Step",
    "audit_config",
    "choose",
    "config_text",
    "recognize",
    "run_audit",
]
