"""The app-source extension point.

An app source reads the app's view of access (a CSV export, a SQLite file;
live databases later) and returns :class:`~billdrift.core.model.AppData`: the
canonical ``APP_ACCOUNTS`` and ``APP_ACCESS_SIGNALS`` relations, the column
mapping it used, and every unreadable row as a :class:`~billdrift.core.model.Skip`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from billdrift.config import AppConfig
from billdrift.core.model import AppData


class AppSource(ABC):
    kind: ClassVar[str]

    def __init__(self, location: str, options: AppConfig) -> None:
        self.location = location
        self.options = options

    @classmethod
    @abstractmethod
    def accepts(cls, location: str) -> bool:
        """True when this source can read `location` (a path or URL)."""

    @abstractmethod
    def read(self) -> AppData:
        """Read every account; never print, never exit."""
