"""The billing-source extension point.

A billing source reads one input (a file today; a provider API or a mirror
database later) and returns :class:`~billdrift.core.model.BillingData`: the
canonical ``BILLING_SUBSCRIPTIONS`` and ``BILLING_ITEMS`` relations plus every
record it could not read as a :class:`~billdrift.core.model.Skip`. A source raises
:class:`~billdrift.errors.SourceError` only when the input as a whole is
unusable (missing, not the format, undecodable); a bad record is a skip.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.sources.progress import NO_PROGRESS, Progress


class BillingSource(ABC):
    #: Short name used in `--billing KIND:PATH` and in reports.
    kind: ClassVar[str]
    #: Whether reading opens TLS connections (a provider API), so OpenSSL is started
    #: before the reader threads (see billdrift.infra.runtime.ready_for_threads).
    uses_tls: ClassVar[bool] = False

    def __init__(self, location: str, options: BillingConfig) -> None:
        self.location = location
        self.options = options
        #: Where a slow source (a provider API) reports its counts; set by the caller.
        self.progress: Progress = NO_PROGRESS

    @classmethod
    @abstractmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        """True when the first bytes of `path` look like this source's format."""

    @abstractmethod
    def read(self) -> BillingData:
        """Read everything; never print, never exit."""
