"""The one escape every data value in the HTML report goes through.

Ids, emails, messages, evidence, source descriptions and history all come from
data someone else controls; escaping them with ``quote=True`` makes them safe in
element content and in quoted attributes alike, so one function serves both.
"""

from __future__ import annotations

import html


def escape(value: object) -> str:
    """Escape for element content *and* quoted attributes (quote=True covers both)."""
    return html.escape("" if value is None else str(value), quote=True)
