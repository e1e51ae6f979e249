"""Every output format, registered in one place (`--format` choices come from here)."""

from __future__ import annotations

from billdrift.render.interface import Renderer
from billdrift.render.json_format import JsonRenderer
from billdrift.render.markdown import MarkdownRenderer
from billdrift.render.text import TextRenderer
from billdrift.report import Report

RENDERERS: dict[str, type[Renderer]] = {
    renderer.name: renderer for renderer in (TextRenderer, JsonRenderer, MarkdownRenderer)
}


def render(report_format: str, report: Report) -> str:
    return RENDERERS[report_format]().render(report)
