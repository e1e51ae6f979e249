"""Every output format, registered in one place (`--format` choices come from here)."""

from __future__ import annotations

from collections.abc import Sequence

from billdrift.core.report import Report
from billdrift.outputs.render.csv_format import CsvRenderer
from billdrift.outputs.render.history_points import RunPoint
from billdrift.outputs.render.html import HtmlRenderer
from billdrift.outputs.render.interface import Renderer
from billdrift.outputs.render.json_format import JsonRenderer
from billdrift.outputs.render.markdown import MarkdownRenderer
from billdrift.outputs.render.text import TextRenderer

RENDERERS: dict[str, type[Renderer]] = {
    renderer.name: renderer
    for renderer in (TextRenderer, JsonRenderer, MarkdownRenderer, HtmlRenderer, CsvRenderer)
}


def renderer(report_format: str, *, history: Sequence[RunPoint] | None = None) -> Renderer:
    """The renderer for `report_format`. `history` (past runs) only feeds the HTML
    trend chart; the other formats describe this run alone and ignore it."""
    if report_format == HtmlRenderer.name:
        return HtmlRenderer(history)
    return RENDERERS[report_format]()


def render(report_format: str, report: Report, *, history: Sequence[RunPoint] | None = None) -> str:
    """The whole document in `report_format` (see :func:`renderer`)."""
    return renderer(report_format, history=history).render(report)


def render_bytes(
    report_format: str, report: Report, *, history: Sequence[RunPoint] | None = None
) -> bytes:
    """The whole document in `report_format`, encoded as written (UTF-8)."""
    return renderer(report_format, history=history).render_bytes(report)
