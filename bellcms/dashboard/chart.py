"""The geometry of the audience chart: grouped bars, one group a week, drawn as SVG by
``templates/admin/dashboard/audience_chart.html``.

Computed here rather than in the template so that the numbers can be tested and the template
only places shapes. Coordinates are in the SVG's own units (its viewBox); the browser scales
the drawing to the panel's width.
"""

import math
from dataclasses import dataclass

from django.utils.formats import date_format, number_format

from .queries import AudienceWeek

SERIES = ("joined", "confirmed", "unsubscribed")
WIDTH, HEIGHT = 640, 240
# Room for the value labels on the left and the week labels below.
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 8, 12, 30
# The share of a week's slot its bars take; the rest separates one week from the next.
GROUP_SHARE = 0.75
# About this many gridlines above zero: enough to read a bar, few enough to stay quiet.
TICKS_WANTED = 4


@dataclass(frozen=True)
class Bar:
    series: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Column:
    label: str
    label_x: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: float
    right: float
    tick_label_x: float
    baseline: float
    label_y: float
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]


def nice_step(rough: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at least ``rough``: gridlines at round numbers."""
    if rough <= 1:
        return 1
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return factor * power
    return 10 * power


def _ticks(largest: int, baseline: float, plot_height: float) -> tuple[int, tuple[Tick, ...]]:
    step = nice_step(largest / TICKS_WANTED)
    top = max(step, step * math.ceil(largest / step))
    ticks = tuple(
        Tick(
            y=round(baseline - plot_height * value / top, 1),
            label=number_format(value, force_grouping=True),
        )
        for value in range(0, top + 1, step)
    )
    return top, ticks


def _column(week: AudienceWeek, x: float, slot: float, scale: float, baseline: float) -> Column:
    group = slot * GROUP_SHARE
    bar_width = group / len(SERIES)
    start = x + (slot - group) / 2
    bars = []
    for index, series in enumerate(SERIES):
        value = getattr(week, series)
        height = round(value * scale, 1)
        bars.append(
            Bar(
                series=series,
                value=value,
                x=round(start + index * bar_width, 1),
                y=round(baseline - height, 1),
                width=round(bar_width, 1),
                height=height,
            )
        )
    return Column(
        label=date_format(week.monday, "j M"),
        label_x=round(x + slot / 2, 1),
        bars=tuple(bars),
    )


def bar_chart(weeks: list[AudienceWeek]) -> BarChart:
    """Bars for each week's figures, scaled so the largest reaches (nearly) the top."""
    baseline = HEIGHT - MARGIN_BOTTOM
    plot_height = baseline - MARGIN_TOP
    largest = max((getattr(week, series) for week in weeks for series in SERIES), default=0)
    top, ticks = _ticks(largest, baseline, plot_height)
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(1, len(weeks))
    scale = plot_height / top
    columns = tuple(
        _column(week, MARGIN_LEFT + index * slot, slot, scale, baseline)
        for index, week in enumerate(weeks)
    )
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        left=MARGIN_LEFT,
        right=WIDTH - MARGIN_RIGHT,
        tick_label_x=MARGIN_LEFT - 6,
        baseline=baseline,
        label_y=HEIGHT - 10,
        columns=columns,
        ticks=ticks,
    )
