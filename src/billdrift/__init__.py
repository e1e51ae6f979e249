"""billdrift: does the access your app grants match what your billing provider says?

The public Python API. Every front-end (the CLI, and the web app, webhook listener
and agent server to come) calls these same functions; none of them prints or exits::

    import billdrift

    report = billdrift.check(billing="subscriptions.json", app="users.csv")
    report.verdict, report.exit_code, report.findings

:func:`check` reads both sides and returns the immutable :class:`Report`;
:func:`monitored_check` also records the run in a history store and sends alerts;
:mod:`billdrift.usecases.review` works the review queue. Failures raise
:class:`BilldriftError` (its ``exit_code`` is 2). Names load on first use, so
``import billdrift`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from billdrift._version import __version__

#: Public name -> module that defines it.
_EXPORTS = {
    "check": "billdrift.usecases.check",
    "run_check": "billdrift.usecases.check",
    "monitored_check": "billdrift.usecases.monitoring",
    "Outcome": "billdrift.usecases.monitoring",
    "Config": "billdrift.config",
    "load_config": "billdrift.config",
    "Report": "billdrift.core.report",
    "Finding": "billdrift.core.model",
    "Kind": "billdrift.core.model",
    "Severity": "billdrift.core.model",
    "Verdict": "billdrift.core.model",
    "BilldriftError": "billdrift.errors",
}

__all__ = [
    "BilldriftError",
    "Config",
    "Finding",
    "Kind",
    "Outcome",
    "Report",
    "Severity",
    "Verdict",
    "__version__",
    "check",
    "load_config",
    "monitored_check",
    "run_check",
]

if TYPE_CHECKING:
    from billdrift.config import Config, load_config
    from billdrift.core.model import Finding, Kind, Severity, Verdict
    from billdrift.core.report import Report
    from billdrift.errors import BilldriftError
    from billdrift.usecases.check import check, run_check
    from billdrift.usecases.monitoring import Outcome, monitored_check


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'billdrift' has no attribute {name!r}")
