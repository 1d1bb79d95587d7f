"""Small server-rendered SVG charts for the admin dashboard: no script, no CDN.

Each bar or point is a link (to the filtered question list), with a ``<title>`` that browsers
show on hover. Values are escaped by ``format_html``; geometry is computed here.
"""

import dataclasses
from collections.abc import Callable, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 720
HEIGHT = 160
GAP = 2


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _scale(top: float, *, y: float, axis: Callable[[float], str]) -> SafeString:
    """A dashed line at the chart's highest value, labelled with it: the chart's scale."""
    if not top:
        return SafeString("")
    return format_html(
        '<line class="qa-chart__grid" x1="0" y1="{}" x2="{}" y2="{}"/>'
        '<text class="qa-chart__scale" x="4" y="{}">{}</text>',
        f"{y:.1f}",
        WIDTH,
        f"{y:.1f}",
        f"{y + 14:.1f}",
        axis(top),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Segment:
    value: float
    label: str  # for the tooltip: "12 answered on Dec 3"
    css: str  # a class that gives it its colour
    url: str


def stacked_bars(
    columns: Sequence[Sequence[Segment]], *, title: str, axis: Callable[[float], str] = _count
) -> SafeString:
    """One column per day, its segments stacked from the bottom; ``axis`` labels the scale."""
    top = max((sum(segment.value for segment in column) for column in columns), default=0)
    scale = (HEIGHT - 4) / top if top else 0
    width = WIDTH / max(len(columns), 1)
    parts = []
    for index, column in enumerate(columns):
        y = float(HEIGHT)
        for segment in column:
            if segment.value <= 0:
                continue
            height = segment.value * scale
            y -= height
            parts.append(
                (
                    segment.url,
                    segment.css,
                    f"{index * width + GAP / 2:.1f}",
                    f"{y:.1f}",
                    f"{max(width - GAP, 1):.1f}",
                    f"{height:.1f}",
                    segment.label,
                )
            )
    rects = format_html_join(
        "",
        '<a href="{}"><rect class="{}" x="{}" y="{}" width="{}" height="{}">'
        "<title>{}</title></rect></a>",
        parts,
    )
    return format_html(
        '<svg class="qa-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        rects,
        _scale(top, y=HEIGHT - top * scale, axis=axis),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Point:
    value: float | None  # None: no data that day (a gap in the line)
    label: str
    url: str


def lines(
    series: Sequence[tuple[str, Sequence[Point]]],
    *,
    title: str,
    axis: Callable[[float], str] = _count,
) -> SafeString:
    """One line per series (its css class first), with a dot per day that links; ``axis``
    labels the scale."""
    values = [point.value for _, points in series for point in points if point.value is not None]
    top = max(values, default=0)
    scale = (HEIGHT - 8) / top if top else 0
    count = max((len(points) for _, points in series), default=1)
    step = WIDTH / max(count, 1)
    drawn = []
    for css, points in series:
        coordinates = [
            (index * step + step / 2, HEIGHT - 4 - point.value * scale, point)
            for index, point in enumerate(points)
            if point.value is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coordinates)
        dots = format_html_join(
            "",
            '<a href="{}"><circle class="{}" cx="{}" cy="{}" r="3"><title>{}</title></circle></a>',
            ((point.url, css, f"{x:.1f}", f"{y:.1f}", point.label) for x, y, point in coordinates),
        )
        drawn.append(format_html('<polyline class="{}" points="{}"/>{}', css, path, dots))
    return format_html(
        '<svg class="qa-chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        _scale(top, y=HEIGHT - 4 - top * scale, axis=axis),
        format_html_join("", "{}", ((line,) for line in drawn)),
    )
