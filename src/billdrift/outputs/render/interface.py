"""The renderer extension point: a Report in, the whole document out as a string.

Renderers never write: the CLI writes the returned text to stdout, or to
--output only once the report is complete, so a failed run never truncates a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from billdrift.core.report import Report


class Renderer(ABC):
    name: ClassVar[str]

    @abstractmethod
    def render(self, report: Report) -> str: ...

    def render_bytes(self, report: Report) -> bytes:
        """The document as UTF-8, which is what gets written. Renderers that produce
        bytes natively override this: a large JSON report is tens of megabytes, and
        decoding it only to encode it again costs a measurable share of a run."""
        return self.render(report).encode("utf-8")
