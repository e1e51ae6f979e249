"""Every output format, registered in one place (`--format` choices come from here).

A format's renderer loads when the format is asked for: a check writes one format,
and the others' modules (HTML's escaping tables and trend chart, the csv module)
are a tenth of the imports a small check of two files spends after its libraries.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the list of formats (--format's choices) loads no engine
    from billdrift.core.report import Report
    from billdrift.outputs.render.history_points import RunPoint
    from billdrift.outputs.render.interface import Renderer

#: Format name -> (module, class) of its renderer, whose `name` is the format.
RENDERERS: dict[str, tuple[str, str]] = {
    "text": ("billdrift.outputs.render.text", "TextRenderer"),
    "json": ("billdrift.outputs.render.json_format", "JsonRenderer"),
    "markdown": ("billdrift.outputs.render.markdown", "MarkdownRenderer"),
    "html": ("billdrift.outputs.render.html", "HtmlRenderer"),
    "csv": ("billdrift.outputs.render.csv_format", "CsvRenderer"),
}
#: The one format that takes past runs (its trend chart).
_WITH_HISTORY = "html"


def renderer_class(report_format: str) -> type[Renderer]:
    """The renderer class of `report_format` (a key of :data:`RENDERERS`), imported now."""
    module, name = RENDERERS[report_format]
    found: type[Renderer] = getattr(importlib.import_module(module), name)
    return found


def renderer(report_format: str, *, history: Sequence[RunPoint] | None = None) -> Renderer:
    """The renderer for `report_format`. `history` (past runs) only feeds the HTML
    trend chart; the other formats describe this run alone and ignore it."""
    if report_format == _WITH_HISTORY:
        from billdrift.outputs.render.html import HtmlRenderer

        return HtmlRenderer(history)
    return renderer_class(report_format)()


def render(report_format: str, report: Report, *, history: Sequence[RunPoint] | None = None) -> str:
    """The whole document in `report_format` (see :func:`renderer`)."""
    return renderer(report_format, history=history).render(report)


def render_bytes(
    report_format: str, report: Report, *, history: Sequence[RunPoint] | None = None
) -> bytes:
    """The whole document in `report_format`, encoded as written (UTF-8)."""
    return renderer(report_format, history=history).render_bytes(report)
