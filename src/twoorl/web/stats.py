"""/stats: totals and per-day charts, drawn server-side as accessible inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date, format_skeleton
from fastapi import APIRouter, Request
from fastapi.responses import Response

from twoorl import i18n
from twoorl.i18n import _, ngettext
from twoorl.runtime.http import ServicesDep
from twoorl.stats import service as stats
from twoorl.stats.charts import Bar, Geometry, Tick, bar_geometry
from twoorl.storage.types import utcnow
from twoorl.web.templating import number, render

router = APIRouter()
RANGES = (7, 30)


@dataclass(frozen=True)
class ChartBar:
    bar: Bar
    day: date
    short_label: str  # on the axis
    long_label: str  # in the bar's title and the data table
    value_label: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    geometry: Geometry
    bars: list[ChartBar]
    ticks: list[tuple[Tick, str]]


def _chart_titles() -> dict[str, str]:
    return {
        stats.REGISTRATIONS: _("Registrations per day"),
        stats.POSTS: _("Posts per day"),
        stats.POSTERS: _("Active posters per day"),
    }


def build_chart(chart_id: str, title: str, days: list[date], values: list[int]) -> Chart:
    locale = i18n.parsed_locale(i18n.current_locale())
    geometry = bar_geometry(values)
    bars = [
        ChartBar(
            bar=bar,
            day=day,
            short_label=format_skeleton("MMMd", day, locale=locale),
            long_label=format_date(day, format="medium", locale=locale),
            value_label=number(bar.value),
        )
        for bar, day in zip(geometry.bars, days, strict=True)
    ]
    description = _("%(first)s to %(last)s: %(total)s in all, at most %(most)s on one day.") % {
        "first": bars[0].long_label,
        "last": bars[-1].long_label,
        "total": number(sum(values)),
        "most": number(max(values)),
    }
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        geometry=geometry,
        bars=bars,
        ticks=[(tick, number(tick.value)) for tick in geometry.ticks],
    )


def _cache(request: Request) -> stats.FiguresCache:
    # One per app (so per process): tests build many apps in one process.
    cache = getattr(request.app.state, "stats_cache", None)
    if cache is None:
        cache = request.app.state.stats_cache = stats.FiguresCache()
    return cache


@router.get("/stats")
async def stats_page(request: Request, svc: ServicesDep) -> Response:
    today = utcnow().date()
    figures = await _cache(request).get(today, lambda: stats.read_figures(svc.shards, today))
    titles = _chart_titles()
    sections = []
    for count in RANGES:
        days, series = figures.last(count)
        sections.append(
            {
                "id": f"last-{count}",
                "heading": ngettext("Last %(count)d day", "Last %(count)d days", count)
                % {"count": count},
                "charts": [
                    build_chart(f"chart-{metric}-{count}", titles[metric], days, series[metric])
                    for metric in stats.DAILY_METRICS
                ],
            }
        )
    return render(
        request,
        "stats.html",
        {"title": _("Statistics"), "figures": figures, "sections": sections},
    )
