"""Masking of PII and identifiers for reports and alerts meant to be shared.

Masking is done on the data, never by searching rendered text for values: a
finding's message and fix are re-rendered from their parts
(:mod:`billdrift.core.words`) with each id and email replaced, id fields and
evidence keys that hold ids or emails are replaced by key, and any other text (the
words' plain parts included: a plan, a status, a field's value) only has what looks
like an email masked (:mod:`billdrift.outputs.email_mask`). So a count, an amount or
a date is never touched, whatever ids exist ("linked from 2 accounts" stays so when an
account "2" exists).

Modes: ``none``; ``emails`` (alerts' default: on-call needs the ids to act);
``all``, emails and every id (what ``--mask`` does to a report).

A masked id keeps its prefix and a keyed hash (``acct_…3f9a``, ``…b71c``): the key
is random per Masker, so a short id cannot be recovered by hashing every
candidate, and the hash is lengthened where two ids would collide, so masking
never merges two ids. Counts and totals therefore come out the same masked or
not, including the totals that count a subscription once (issue 14).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any, Literal

from billdrift.core.found import Found, columns_of
from billdrift.core.model import Finding, Skip
from billdrift.core.report import Report, Suppressed
from billdrift.core.words import Ref, Words
from billdrift.outputs.email_mask import mask_email as mask_email
from billdrift.outputs.email_mask import mask_emails_in
from billdrift.outputs.mask_found import mask_found

MaskMode = Literal["none", "emails", "all"]

#: Evidence keys holding one id, a list of ids, or an email.
_ID_KEYS = frozenset({"account_id", "customer_id", "subscription_id", "account_ids"})
_EMAIL_KEYS = frozenset({"email", "customer_email"})
#: Evidence keys holding "id, id" or "id:status, id:status" text.
_ID_LIST_KEYS = frozenset({"subscriptions", "candidates"})
#: Evidence keys holding where a row was read: "<source>:<line number or row id>".
_SOURCE_KEYS = frozenset({"source"})
#: What ``all`` shows for text it cannot mask from parts (a finding read back from history).
WITHHELD = "(text withheld: it names ids that masking cannot locate)"
#: Hex digits of the keyed hash a masked id shows, at least.
HASH_DIGITS = 4


class Masker:
    """Masks the values of findings, consistently within one run."""

    def __init__(self, mode: MaskMode = "all", key: bytes | None = None) -> None:
        self.mode = mode
        self._key = key if key is not None else secrets.token_bytes(16)
        self._masked: dict[str, str] = {}
        self._taken: set[str] = set()
        #: Free text masked so far (see :meth:`evidence`).
        self._texts: dict[str, str] = {}

    def register(self, ids: Iterable[str]) -> None:
        """Mask `ids` now, in sorted order, so the result does not depend on which
        finding happens to name an id first."""
        for value in sorted(set(ids)):
            self.id(value)

    def id(self, value: str) -> str:
        """'cus_N3x8Q2abc' -> 'cus_…3f9a': the prefix says what it is, the keyed hash
        tells ids apart (never the same for two ids of this Masker)."""
        if self.mode != "all" or not value:
            return value
        known = self._masked.get(value)
        if known is not None:
            return known
        prefix, sep, _ = value.partition("_")
        if not sep or len(prefix) > 6 or len(value) <= len(prefix) + 1:
            prefix, sep = "", ""
        digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        digits = HASH_DIGITS
        masked = f"{prefix}{sep}…{digest[:digits]}"
        while masked in self._taken:
            digits += 1
            masked = f"{prefix}{sep}…{digest[:digits]}"
        self._taken.add(masked)
        self._masked[value] = masked
        return masked

    def email(self, value: str) -> str:
        return value if self.mode == "none" else mask_email(value)

    def field(self, value: str | None) -> str | None:
        return None if value is None else self.id(value)

    def text(self, value: str) -> str:
        """Free text: only its emails (ids in free text are not known as such)."""
        return value if self.mode == "none" else mask_emails_in(value)

    def words(self, parts: Words, fallback: str, emails: Iterable[str] = ()) -> str:
        """A finding's text from its parts. Without parts (a finding built elsewhere),
        `fallback` with what looks like an email masked, and the finding's own `emails`
        (ones the pattern misses, like ``ops@localhost``): an email is never a count."""
        if parts:  # ids and emails masked, and what looks like an email in the rest
            return "".join(
                self._free_text(part) if isinstance(part, str) else self._ref(part)
                for part in parts
            )
        if self.mode == "all":  # where its ids are is unknown: show none of it
            return WITHHELD
        text = self.text(fallback)
        if self.mode != "none":
            for address in sorted(set(emails), key=len, reverse=True):
                text = text.replace(address, mask_email(address))
        return text

    def _ref(self, ref: Ref) -> str:
        return self.id(ref.value) if ref.kind == "id" else self.email(ref.value)

    def evidence(self, value: Any, key: str = "") -> Any:
        """Evidence masked by key: ids, id lists and emails; other text has its emails
        masked. A text's masking is looked up by its key in a table made once (a
        million-account report walks about 600,000 values: testing each key against
        every set took half the time), and free text is masked once per distinct text."""
        if isinstance(value, str):  # most values: tested first
            return self._by_key.get(key, self._free_text)(value)
        if isinstance(value, dict):
            return {k: self.evidence(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.evidence(item, key) for item in value]
        return value

    @cached_property
    def _by_key(self) -> dict[str, Callable[[str], str]]:
        """How a text under each special evidence key is masked (any other: free text)."""
        if self.mode == "none":
            return {}
        table: dict[str, Callable[[str], str]] = {}
        for keys, show in (
            (_EMAIL_KEYS, self.email),
            (_ID_KEYS, self.id),
            (_ID_LIST_KEYS, self._id_list),
            (_SOURCE_KEYS if self.mode == "all" else frozenset(), self._source),
        ):
            for name in keys:
                table.setdefault(name, show)
        return table

    def _free_text(self, value: str) -> str:
        """:meth:`text`, once per distinct text."""
        known = self._texts.get(value)
        if known is None:
            known = self._texts[value] = self.text(value)
        return known

    def _id_list(self, value: str) -> str:
        """'sub_1:active, sub_2:canceled' with each id masked."""
        return ", ".join(self._id_item(item) for item in value.split(", "))

    def _source(self, value: str) -> str:
        """'<source>:<line or row id>' with a row id masked (a line number is no id)."""
        where, sep, row = value.rpartition(":")
        if sep and row and not row.isdigit():
            return f"{self._free_text(where)}:{self.id(row)}"
        return self._free_text(value)

    def _id_item(self, item: str) -> str:
        """'sub_1:active' -> 'sub_…3f9a:active'."""
        value, sep, rest = item.partition(":")
        return f"{self.id(value)}{sep}{rest}"

    def finding(self, finding: Finding) -> Finding:
        if self.mode == "none":
            return finding
        emails = evidence_emails(finding.evidence)
        return replace(
            finding,
            account_id=self.field(finding.account_id),
            customer_id=self.field(finding.customer_id),
            subscription_id=self.field(finding.subscription_id),
            message=self.words(finding.message_words, finding.message, emails),
            fix=self.words(finding.fix_words, finding.fix, emails),
            evidence=self.evidence(finding.evidence),
            message_words=(),
            fix_words=(),
        )

    def skip(self, skip: Skip) -> Skip:
        return replace(
            skip,
            location=self.text(skip.location),
            reason=self.text(skip.reason),
            customer_id=self.field(skip.customer_id),
        )


def evidence_emails(evidence: Any) -> list[str]:
    """Every value stored under an email key anywhere in the evidence."""
    found: list[str] = []
    if isinstance(evidence, dict):
        for key, value in evidence.items():
            if key in _EMAIL_KEYS and isinstance(value, str) and value:
                found.append(value)
            else:
                found += evidence_emails(value)
    elif isinstance(evidence, list | tuple):
        for item in evidence:
            found += evidence_emails(item)
    return found


def finding_ids(findings: Sequence[Finding]) -> set[str]:
    """The ids findings name in their id fields (what :meth:`Masker.register` takes):
    read from the columns of the engine's findings, with no object made."""
    fields = columns_of(findings, "account_id", "customer_id", "subscription_id")
    return {value for column in fields for value in column if value}


def mask_report(report: Report, mode: MaskMode = "all", key: bytes | None = None) -> Report:
    """`report` with its emails (and, with ``all``, its ids) masked; every count and
    total comes out the same (see the module docstring)."""
    if mode == "none":
        return report
    masker = Masker(mode, key)
    findings = report.findings
    masker.register(finding_ids(findings) | finding_ids([s.finding for s in report.suppressed]))
    # the engine's findings are masked as columns (billdrift.outputs.mask_found)
    masked = mask_found(findings, masker) if isinstance(findings, Found) else None
    return replace(
        report,
        findings=masked if masked is not None else tuple(masker.finding(f) for f in findings),
        suppressed=tuple(
            Suppressed(masker.finding(s.finding), masker.text(s.reason)) for s in report.suppressed
        ),
        skips=tuple(masker.skip(s) for s in report.skips),
        notes=tuple(masker.text(n) for n in report.notes),
    )
