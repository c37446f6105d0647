"""The uptime history (``/status/uptime``): per public component, per month (three a page,
newest first, ``?page=2`` for the three before), the month's uptime, a calendar of its days
coloured by the same rule as the bars, and the outage minutes in words. Pure; the page's
stylesheet, no script (docs/status-page.md, "Uptime")."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Mapping, Sequence
from datetime import date

from markupsafe import Markup, escape

from infradex.statuspage.bars import day_class, day_words, percent
from infradex.statuspage.components import Layout
from infradex.statuspage.html import document
from infradex.statuspage.outages import Day, Uptime, span_uptime
from infradex.statuspage.paths import HISTORY_PATH, STATUS_PATH, uptime_page_path
from infradex.statuspage.v2 import PageInfo

__all__ = [
    "MONTHS_PER_PAGE",
    "PAGES",
    "page_months",
    "render_uptime_page",
    "render_uptime_pages",
]

MONTHS_PER_PAGE = 3
#: how many pages back the history goes (a year)
PAGES = 4
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: a calendar day's class (short: a page has a thousand components of ninety days each)
_CELL = {
    "bar-up": "up",
    "bar-minor": "mi",
    "bar-major": "ma",
    "bar-down": "dn",
    "bar-maintenance": "mt",
    "bar-none": "no",
}


def _months_back(today: date, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def page_months(today: date, page: int) -> list[tuple[int, int]]:
    """The (year, month) pairs of a page, newest first; page 1 ends with ``today``'s."""
    months = _months_back(today, MONTHS_PER_PAGE * page)
    return months[MONTHS_PER_PAGE * (page - 1) :]


def _page_count(uptime: Uptime) -> int:
    """Pages back to the oldest month with something observed (at least one, at most
    :data:`PAGES`)."""
    oldest = None
    for days in uptime.days.values():
        for day in days:
            if day.observed or day.maintenance:
                oldest = day.day if oldest is None else min(oldest, day.day)
                break
    if oldest is None:
        return 1
    months = (uptime.last.year - oldest.year) * 12 + uptime.last.month - oldest.month + 1
    return max(1, min(PAGES, -(-months // MONTHS_PER_PAGE)))


_HEAD = "<thead><tr>" + "".join(f"<th>{d[:2]}</th>" for d in _WEEKDAYS) + "</tr></thead>"


@functools.lru_cache(maxsize=64)
def _weeks(year: int, month: int) -> tuple[tuple[date, ...], ...]:
    return tuple(map(tuple, calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)))


def _cell(day: date, found: Day | None) -> str:
    words = day_words(found) if found is not None else ""
    title = f' title="{day.isoformat()}: {words}"' if words else ""
    return f'<td class="{_CELL[day_class(found)]}"{title}>{day.day}</td>'


def _calendar(
    year: int,
    month: int,
    days: Mapping[date, Day],
    today: date,
    cells: dict[object, str] | None = None,
) -> str:
    """A month's days, Monday first (numbers and fixed class names only: built as text,
    a thousand components' calendars are ninety thousand cells); ``cells``: each day's
    cell by the day's ``id``, and each week's row by its month and its days' ``id``s
    (days are shared: a cell or a row is the same for each)."""
    rows = []
    for week in _weeks(year, month):
        if week[0] > today:
            break  # weeks still to come
        found = [days.get(day) for day in week]
        key = (year, month, *map(id, found)) if cells is not None else None
        row = cells.get(key) if cells is not None else None
        if row is None:
            row = "<tr>" + "".join(_cells(year, month, week, found, today, cells)) + "</tr>"
            if cells is not None:
                cells[key] = row
        rows.append(row)
    return f'<table class="calendar">{_HEAD}<tbody>{"".join(rows)}</tbody></table>'


def _cells(
    year: int,
    month: int,
    week: Sequence[date],
    found: Sequence[Day | None],
    today: date,
    cells: dict[object, str] | None,
) -> list[str]:
    row = []
    for day, day_found in zip(week, found, strict=True):
        if day.month != month or day > today:
            row.append("<td></td>")
        elif day_found is None or cells is None:
            row.append(_cell(day, day_found))
        else:
            cell = cells.get(id(day_found))
            if cell is None:
                cell = cells[id(day_found)] = _cell(day, day_found)
            row.append(cell)
    return row


def _month(
    year: int,
    month: int,
    inside: Sequence[Day],
    today: date,
    cells: dict[object, str] | None = None,
) -> str:
    """One month of one component; ``inside``: its days of that month."""
    uptime = span_uptime(inside)
    label = date(year, month, 1).strftime("%B %Y")
    shown = percent(uptime) if uptime is not None else "no data"
    troubled = [d for d in inside if (d.major or d.partial or d.maintenance) and day_words(d)]
    if troubled:
        items = "".join(f"<li>{d.day.day} {d.day:%b}: {day_words(d)}</li>" for d in troubled)
        outages = f'<ul class="outage-days">{items}</ul>'
    else:
        outages = '<p class="quiet">No outage.</p>' if uptime is not None else ""
    table = _calendar(year, month, {d.day: d for d in inside}, today, cells)
    return (
        f'<div class="month"><h4>{label} <span class="month-uptime">{shown}</span></h4>'
        f"{table}{outages}</div>"
    )


def by_month(days: Sequence[Day]) -> dict[tuple[int, int], list[Day]]:
    """A component's days by (year, month)."""
    found: dict[tuple[int, int], list[Day]] = {}
    for day in days:
        found.setdefault((day.day.year, day.day.month), []).append(day)
    return found


class _Months:
    """A component's days of a month, and each month's markup once per set of days: days
    that are the same object (a day up all day is one per date, shared by every
    component: ``outages.uptime_history``) give the same calendar, drawn once a page."""

    def __init__(self, uptime: Uptime) -> None:
        self.uptime = uptime
        self.span = (uptime.last - uptime.first).days + 1
        self.drawn: dict[tuple[int, ...], str] = {}
        self.cells: dict[object, str] = {}  # calendar cells and rows (_calendar)
        self.scanned: dict[str, dict[tuple[int, int], list[Day]]] = {}

    def days(self, key: str, year: int, month: int) -> Sequence[Day]:
        days = self.uptime.days.get(key, ())
        if len(days) != self.span or not days or days[0].day != self.uptime.first:
            if key not in self.scanned:  # not one day per date from first to last
                self.scanned[key] = by_month(days)
            return self.scanned[key].get((year, month), ())
        first = self.uptime.first
        following = date(year + month // 12, month % 12 + 1, 1)
        low = max(0, (date(year, month, 1) - first).days)
        return days[low : max(low, (following - first).days)]

    def markup(self, year: int, month: int, inside: Sequence[Day], today: date) -> str:
        key = (year, month, *map(id, inside))
        drawn = self.drawn.get(key)
        if drawn is None:
            drawn = self.drawn[key] = _month(year, month, inside, today, self.cells)
        return drawn


def _component(
    key: str, name: str, months: Sequence[tuple[int, int]], today: date, memo: _Months
) -> Markup:
    drawn = "".join(memo.markup(y, m, memo.days(key, y, m), today) for y, m in months)
    # escape() as Markup.format would, without its formatter (four thousand of these a page)
    name = escape(name)
    return Markup(
        f'<section class="uptime-component" id="component-{escape(key)}" aria-label="{name}">'
        f'<h3>{name}</h3><div class="months">{drawn}</div></section>'
    )


def _nav_pages(page: int, count: int) -> Markup:
    links = []
    if page > 1:
        links.append(Markup('<a href="{}" rel="prev">Newer months</a>').format(
            uptime_page_path(page - 1)))  # fmt: skip
    if page < count:
        links.append(Markup('<a href="{}" rel="next">Older months</a>').format(
            uptime_page_path(page + 1)))  # fmt: skip
    if not links:
        return Markup("")
    return Markup('<nav class="pages" aria-label="Months">{}</nav>').format(
        Markup(" · ").join(links)
    )


def render_uptime_page(
    info: PageInfo,
    layout: Layout,
    uptime: Uptime,
    page: int,
    count: int,
    memo: _Months | None = None,
) -> str:
    """Page ``page`` of ``count`` (``memo``: what the other pages drew already)."""
    memo = memo if memo is not None else _Months(uptime)
    today = uptime.last
    months = page_months(today, page)
    grouped: dict[str, list[Markup]] = {}
    order: list[tuple[int, Markup]] = []
    for component in layout.components:
        if not component.public:
            continue
        rendered = _component(component.id, component.name, months, today, memo)
        if component.group is None:
            order.append((component.position, rendered))
        else:
            grouped.setdefault(component.group, []).append(rendered)
    for group in layout.groups:
        members = grouped.get(group.name)
        if members:
            block = Markup('<section class="uptime-group"><h2>{}</h2>{}</section>').format(
                group.name, Markup("").join(members)
            )
            order.append((group.position, block))
    sections = [block for _, block in sorted(order, key=lambda item: item[0])]
    first, last = months[-1], months[0]
    span = f"{date(*first, 1):%B %Y} to {date(*last, 1):%B %Y}"
    body = Markup(
        '<nav class="crumbs" aria-label="Status page"><a href="{status}">{name}</a>'
        '<a href="{history}">Incident history</a></nav>'
        "<header><h1>Uptime history</h1></header>"
        '<p class="quiet">{span}. A day\'s uptime is the time not in outage out of the time '
        "observed: a minute of partial outage counts as 0.3 of a minute of major outage, "
        "degraded performance counts as up, and maintenance is left out. All times UTC.</p>"
        '{nav}<div class="uptime-history">{sections}</div>{nav}'
    ).format(
        status=STATUS_PATH,
        name=info.name,
        history=HISTORY_PATH,
        span=span,
        nav=_nav_pages(page, count),
        sections=Markup("").join(sections) or Markup('<p class="quiet">No public components.</p>'),
    )
    title = "Uptime history" if page == 1 else f"Uptime history, page {page}"
    return document(f"{title} · {info.name}", body)


def render_uptime_pages(info: PageInfo, layout: Layout, uptime: Uptime) -> dict[str, bytes]:
    """Every page of the history by its path (``/status/uptime``, ``…?page=2``, …)."""
    count = _page_count(uptime)
    memo = _Months(uptime)
    return {
        uptime_page_path(page): render_uptime_page(info, layout, uptime, page, count, memo).encode()
        for page in range(1, count + 1)
    }
