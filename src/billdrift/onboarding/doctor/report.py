"""What ``billdrift doctor`` finds, and the run that collects it.

Data only: one :class:`Check` per question and the :class:`DoctorReport` of them
all; :mod:`~billdrift.onboarding.doctor.render` turns it into text or JSON and
the command line decides what to print and which exit code to use
(``report.exit_code`` follows ``check``: 0 all ok, 1 warnings only, 2 any
failure). Every check module adds to one :class:`Collector`: an unexpected
error in a group of checks becomes a failed check instead of a crash, and
every text is scrubbed once more (the URLs seen, provider keys, any URL
password) when the collector becomes the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pyarrow as pa

from billdrift.errors import EXIT_DRIFT, EXIT_ERROR, EXIT_PASS, BilldriftError
from billdrift.infra.db.urls import DatabaseUrl, scrub_urls
from billdrift.infra.secrets import scrub
from billdrift.sources.app.columns import ColumnMapping

Status = Literal["ok", "warn", "fail"]
STATUS_ORDER: Final[dict[str, int]] = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    #: What to do about it; None when the check is ok.
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def status(self) -> Status:
        worst = max((STATUS_ORDER[check.status] for check in self.checks), default=0)
        return "fail" if worst == 2 else "warn" if worst == 1 else "ok"

    @property
    def exit_code(self) -> int:
        return {"ok": EXIT_PASS, "warn": EXIT_DRIFT, "fail": EXIT_ERROR}[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {"checks": [check.as_dict() for check in self.checks], "status": self.status}


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, "warn", detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


#: Provider credentials billdrift may read from the environment (names only are shown).
PROVIDER_KEYS: Final = ("STRIPE_API_KEY", "STRIPE_SECRET_KEY", "PADDLE_API_KEY")


@dataclass
class Collector:
    """Checks collected so far, and every URL seen (to scrub their passwords)."""

    checks: list[Check] = field(default_factory=list)
    urls: list[DatabaseUrl] = field(default_factory=list)
    #: What the app checks mapped, and the billing subscriptions read, for the
    #: checks that judge what the rules can do (:mod:`.rules`).
    mapping: ColumnMapping | None = None
    billing: list[pa.Table] = field(default_factory=list)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def guarded(self, name: str, step: Callable[[], None]) -> None:
        """Run one group of checks; an unexpected error becomes a failed check, not a crash."""
        try:
            step()
        except Exception as error:
            message = (
                str(error)
                if isinstance(error, BilldriftError)
                else (f"internal error: {type(error).__name__}: {error}")
            )
            self.add(fail(name, message, "rerun with --debug and report it if it persists"))

    def scrub(self, text: str | None) -> str | None:
        if text is None:
            return None
        for url in self.urls:
            text = url.scrub(text)
        keys = [os.environ.get(key, "").strip() for key in PROVIDER_KEYS]
        text = scrub(text, [key for key in keys if len(key) >= 8])
        return scrub_urls(text)

    def report(self) -> DoctorReport:
        return DoctorReport(
            tuple(
                Check(
                    check.name,
                    check.status,
                    self.scrub(check.detail) or "",
                    self.scrub(check.fix),
                )
                for check in self.checks
            )
        )
