"""Masking of PII and identifiers for reports meant to be shared.

Masking is a transform on the finished Report, not a renderer option: every
format (and every alert sink later) gets the same masked values, and nothing
can leak through a field one renderer forgot.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from billdrift.core.model import Finding, Skip
from billdrift.core.report import Report, Suppressed

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def mask_email(email: str) -> str:
    """'jane.doe@example.com' -> 'j***@e***.com'."""
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    return f"{local[:1]}***@{name[:1]}***{dot}{tld}"


def mask_id(value: str) -> str:
    """'cus_N3x8Q2abc' -> 'cus_…2abc': the prefix says what it is, the tail tells rows apart."""
    prefix, sep, rest = value.partition("_")
    if not sep or len(prefix) > 6:
        prefix, sep, rest = "", "", value
    tail = rest[-4:] if len(rest) > 6 else ""
    return f"{prefix}{sep}…{tail}"


class Masker:
    """Replaces the identifiers of a report consistently in fields, text and evidence."""

    def __init__(self, identifiers: set[str]) -> None:
        ordered = sorted((i for i in identifiers if i), key=len, reverse=True)
        self._ids = {i: mask_id(i) for i in ordered}
        self._pattern = (
            re.compile("|".join(rf"(?<![\w-]){re.escape(i)}(?![\w-])" for i in ordered))
            if ordered
            else None
        )

    def text(self, value: str) -> str:
        value = _EMAIL.sub(lambda m: mask_email(m.group(0)), value)
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: self._ids[m.group(0)], value)
        return value

    def field(self, value: str | None) -> str | None:
        return None if value is None else self._ids.get(value, self.text(value))

    def any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.any(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.any(item) for item in value]
        return value

    def finding(self, finding: Finding) -> Finding:
        return replace(
            finding,
            account_id=self.field(finding.account_id),
            customer_id=self.field(finding.customer_id),
            subscription_id=self.field(finding.subscription_id),
            message=self.text(finding.message),
            fix=self.text(finding.fix),
            evidence=self.any(finding.evidence),
        )

    def skip(self, skip: Skip) -> Skip:
        return replace(skip, location=self.text(skip.location), reason=self.text(skip.reason))


def _identifiers(report: Report) -> set[str]:
    found: set[str] = set()
    everything = [*report.findings, *(s.finding for s in report.suppressed)]
    for finding in everything:
        found.update(
            i for i in (finding.account_id, finding.customer_id, finding.subscription_id) if i
        )
        for key in ("account_ids",):
            found.update(finding.evidence.get(key, []))
        for side in ("billing", "app", "match"):
            part = finding.evidence.get(side, {})
            for key in ("subscription_id", "customer_id"):
                if isinstance(part.get(key), str):
                    found.add(part[key])
            for key in ("subscriptions", "candidates"):
                if isinstance(part.get(key), str):
                    found.update(token.split(":")[0].strip() for token in part[key].split(","))
    return found


def mask_report(report: Report) -> Report:
    masker = Masker(_identifiers(report))
    return replace(
        report,
        findings=tuple(masker.finding(f) for f in report.findings),
        suppressed=tuple(
            Suppressed(masker.finding(s.finding), masker.text(s.reason)) for s in report.suppressed
        ),
        skips=tuple(masker.skip(s) for s in report.skips),
        notes=tuple(masker.text(n) for n in report.notes),
    )
