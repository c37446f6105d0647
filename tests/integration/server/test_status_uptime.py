"""Uptime from the stored state history, on a real store (SQLite, and PostgreSQL with
``--db postgresql``): the bars and the monthly history count outage minutes as Statuspage
does (major in full, partial 0.3, degraded as up); the server answers ``/status/uptime``
and its older pages, refuses a bad ``?page`` with what to write, keeps catalog names
inert; the export writes the pages; and ``/status`` stays small at 1,000 components."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from infradex.lint import load
from infradex.statuspage.board import StatusBoard
from infradex.statuspage.export import export_files
from infradex.statuspage.v2 import PageInfo
from infradex.store import Database
from infradex.store.tables import state_changes
from infradex.web.app import create_app

from .conftest import settings_for

#: "today" for the board: the outage day is the day before
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 12, 5, tzinfo=UTC)
HOSTILE = '<img src=x onerror=alert(1)> "Web" & co'

CATALOG = {
    "all.yaml": f"""\
    apiVersion: infradex/v1
    kind: Provider
    metadata: {{name: cdn, title: The CDN}}
    spec:
      type: cdn
      statusPage: {{name: Content Delivery Network, order: 1}}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: search}}
    spec:
      checks: [{{name: query, url: "http://127.0.0.1:9/q"}}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: web, title: internal-web-7.example.net}}
    spec:
      frontedBy: [provider:cdn]
      dependsOn: [{{ref: service:search, effect: degraded}}]
      checks:
        - {{name: home, url: "http://127.0.0.1:9/"}}
        - {{name: api, url: "http://127.0.0.1:9/api"}}
      status: {{group: Sites, name: '{HOSTILE}', order: 1}}
    """
}


def hours(value: float) -> datetime:
    return DAY + timedelta(hours=value)


def change(check: str, at: datetime, to: str, before: str = "up") -> dict[str, Any]:
    return {"check_id": check, "at": at, "from_state": before, "to_state": to, "reason": "t"}


#: the day before NOW: 30 minutes with both checks down (major), an hour with one of two
#: down (partial), an hour of the soft dependency down (degraded: counted as up)
HISTORY = [
    change("service:web/home", DAY - timedelta(days=3), "up", "pending"),
    change("service:web/api", DAY - timedelta(days=3), "up", "pending"),
    change("service:search/query", DAY - timedelta(days=3), "up", "pending"),
    change("service:web/home", hours(10), "down"),
    change("service:web/api", hours(10), "down"),
    change("service:web/home", hours(10.5), "up", "down"),
    change("service:web/api", hours(10.5), "up", "down"),
    change("service:web/api", hours(12), "down"),
    change("service:web/api", hours(13), "up", "down"),
    change("service:search/query", hours(14), "down"),
    change("service:search/query", hours(15), "up", "down"),
]


@pytest.fixture
def uptime_catalog(tmp_path: Path, write_catalog: Any) -> Path:
    return write_catalog(tmp_path / "catalog", CATALOG)  # type: ignore[no-any-return]


async def _board(db: Database, catalog_path: Path) -> StatusBoard:
    loaded = load(catalog_path)
    assert loaded.catalog is not None, loaded.errors
    catalog = loaded.catalog
    async with db.begin(writes=True) as connection:
        await connection.execute(insert(state_changes), HISTORY)
    return StatusBoard(
        db,
        lambda: (catalog, NOW - timedelta(days=10)),
        PageInfo("abcdefabcdef", "Example Status", "https://status.example.org"),
        stale_after=timedelta(days=30),
        interval=0.0,
        clock=lambda: NOW,
        uptime=True,
        uptime_every=0.0,
    )


async def test_outage_minutes_weigh_major_fully_partial_by_three_tenths_degraded_not(
    db: Database, uptime_catalog: Path
) -> None:
    board = await _board(db, uptime_catalog)
    rendered = await board.current()
    counted = await board.count()
    components = {c.component.name: c.component.id for c in rendered.snapshot.page.components}
    day = next(d for d in counted.days[components[HOSTILE]] if d.day == DAY.date())
    assert (day.major_minutes, day.partial_minutes, day.degraded) == (30, 60, 3600.0)
    assert day.uptime() == pytest.approx(1 - (30 + 0.3 * 60) / 1440)
    # the CDN has no check and nothing checked upstream: counted from its derived state
    # while the monitor reports (four and a half days here), all operational
    cdn = counted.days[components["Content Delivery Network"]]
    assert sum(d.observed for d in cdn) == pytest.approx(4.5 * 86400)
    assert [d.uptime() for d in cdn[-4:]] == [1.0, 1.0, 1.0, 1.0]

    html = rendered.html.decode()
    # the bars: the component's and its group's, each one SVG with its text alternative
    assert html.count('<svg class="bars"') == 3
    words = "2026-12-05: 30 min major outage, 60 min partial outage"
    assert html.count(f"Outages: {words}</title>") == 2  # the component, and its group
    assert "99.25 % uptime</span>" in html  # 48 lost minutes out of 4.5 days observed
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "internal-web-7" not in html

    page = rendered.pages["/status/uptime"].decode()
    assert f'<td class="ma" title="{words}">5</td>' in page  # 96.66 %: under 99
    assert "<li>5 Dec: 30 min major outage, 60 min partial outage</li>" in page
    assert 'December 2026 <span class="month-uptime">99.25 %</span>' in page
    assert "October 2026" in page and "?page=2" not in page  # three months; no older data
    assert HOSTILE not in page and "internal-web-7" not in page
    assert "<script" not in page.lower()


async def test_the_server_answers_the_uptime_history_and_refuses_a_bad_page(
    db: Database, uptime_catalog: Path, tmp_path: Path, database_url: str
) -> None:
    async with db.begin(writes=True) as connection:
        old = [change("service:web/home", datetime.now(UTC) - timedelta(days=200), "up", "pending")]
        await connection.execute(insert(state_changes), old)
    settings = replace(
        settings_for(uptime_catalog, tmp_path, database_url),
        public_read=False,
        status_host="status.example.org",
    )
    app = create_app(settings, db)
    public = {"Host": "status.example.org"}
    async with app.router.lifespan_context(app):
        app.state.status_board.interval = 0.0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            status = await c.get("/status", headers=public)
            assert status.status_code == 200
            assert '<a href="/status/uptime">Uptime history</a>' in status.text
            first = await c.get("/status/uptime", headers=public)
            assert first.status_code == 200, first.text
            assert '<a href="/status/uptime?page=2" rel="next">Older months</a>' in first.text
            second = await c.get("/status/uptime?page=2", headers=public)
            assert second.status_code == 200
            assert "Uptime history, page 2" in second.text and second.text != first.text
            assert 'rel="prev">Newer months</a>' in second.text
            for bad in ("abc", "0", "-1", "2.5"):
                refused = await c.get(f"/status/uptime?page={bad}", headers=public)
                assert refused.status_code == 400, bad
                assert "?page= takes a page number: 1 for the last three months" in refused.text
            beyond = await c.get("/status/uptime?page=9", headers=public)
            assert beyond.status_code == 404
            assert "There is no page 9" in beyond.text
            # the private server's own host wants sign-in for it, as for the rest
            private = await c.get("/status/uptime?page=2")
            assert private.status_code in (302, 303, 401), private.status_code
            history = await c.get("/status/history", headers=public)
            assert '<a href="/status/uptime">Uptime history</a>' in history.text
        files = export_files(await app.state.status_board.current())
    assert files["status/uptime/index.html"] == first.content
    assert files["status/uptime/page-2/index.html"] == second.content


def _many(components: int) -> dict[str, str]:
    docs = []
    for number in range(components):
        fronted = "  frontedBy: [provider:cdn]\n" if number % 10 < 3 else ""
        docs.append(
            f"apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: svc-{number:04d}}}\n"
            f'spec:\n{fronted}  checks: [{{name: home, url: "http://127.0.0.1:9/{number}"}}]\n'
            f"  status: {{group: Group {number // 20:02d}, description: Service number "
            f"{number}, order: {number % 20 + 1}}}\n"
        )
    docs.append(
        "apiVersion: infradex/v1\nkind: Provider\nmetadata: {name: cdn}\n"
        "spec:\n  type: cdn\n  statusPage: {name: Content Delivery Network}\n"
        '  checks: [{name: edge, url: "http://127.0.0.1:9/edge"}]\n'
    )
    return {"all.yaml": "---\n".join(docs)}


async def test_the_page_of_a_thousand_components_stays_under_2_5_mb(
    db: Database, tmp_path: Path, write_catalog: Any
) -> None:
    """Every component with 90 days of history and an outage on one day in seven: the
    bars are one small SVG per component (10.9 MB before, a <rect> and <title> per day)."""
    loaded = load(write_catalog(tmp_path / "many", _many(999)))
    assert loaded.catalog is not None
    start = NOW - timedelta(days=95)
    rows = [change(f"service:svc-{n:04d}/home", start, "up", "pending") for n in range(999)]
    rows.append(change("provider:cdn/edge", start, "up", "pending"))
    for n in range(999):
        for week in range(13):
            at = start + timedelta(days=7 * week + n % 7, hours=n % 24)
            rows.append(change(f"service:svc-{n:04d}/home", at, "down"))
            rows.append(change(f"service:svc-{n:04d}/home", at + timedelta(minutes=20), "up"))
    async with db.begin(writes=True) as connection:
        await connection.execute(insert(state_changes), rows)
    catalog = loaded.catalog
    board = StatusBoard(
        db,
        lambda: (catalog, NOW),
        PageInfo("abcdefabcdef", "Example Status", "https://status.example.org"),
        stale_after=timedelta(days=30),
        clock=lambda: NOW,
        uptime=True,
    )
    html = (await board.current()).html
    assert len(html) < 2_500_000, len(html)
    assert html.count(b'<svg class="bars"') == 999 + 50 + 1  # components, groups, the CDN
    titles = re.findall(rb"<title>([^<]*)</title>", html)
    assert sum(b"min major outage" in t for t in titles) >= 999
    print(f"/status with 1,000 components: {len(html):,} bytes")
