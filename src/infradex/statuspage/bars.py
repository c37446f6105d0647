"""The 90 daily bars of one component or group on ``/status``, compact: one small inline
SVG with one path per colour (a day is one stroke), its text alternative (the 90-day
uptime and the days with outages) as its title, and the uptime in words under it. Colours
come from the stylesheet; no script, no inline style. Pure; dates and numbers only, nothing
to escape (docs/status-page.md, "Uptime")."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup

from infradex.monitor.rollups import uptime_band
from infradex.statuspage.outages import Day, span_uptime

__all__ = ["DAYS", "day_class", "day_words", "percent", "render_all_bars", "render_bars"]

DAYS = 90
#: how many days with outages the bars' title names (the newest; the rest are counted)
NAMED_DAYS = 5
_STEP, _HEIGHT = 10, 34


def day_class(day: Day | None) -> str:
    """A day's colour: no data, all up, under 99.9 %, under 99 %, under 90 %, maintenance."""
    uptime = None if day is None else day.uptime()
    if uptime is None:
        return "bar-maintenance" if day is not None and day.maintenance > 0 else "bar-none"
    return f"bar-{uptime_band(uptime)}"  # the console's bands


def percent(uptime: float) -> str:
    """``99.97 %``, never rounded up to 100 (a day with a minute of outage is not 100 %)."""
    return f"{math.floor(uptime * 10000) / 100:.2f} %" if uptime < 1 else "100 %"


def day_words(day: Day) -> str:
    """What went wrong in a day, in minutes: "30 min major outage, 12 min partial outage"."""
    if not (day.major or day.partial or day.maintenance):
        return ""  # most days: nothing to say
    parts = []
    if day.major_minutes:
        parts.append(f"{day.major_minutes} min major outage")
    if day.partial_minutes:
        parts.append(f"{day.partial_minutes} min partial outage")
    if day.maintenance_minutes:
        parts.append(f"{day.maintenance_minutes} min maintenance")
    return ", ".join(parts)


def _summary(days: Sequence[Day], uptime: float | None) -> str:
    head = (
        f"{percent(uptime)} uptime over the last {len(days)} days"
        if uptime is not None
        else f"No uptime known for the last {len(days)} days"
    )
    troubled = [d for d in reversed(days) if d.major_minutes or d.partial_minutes]
    if not troubled:
        return head + ("; no outage" if uptime is not None else "")
    named = "; ".join(f"{d.day.isoformat()}: {day_words(d)}" for d in troubled[:NAMED_DAYS])
    more = len(troubled) - NAMED_DAYS
    rest = f"; and {more} more day{'s' if more > 1 else ''}" if more > 0 else ""
    return f"{head}. Outages: {named}{rest}"


def render_bars(days: Sequence[Day], classes: dict[int, str] | None = None) -> Markup:
    """The bars of ``days`` (oldest first, at most :data:`DAYS`; missing old days are grey),
    and the uptime in words; ``classes``: each day's class by its ``id``, for days shared
    by many bars (``outages.uptime_history`` shares the days up all day)."""
    days = list(days)[-DAYS:]
    offset = DAYS - len(days)
    runs: dict[str, list[str]] = {}
    previous: dict[str, int] = {}
    for index in range(DAYS):
        day = days[index - offset] if index >= offset else None
        if day is None or classes is None:
            css = day_class(day)
        else:
            css = classes.get(id(day)) or classes.setdefault(id(day), day_class(day))
        path = runs.setdefault(css, [])
        if previous.get(css) == index - 1:
            path.append(f"m{_STEP}-{_HEIGHT}v{_HEIGHT}")
        else:
            path.append(f"M{index * _STEP + 4} 0v{_HEIGHT}")
        previous[css] = index
    paths = "".join(f'<path class="{css}" d="{"".join(d)}"/>' for css, d in runs.items())
    uptime = span_uptime(days)
    summary = _summary(days, uptime)
    shown = f"{percent(uptime)} uptime" if uptime is not None else "No data"
    return Markup(
        f'<svg class="bars" viewBox="0 0 {DAYS * _STEP - 2} {_HEIGHT}" role="img" '
        f'preserveAspectRatio="none"><title>{summary}</title>{paths}</svg>'
        f'<p class="legend"><span>{DAYS} days ago</span><span>{shown}</span>'
        "<span>Today</span></p>"
    )


def render_all_bars(days: Mapping[str, Sequence[Day]]) -> dict[str, Markup]:
    """The bars of each component or group by its key (the last :data:`DAYS` of its days);
    those whose days are the same objects are drawn once."""
    drawn: dict[tuple[int, ...], Markup] = {}
    classes: dict[int, str] = {}
    found = {}
    for key, theirs in days.items():
        last = theirs[-DAYS:]
        same = tuple(map(id, last))
        bars = drawn.get(same)
        if bars is None:
            bars = drawn[same] = render_bars(last, classes)
        found[key] = bars
    return found
