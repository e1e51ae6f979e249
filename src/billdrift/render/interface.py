"""The renderer extension point: a Report in, the whole document out as a string.

Renderers never write: the CLI writes the returned text to stdout, or to
--output only once the report is complete, so a failed run never truncates a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from billdrift.report import Report


class Renderer(ABC):
    name: ClassVar[str]

    @abstractmethod
    def render(self, report: Report) -> str: ...
