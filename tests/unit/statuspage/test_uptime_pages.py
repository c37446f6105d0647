"""The compact 90-day bars and the uptime history's pages: colours by Statuspage's rule, the
uptime and the outage days in words, three months a page and older pages while there is
data, catalog names inert."""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta

from infradex.catalog.refs import parse_ref
from infradex.statuspage.bars import DAYS, day_class, percent, render_all_bars, render_bars
from infradex.statuspage.components import Component, Group, Layout
from infradex.statuspage.outages import Day, Uptime
from infradex.statuspage.uptime_html import page_months, render_uptime_pages
from infradex.statuspage.v2 import PageInfo

TODAY = date(2026, 12, 6)
HOSTILE = '<img src=x onerror=alert(1)> & "quotes"'
INFO = PageInfo("abcdefabcdef", "Example <b>Status</b>", "https://status.example.org")
WEB = Component(parse_ref("service:web"), "c0ffee000001", HOSTILE, "<i>Sites</i>", None, True,
                False, 1)  # fmt: skip
HIDDEN = Component(parse_ref("service:db"), "c0ffee000002", "Internal database", None, None,
                   False, False, 2)  # fmt: skip
LAYOUT = Layout((WEB, HIDDEN), (Group("<i>Sites</i>", "c0ffee0000g1", (WEB,), 1),))


def full(day: date, major: float = 0, partial: float = 0, maintenance: float = 0) -> Day:
    """A day observed whole; minutes of major and partial outage, of maintenance."""
    return Day(day, observed=86400 - maintenance * 60, major=major * 60, partial=partial * 60,
               maintenance=maintenance * 60)  # fmt: skip


def test_a_day_is_coloured_by_its_weighted_outage() -> None:
    assert day_class(None) == "bar-none"
    assert day_class(Day(TODAY)) == "bar-none"
    assert day_class(full(TODAY)) == "bar-up"
    assert day_class(full(TODAY, major=1)) == "bar-up"  # 99.93 %
    assert day_class(full(TODAY, partial=60)) == "bar-major"  # 18 weighted minutes: 98.75 %
    assert day_class(full(TODAY, partial=30)) == "bar-minor"  # 9 minutes: 99.375 %
    assert day_class(full(TODAY, major=30)) == "bar-major"  # 97.9 %
    assert day_class(full(TODAY, major=150)) == "bar-down"  # 89.6 %
    assert day_class(Day(TODAY, maintenance=3600)) == "bar-maintenance"
    assert percent(1.0) == "100 %" and percent(0.99999) == "99.99 %"  # never rounded up


def test_the_bars_are_one_small_svg_with_their_text_alternative() -> None:
    days = [full(TODAY - timedelta(days=i)) for i in range(59, -1, -1)]  # 60 days known
    days[-3] = full(days[-3].day, major=30, partial=60)
    markup = str(render_bars(days))
    assert markup.count("<svg") == 1 and "<rect" not in markup and "style=" not in markup
    assert len(markup) < 1300  # 90 days: one stroke each, a path per colour
    strokes = sum(d.count("v34") for d in re.findall(r'd="([^"]*)"', markup))
    assert strokes == DAYS
    assert '<path class="bar-none" d="M4 0v34m10-34v34' in markup  # the 30 days before data
    title = re.search(r"<title>(.*)</title>", markup)
    assert title is not None
    assert title.group(1) == (
        "99.94 % uptime over the last 60 days. Outages: 2026-12-04: 30 min major outage, "
        "60 min partial outage"
    )
    assert "<span>99.94 % uptime</span>" in markup


def test_three_months_a_page() -> None:
    assert page_months(TODAY, 1) == [(2026, 12), (2026, 11), (2026, 10)]
    assert page_months(TODAY, 2) == [(2026, 9), (2026, 8), (2026, 7)]
    assert page_months(date(2026, 2, 1), 1) == [(2026, 2), (2026, 1), (2025, 12)]


def _uptime(days_back: int) -> Uptime:
    first = TODAY - timedelta(days=days_back)
    days = [full(first + timedelta(days=i)) for i in range(days_back + 1)]
    days[-10] = full(days[-10].day, major=45)
    return Uptime(first, TODAY, {WEB.id: days, HIDDEN.id: days})


def test_the_history_pages_go_back_while_there_is_data_with_names_inert() -> None:
    pages = render_uptime_pages(INFO, LAYOUT, _uptime(40))
    assert list(pages) == ["/status/uptime"]
    page = pages["/status/uptime"].decode()
    assert HOSTILE not in page and "<img" not in page and "<i>" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quotes&#34;" in page
    assert "Internal database" not in page  # not public
    assert page.count('<table class="calendar">') == 3
    assert '<td class="ma" title="2026-11-27: 45 min major outage">27</td>' in page
    assert "<li>27 Nov: 45 min major outage</li>" in page
    assert "<script" not in page and "Older months" not in page
    older = render_uptime_pages(INFO, LAYOUT, _uptime(200))
    assert list(older) == ["/status/uptime", "/status/uptime?page=2", "/status/uptime?page=3"]
    assert 'href="/status/uptime?page=2" rel="next"' in older["/status/uptime"].decode()
    last = older["/status/uptime?page=3"].decode()
    assert 'href="/status/uptime?page=2" rel="prev"' in last and 'rel="next"' not in last
    assert "April 2026 to June 2026" in last


def test_days_shared_between_components_draw_what_copies_would() -> None:
    """The days up all day are one object per date for every component (outages.py):
    the pages and bars draw each shared month, cell and bar once, and must draw exactly
    what separate copies of the days give."""
    other = Component(parse_ref("service:api"), "c0ffee000003", "API", "<i>Sites</i>", None,
                      True, False, 3)  # fmt: skip
    both = Layout((WEB, other), (Group("<i>Sites</i>", "c0ffee0000g1", (WEB, other), 1),))
    first = TODAY - timedelta(days=200)
    shared = [full(first + timedelta(days=i)) for i in range(201)]
    mine, theirs = list(shared), list(shared)
    mine[-10] = full(mine[-10].day, major=45)  # the same month, another day
    theirs[-12] = full(theirs[-12].day, partial=200)
    theirs[-150] = full(theirs[-150].day, maintenance=30)
    days = {WEB.id: mine, other.id: theirs, "c0ffee0000g1": shared}
    copies = {key: [copy.copy(d) for d in found] for key, found in days.items()}
    drawn = render_uptime_pages(INFO, both, Uptime(first, TODAY, days))
    assert drawn == render_uptime_pages(INFO, both, Uptime(first, TODAY, copies))
    page = drawn["/status/uptime"].decode()
    assert len(drawn) == 3 and 'title="2026-11-25: 200 min partial outage"' in page
    assert 'title="2026-11-27: 45 min major outage"' in page
    assert render_all_bars(days) == {key: render_bars(found) for key, found in copies.items()}
