"""The app-source extension point.

An app source reads the app's view of access (a CSV export, a SQLite file;
live databases later) and returns :class:`~billdrift.core.model.AppData`: the
canonical ``APP_ACCOUNTS`` and ``APP_ACCESS_SIGNALS`` relations, the column
mapping it used, and every unreadable row as a :class:`~billdrift.core.model.Skip`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from billdrift.config import AppConfig
from billdrift.core.model import AppData


@dataclass(frozen=True)
class Slice:
    """Only the accounts of one customer: those whose customer link, subscription link
    or email is one of these values (a webhook-triggered check reads no more).

    Sources that can filter in the database do it with a parameterized WHERE on
    those columns (an index on them keeps it off a table scan). Emails match as
    given and lower-cased, so an index on the email column still serves.
    """

    customers: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()

    def values(self, role: str) -> tuple[str, ...]:
        """The values to match for one mapping role (customer_id, subscription_id, email)."""
        if role == "customer_id":
            return self.customers
        if role == "subscription_id":
            return self.subscriptions
        if role == "email":
            return tuple(dict.fromkeys(v for e in self.emails for v in (e, e.strip().lower())))
        return ()


class AppSource(ABC):
    kind: ClassVar[str]

    def __init__(self, location: str, options: AppConfig) -> None:
        self.location = location
        self.options = options
        #: Read only these accounts (None: every account); set before read().
        self.only: Slice | None = None

    @classmethod
    @abstractmethod
    def accepts(cls, location: str) -> bool:
        """True when this source can read `location` (a path or URL)."""

    @abstractmethod
    def read(self) -> AppData:
        """Read every account; never print, never exit."""
