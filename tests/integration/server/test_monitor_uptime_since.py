"""Uptime spans are shown only once the history covers them (issue 11: after five minutes of
data, 24h, 7d, 30d, 90d and 1y all read the same): the API says since when the history runs
and which spans it covers, and the page shows one "since" cell for the spans not yet covered.
Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infradex.monitor import history
from infradex.monitor.service import Monitor
from infradex.store import Database
from infradex.web.health import _uptime_cells

from .test_monitor_history import CHECK, Clock, feed

FIRST = datetime(2026, 11, 26, 14, 2, 0, tzinfo=UTC)


async def test_five_minutes_of_history_cover_no_span_and_say_since_when(db: Database) -> None:
    clock = Clock(FIRST)
    await feed(Monitor(db, clock=clock), clock, "uuuud", timedelta(minutes=1))
    now = FIRST + timedelta(minutes=5)
    report = await history.uptime_report(db, CHECK.id, now)
    assert report.uptime == {"24h": 80.0, "7d": 80.0, "30d": 80.0, "90d": 80.0, "1y": 80.0}
    assert report.to_json()["uptimeSince"] == FIRST.isoformat()
    assert report.uptime_covers == dict.fromkeys(report.uptime, False)
    # the check's detail (API and page) says the same
    detail = await history.check_detail(db, CHECK.id, now)
    assert (detail.uptime_since, detail.uptime_covers) == (
        report.uptime_since,
        report.uptime_covers,
    )
    overview = (await history.overview(db, [CHECK.id], now))[CHECK.id]
    assert overview.uptime == report
    cells = str(_uptime_cells(report, now))
    assert cells == '<td colspan="5" class="uptime-since">80% since 14:02 UTC</td>'


async def test_ten_days_cover_24h_and_7d_only(db: Database) -> None:
    clock = Clock(FIRST)
    await feed(Monitor(db, clock=clock), clock, "u" * 40, timedelta(hours=6))
    now = clock.at
    report = await history.uptime_report(db, CHECK.id, now)
    assert report.to_json()["uptimeSince"] == FIRST.isoformat()
    covers = report.uptime_covers
    assert covers == {"24h": True, "7d": True, "30d": False, "90d": False, "1y": False}
    cells = str(_uptime_cells(report, now))
    assert cells == (
        '<td>100%</td><td>100%</td><td colspan="3" class="uptime-since">'
        "100% since 2026-11-26 14:02 UTC</td>"
    )


async def test_a_long_history_covers_every_span(db: Database) -> None:
    clock = Clock(FIRST)
    await feed(Monitor(db, clock=clock), clock, "u" * 1500, timedelta(hours=6))  # 375 days
    report = await history.uptime_report(db, CHECK.id, clock.at)
    assert report.uptime_covers == dict.fromkeys(report.uptime, True)
    cells = str(_uptime_cells(report, clock.at))
    assert cells.count("<td>100%</td>") == 5 and "since" not in cells


async def test_no_history_yet(db: Database) -> None:
    report = await history.uptime_report(db, CHECK.id, FIRST)
    assert report.uptime_since is None
    assert set(report.uptime_covers.values()) == {False}
    cells = str(_uptime_cells(report, FIRST))
    assert cells.count("<td>–</td>") == 5
