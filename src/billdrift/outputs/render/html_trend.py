"""The HTML report's trend section: findings and money at stake over past runs.

Drawn as inline SVG computed here (no script, nothing loaded), from the run
history when there is one: stacked bars of findings per kind with the verdict
under each bar, one line chart per currency (amounts in different currencies
never share an axis), and the same numbers as a table that reads without the
SVG. At most ``MAX_RUNS`` runs are charted, the most recent ones up to the
report's as-of instant (a report made ``--as-of`` a past instant ends its trend
there). Runs are placed at the instant each evaluated its data; the axis shows
dates, or dates and times (UTC) when charted runs share a date, so hourly runs
are told apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from billdrift.core.model import KIND_ORDER
from billdrift.outputs.render.history_points import RunPoint
from billdrift.outputs.render.html_escape import escape as _e
from billdrift.outputs.render.html_style import KIND_COLOURS, VERDICT_COLOURS, kind_colour

#: Runs charted: the most recent ones. Beyond this the bars get too thin to read.
MAX_RUNS = 60
NO_HISTORY = "No history recorded; run with --history to chart trends."
NONE_BEFORE = "No recorded run is at or before the as-of instant of this report."


def _nice_step(top: float, ticks: int = 4) -> float:
    """A 1/2/5 x 10^k step so about `ticks` gridlines cover 0..top."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:,.{decimals}f}"


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


#: An axis label: the date, or the date and time when charted runs share a date.
DATE_LABEL = "%Y-%m-%d"
TIME_LABEL = "%Y-%m-%d %H:%MZ"


def label_format(points: Sequence[RunPoint]) -> str:
    """Dates alone when every charted run has its own date; else dates and times."""
    days = {point.when.date() for point in points}
    return DATE_LABEL if len(days) == len(points) else TIME_LABEL


def _date_labels(
    points: Sequence[RunPoint], x_of: Callable[[int], float], y: float, most: int
) -> str:
    """At most `most` dates under the x axis (fewer when they carry times: they are
    wider): first, last and evenly between. The first and last are anchored inwards
    so they never run off the edge of the chart."""
    shape = label_format(points)
    if shape == TIME_LABEL:
        most = max(2, most * 2 // 3)
    count = len(points)
    wanted = min(count, most)
    indexes = sorted({round(i * (count - 1) / max(wanted - 1, 1)) for i in range(wanted)})
    parts = []
    for i in indexes:
        anchor = "middle"
        if count > 1 and i == 0:
            anchor = "start"
        elif count > 1 and i == count - 1:
            anchor = "end"
        x = x_of(i) + {"start": -8.0, "end": 8.0, "middle": 0.0}[anchor]
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" '
            f'fill="#5f6b76">{_e(points[i].when.strftime(shape))}</text>'
        )
    return "".join(parts)


def _y_axis(
    top: float, step: float, left: float, right: float, y_of: Callable[[float], float]
) -> str:
    parts = []
    value = 0.0
    while value <= top + step / 1000:
        y = y_of(value)
        parts.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e3e7eb"/><text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#5f6b76">{_tick_label(value, step)}</text>'
        )
        value += step
    return "".join(parts)


def _kinds_in(points: Sequence[RunPoint]) -> list[str]:
    known = [k.value for k in KIND_ORDER]
    seen = {kind for p in points for kind, n in p.by_kind.items() if n}
    return [k for k in known if k in seen] + sorted(seen - set(known))


def _findings_chart(points: Sequence[RunPoint]) -> str:
    """Stacked bars: findings per kind per run, a verdict-coloured tick under each bar."""
    width, height = 900.0, 260.0
    left, right, top_pad, bottom = 48.0, 12.0, 12.0, 44.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    kinds = _kinds_in(points)
    others = [k for k in kinds if k not in KIND_COLOURS]
    most = max((p.findings for p in points), default=0)
    step = _nice_step(float(max(most, 1)))
    top = step * math.ceil(max(most, 1) / step)
    slot = plot_w / len(points)
    bar = max(min(slot * 0.7, 40.0), 1.0)

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = [_y_axis(top, step, left, width - right, y_of)]
    for i, point in enumerate(points):
        when = _e(point.when.strftime("%Y-%m-%d %H:%MZ"))
        base = 0
        for kind in kinds:
            n = point.by_kind.get(kind, 0)
            if n <= 0:
                continue
            y1, y0 = y_of(base + n), y_of(base)
            parts.append(
                f'<rect x="{x_of(i) - bar / 2:.1f}" y="{y1:.1f}" width="{bar:.1f}" '
                f'height="{max(y0 - y1, 0.5):.1f}" fill="{kind_colour(kind, others)}">'
                f"<title>{when}: {n} {_e(kind)}</title></rect>"
            )
            base += n
        colour = VERDICT_COLOURS.get(point.verdict, "#9e9e9e")
        parts.append(
            f'<rect x="{x_of(i) - bar / 2:.1f}" y="{top_pad + plot_h + 3:.1f}" '
            f'width="{bar:.1f}" height="5" fill="{colour}"><title>{when}: '
            f"{_e(point.verdict)}, {point.findings} findings</title></rect>"
        )
    parts.append(_date_labels(points, x_of, height - 14, 7))
    svg = (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" '
        f'aria-label="Findings per run by kind, {len(points)} runs">{"".join(parts)}</svg>'
    )
    legend = "".join(
        f'<span><span class=swatch style="background:{kind_colour(k, others)}"></span>'
        f"{_e(k)}</span>"
        for k in kinds
    )
    verdicts = "".join(
        f'<span><span class=swatch style="background:{c}"></span>{v}</span>'
        for v, c in VERDICT_COLOURS.items()
    )
    return (
        f"<div class=chart><strong>Findings per run</strong>{svg}"
        f"<div class=legend>{legend or '<span class=muted>no findings in these runs</span>'}"
        f"</div><div class=legend><span class=muted>verdict (strip under each bar):</span>"
        f"{verdicts}</div></div>"
    )


def _exposure_chart(currency: str, points: Sequence[RunPoint]) -> str:
    """One small line chart per currency: amounts in different currencies never share
    an axis, so nobody reads JPY 5000 as more than USD 116."""
    width, height = 440.0, 180.0
    left, right, top_pad, bottom = 64.0, 12.0, 12.0, 40.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [_amount(p.exposure.get(currency, "0")) for p in points]
    most = float(max((v for v in values if v is not None), default=Decimal(0)))
    step = _nice_step(most if most > 0 else 1.0)
    top = step * math.ceil((most if most > 0 else 1.0) / step)
    slot = plot_w / len(points)

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = [_y_axis(top, step, left, width - right, y_of)]
    line = [f"{x_of(i):.1f},{y_of(float(v)):.1f}" for i, v in enumerate(values) if v is not None]
    if len(line) > 1:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#1565c0" stroke-width="2"/>'
        )
    for i, (point, value) in enumerate(zip(points, values, strict=True)):
        if value is None:
            continue
        shown = point.exposure.get(currency, "0")
        parts.append(
            f'<circle cx="{x_of(i):.1f}" cy="{y_of(float(value)):.1f}" r="3.5" '
            f'fill="#1565c0"><title>{_e(point.when.strftime("%Y-%m-%d %H:%MZ"))}: '
            f"{_e(currency)} {_e(shown)}/month</title></circle>"
        )
    parts.append(_date_labels(points, x_of, height - 12, 3))
    return (
        f"<div class=chart><strong>Monthly amount at stake, {_e(currency)}</strong>"
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" '
        f'aria-label="Monthly amount at stake in {_e(currency)} per run">'
        f"{''.join(parts)}</svg></div>"
    )


def history_section(history: Sequence[RunPoint] | None, as_of: datetime | None = None) -> list[str]:
    """The trend section: runs up to `as_of` (the report's), the latest ``MAX_RUNS``."""
    out = ["<section id=trend><h2>Trend over past runs</h2>"]
    until = as_of.astimezone(UTC) if as_of is not None else None
    ordered = sorted(
        (p for p in history or () if until is None or p.when <= until), key=lambda p: p.when
    )
    if not ordered:
        said = NO_HISTORY if not history else NONE_BEFORE
        out.append(f"<p class=muted>{_e(said)}</p></section>")
        return out
    points = ordered[-MAX_RUNS:]
    if len(ordered) > len(points):
        out.append(
            f"<p class=muted>Showing the latest {len(points)} of {len(ordered)} recorded runs.</p>"
        )
    currencies = sorted({c for p in points for c in p.exposure})
    out.append("<div class=charts>")
    out.append(_findings_chart(points))
    out += [_exposure_chart(c, points) for c in currencies]
    out.append("</div>")
    # The same numbers as a table: readable without the SVG, and copyable.
    out.append(
        f"<details><summary>Chart data ({len(points)} runs)</summary><table><thead><tr>"
        "<th>as of</th><th>verdict</th><th class=num>findings</th>"
        + "".join(f"<th class=num>{_e(c)}/month</th>" for c in currencies)
        + "</tr></thead><tbody>"
    )
    for p in reversed(points):
        out.append(
            f"<tr><td>{_e(p.when.strftime('%Y-%m-%d %H:%MZ'))}</td><td>{_e(p.verdict)}</td>"
            f"<td class=num>{p.findings}</td>"
            + "".join(f"<td class=num>{_e(p.exposure.get(c, '0'))}</td>" for c in currencies)
            + "</tr>"
        )
    out.append("</tbody></table></details></section>")
    return out
