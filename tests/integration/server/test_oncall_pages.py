"""On call on the web: /oncall, a schedule's page with its timeline, and the calendar feeds
with their tokens (shown only to signed-in people; a wrong or missing token is 403).

The pages ask the clock through ``infradex.web.oncall.utcnow``, frozen here."""

from __future__ import annotations

import re
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from infradex.clock import utcnow
from infradex.oncall.schedules import Shift
from infradex.settings import embedded_example
from infradex.store import Database
from infradex.store.users import create_user
from infradex.web import oncall
from infradex.web.app import create_app
from infradex.web.oncall import feed_token

from .conftest import settings_for

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Saturday; Amsterdam changes to CEST tomorrow
PASSWORD = "correct horse battery staple"
SECRET = "test-secret"  # settings_for's

SMALL = """\
apiVersion: infradex/v1
kind: Person
metadata: {name: ann, title: "Ann <b>Example</b>"}
spec: {email: ann@example.org}
---
apiVersion: infradex/v1
kind: Person
metadata: {name: bob, title: Bob Example}
spec: {handles: {github: bob-gh}}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {name: office, title: Office hours, description: Weekdays only.}
spec:
  timezone: Europe/Amsterdam
  layers:
    - name: weekdays
      members: [person:ann, person:bob]
      rotation: daily
      handoff: "09:00"
      start: "2026-01-01T09:00"
      restrictions: [{days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}]
"""


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oncall, "utcnow", lambda: NOW)


@pytest.fixture
async def small_client(
    db: Database, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "catalog.yaml").write_text(textwrap.dedent(SMALL), encoding="utf-8")
    app = create_app(settings_for(catalog, tmp_path, database_url), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _sign_in(client: httpx.AsyncClient, db: Database) -> None:
    await create_user(db, "ee", PASSWORD, utcnow())
    form = await client.get("/login")
    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert match
    signed_in = await client.post(
        "/login", data={"username": "ee", "password": PASSWORD, "csrf": match.group(1)}
    )
    assert signed_in.status_code == 303


def _events(response: httpx.Response) -> list[Calendar]:
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


# ------------------------------------------------------------------------------ /oncall
async def test_oncall_lists_every_schedule_now_and_next(client: httpx.AsyncClient) -> None:
    page = await client.get("/oncall")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert 'href="oncall/infra-staff"' in text and 'href="oncall/infra-volunteers"' in text
    assert "Ee Durbin (layer staff)" in text and "github: ewdurbin" in text
    assert "Donald Stufft (layer volunteers)" in text
    assert "Mon 30 Mar 09:00 UTC (in 1 d 21 h)" in text
    assert "Noah Kantrowitz until Mon 06 Apr 09:00 UTC" in text
    assert "Gaps in the next 7 days" in text and "someone is always on call" in text
    assert "<script" not in text


async def test_the_navigation_links_to_oncall_and_incidents(client: httpx.AsyncClient) -> None:
    home = (await client.get("/")).text
    assert '<a href="oncall">On call</a>' in home and '<a href="incidents">Incidents</a>' in home
    assert '<a href="../oncall">On call</a>' in (await client.get("/services/docs")).text


async def test_feeds_work_on_a_private_server_with_their_token(
    db: Database, tmp_path: Path, database_url: str
) -> None:
    from dataclasses import replace

    settings = replace(settings_for(embedded_example(), tmp_path, database_url), public_read=False)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            token = feed_token(SECRET, "schedule:infra-volunteers")
            feed = await c.get(f"/oncall/infra-volunteers.ics?token={token}")
            assert feed.status_code == 200 and _events(feed)
            assert (await c.get("/oncall/infra-volunteers.ics?token=nope")).status_code == 403
            assert (await c.get("/oncall/infra-volunteers")).status_code == 303  # the page


async def test_oncall_shows_gaps(small_client: httpx.AsyncClient) -> None:
    text = (await small_client.get("/oncall")).text
    # Saturday noon: nobody until Monday 09:00 (CEST by then)
    assert "<strong>nobody on call</strong>" in text
    assert "Mon 30 Mar 09:00 CEST" in text
    assert "Sat 13:00–Mon 09:00 CET" in text  # the gap, as coverage_gaps describes it


# ------------------------------------------------------------------------------ one schedule
async def test_schedule_page_has_a_timeline_and_shifts(client: httpx.AsyncClient) -> None:
    page = await client.get("/oncall/infra-volunteers")
    assert page.status_code == 200
    text = page.text
    assert "<svg" in text and 'class="chart oncall-timeline"' in text
    assert text.count('<text x="0"') == 14  # a row per day
    assert 'class="oncall-now"' in text
    assert 'class="oncall-legend"' in text and "Donald Stufft</li>" in text
    # the first shift with its real start, then the next ones
    assert "Mon 23 Mar 09:00 UTC" in text and "Mon 06 Apr 09:00 UTC" in text
    assert 'href="../index#schedule-infra-volunteers"' in text


async def test_the_timeline_marks_gaps_and_escapes_names(small_client: httpx.AsyncClient) -> None:
    text = (await small_client.get("/oncall/office")).text
    assert 'class="oncall-gap"' in text and "nobody on call" in text
    assert "<b>Example</b>" not in text and "Ann &lt;b&gt;Example&lt;/b&gt;" in text
    # the gap began on Friday at 17:00 CET (16:00 UTC) and ends on Monday at 09:00 CEST,
    # which is 07:00 UTC: an hour earlier than Friday's 09:00 CET
    assert "2026-03-27 16:00 – 2026-03-30 07:00" in text
    assert "2026-03-30 07:00 – 2026-03-30 15:00" in text
    assert "Fri 27 Mar 17:00 CET" in text and "Mon 30 Mar 09:00 CEST" in text


async def test_unknown_schedule_page_lists_the_schedules(client: httpx.AsyncClient) -> None:
    page = await client.get("/oncall/nope")
    assert page.status_code == 404
    assert "No such schedule" in page.text and 'href="../oncall/infra-staff"' in page.text


async def test_feed_links_only_for_signed_in_people(
    client: httpx.AsyncClient, db: Database
) -> None:
    anonymous = (await client.get("/oncall/infra-volunteers")).text
    assert "token=" not in anonymous and "to get a calendar link" in anonymous
    assert 'href="../login?next=/oncall/infra-volunteers"' in anonymous
    await _sign_in(client, db)
    signed_in = await client.get("/oncall/infra-volunteers")
    assert signed_in.headers["cache-control"] == "no-store"
    token = feed_token(SECRET, "schedule:infra-volunteers")
    assert f"http://testserver/oncall/infra-volunteers.ics?token={token}" in signed_in.text
    person = feed_token(SECRET, "person:donald-stufft")
    assert f"http://testserver/oncall/people/donald-stufft.ics?token={person}" in signed_in.text


# ------------------------------------------------------------------------------ feeds
def test_the_token_is_an_hmac_of_the_reference() -> None:
    token = feed_token(SECRET, "schedule:infra-staff")
    assert len(token) == 32 and re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert token != feed_token(SECRET, "schedule:infra-volunteers")
    assert token != feed_token("another secret", "schedule:infra-staff")


async def test_schedule_feed_with_the_right_token(client: httpx.AsyncClient) -> None:
    token = feed_token(SECRET, "schedule:infra-volunteers")
    feed = await client.get("/oncall/infra-volunteers.ics", params={"token": token})
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    events = _events(feed)
    assert len(events) >= 9  # a week back and 60 days ahead, weekly shifts
    summaries = {str(e["SUMMARY"]) for e in events}
    assert "On call: Donald Stufft (Infrastructure volunteers (backup))" in summaries
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert all(e.decoded("DTSTAMP") == NOW for e in events)


async def test_person_feed_with_the_right_token(client: httpx.AsyncClient) -> None:
    token = feed_token(SECRET, "person:ee-durbin")
    feed = await client.get("/oncall/people/ee-durbin.ics", params={"token": token})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    (event,) = _events(feed)
    assert str(event["SUMMARY"]) == "On call: Ee Durbin (Infrastructure staff (first line))"


@pytest.mark.parametrize(
    "url",
    [
        "/oncall/infra-volunteers.ics",
        "/oncall/infra-volunteers.ics?token=wrong",
        f"/oncall/infra-volunteers.ics?token={feed_token(SECRET, 'schedule:infra-staff')}",
        "/oncall/people/ee-durbin.ics",
        f"/oncall/people/ee-durbin.ics?token={feed_token('other', 'person:ee-durbin')}",
    ],
)
async def test_a_wrong_or_missing_token_is_403(client: httpx.AsyncClient, url: str) -> None:
    refused = await client.get(url)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert "sign in and copy the link" in error and "/oncall" in error


async def test_a_feed_for_something_that_is_not_there_is_404(client: httpx.AsyncClient) -> None:
    token = feed_token(SECRET, "schedule:gone")
    assert (await client.get(f"/oncall/gone.ics?token={token}")).status_code == 404
    token = feed_token(SECRET, "person:nobody")
    assert (await client.get(f"/oncall/people/nobody.ics?token={token}")).status_code == 404


def test_a_23_hour_day_fills_its_row() -> None:
    ams = ZoneInfo("Europe/Amsterdam")
    found = [
        Shift(
            "ann", datetime(2026, 3, 28, 9, tzinfo=ams), datetime(2026, 3, 29, 9, tzinfo=ams), "d"
        ),
        Shift(
            "bob", datetime(2026, 3, 29, 9, tzinfo=ams), datetime(2026, 3, 30, 9, tzinfo=ams), "d"
        ),
    ]
    svg = str(
        oncall.timeline_svg(found, date(2026, 3, 29), 1, ams, {"ann": "Ann", "bob": "Bob"}, {})
    )
    widths = [float(w) for w in re.findall(r'<rect x="[0-9.]+" y="18" width="([0-9.]+)"', svg)]
    # 00:00–09:00 CEST is 8 real hours of 23; the rest is Bob's
    assert widths == [round(672 * 8 / 23, 1), round(672 * 15 / 23, 1)]
    assert 'class="oncall-p0"' in svg and 'class="oncall-p1"' in svg
