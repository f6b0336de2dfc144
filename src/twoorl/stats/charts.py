"""Bar-chart geometry for the stats page: pure functions from numbers to coordinates.

The markup is a Jinja partial (``templates/partials/bar_chart.svg.html``); everything here is
plain arithmetic, so it is tested without a page. Coordinates are in the SVG's viewBox units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NICE_STEPS = (1, 2, 5, 10)


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Whole-number axis ticks from 0 to a round top of at least ``maximum``, about ``count``
    steps of 1, 2 or 5 times a power of ten (0, 1 for an empty chart)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in NICE_STEPS if m * magnitude >= raw)
    step = max(1, round(step))
    top = -(-maximum // step) * step
    return list(range(0, top + 1, step))


def label_every(count: int, max_labels: int = 7) -> int:
    """Label every n-th bar so that at most ``max_labels`` labels share the axis."""
    return max(1, -(-count // max_labels))


@dataclass(frozen=True)
class Bar:
    index: int
    value: int
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # whether the axis shows this bar's date

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]


def bar_geometry(
    values: list[int],
    *,
    width: int = 560,
    height: int = 180,
    margin_left: int = 44,
    margin_right: int = 28,  # room for the last date label, centred under today's bar
    margin_top: int = 12,
    margin_bottom: int = 26,
    gap: float = 0.25,
) -> Geometry:
    """Bars for ``values`` (one per slot, left to right) on a 0-based linear scale whose top
    is the highest nice tick. ``gap`` is the share of each slot left empty between bars. The
    last bar (today) is always labelled; labels then step back from it."""
    ticks = nice_ticks(max(values, default=0))
    top_value = ticks[-1]
    left, right = margin_left, width - margin_right
    top, bottom = margin_top, height - margin_bottom
    plot_height = bottom - top
    slot = (right - left) / max(len(values), 1)
    bar_width = slot * (1 - gap)
    every = label_every(len(values))

    def y_of(value: int) -> float:
        return round(bottom - plot_height * value / top_value, 2)

    bars = [
        Bar(
            index=i,
            value=value,
            x=round(left + i * slot + (slot - bar_width) / 2, 2),
            y=y_of(max(value, 0)),
            width=round(bar_width, 2),
            height=round(bottom - y_of(max(value, 0)), 2),
            labelled=(len(values) - 1 - i) % every == 0,
        )
        for i, value in enumerate(values)
    ]
    return Geometry(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=bars,
        ticks=[Tick(value, y_of(value)) for value in ticks],
    )
