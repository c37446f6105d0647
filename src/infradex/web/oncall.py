"""On call on the web: who is on call now in every schedule, one schedule's next 14 days as a
table and a timeline (server-side SVG), and iCalendar feeds for calendar apps.

Calendar apps cannot sign in, so a feed URL carries a token instead: an HMAC of the feed's
reference under the server's secret key. Only signed-in people see the links; a wrong or
missing token gets 403 saying where to find the link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup, escape

from infradex.catalog import Catalog, Entity, Ref
from infradex.catalog.models import PersonSpec, ScheduleSpec
from infradex.catalog.queries import person_channels
from infradex.clock import utcnow
from infradex.docs import html
from infradex.docs.blocks import (
    Block,
    Bullets,
    Heading,
    Inline,
    Link,
    Page,
    Para,
    Strong,
    Table,
    Text,
)
from infradex.oncall.ical import person_feed, person_ref, schedule_feed
from infradex.oncall.schedules import (
    OVERRIDE,
    Shift,
    coverage_gaps,
    shift_start,
    shifts,
    turn_at,
)
from infradex.web.render import page_response
from infradex.web.sessions import read_session
from infradex.web.state import CatalogState

__all__ = ["PALETTE_SIZE", "feed_token", "router", "timeline_svg"]

router = APIRouter(include_in_schema=False)

DAYS = 14  # the schedule page's span
GAP_DAYS = 7  # the overview's look-ahead for gaps
PALETTE_SIZE = 8  # oncall-p0 … oncall-p7 in style.css


def feed_token(secret_key: str, ref: Ref | str) -> str:
    """The token of a feed's URL: HMAC-SHA256 of ``ical:<ref>``, URL-safe base64, 32 chars."""
    digest = hmac.new(secret_key.encode(), f"ical:{ref}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def _token_ok(request: Request, ref: Ref, token: str | None) -> bool:
    expected = feed_token(request.app.state.secret_key, ref)
    return token is not None and hmac.compare_digest(expected.encode(), token.encode())


def _catalog(request: Request) -> Catalog:
    state: CatalogState = request.app.state.catalog
    return state.catalog


def _person(written: str) -> Ref:
    return person_ref(written) or Ref("person", written)


def _name(catalog: Catalog, written: str | None) -> str:
    return "nobody" if written is None else catalog.title(_person(written))


def _contact(catalog: Catalog, written: str | None) -> str:
    if written is None:
        return ""
    ref = _person(written)
    person = catalog.find(ref, PersonSpec)
    channels = person_channels(person) if person is not None else ()
    return "; ".join(str(c) for c in channels) or "no contact method"


def _local(value: datetime, zone: ZoneInfo, now: datetime | None = None) -> str:
    """``Mon 30 Mar 09:00 CEST``; with the year when it is not ``now``'s."""
    local = value.astimezone(zone)
    if now is not None and local.year != now.astimezone(zone).year:
        return local.strftime("%a %d %b %Y %H:%M %Z")
    return local.strftime("%a %d %b %H:%M %Z")


def _source(source: str) -> str:
    if not source:
        return "gap"
    return OVERRIDE if source == OVERRIDE else f"layer {source}"


def _in(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"in {days} d {hours} h"
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min"


def _members(schedule: Entity[ScheduleSpec]) -> list[Ref]:
    """Everyone in the schedule, in written order: layers' members, then overrides' people."""
    seen: list[Ref] = []
    written = [m for layer in schedule.spec.layers for m in layer.members]
    written += [o.person for o in schedule.spec.overrides]
    for text in written:
        ref = _person(text)
        if ref not in seen:
            seen.append(ref)
    return seen


# ------------------------------------------------------------------------------ /oncall
def _now_cells(
    catalog: Catalog, schedule: Entity[ScheduleSpec], now: datetime
) -> list[list[Inline]]:
    zone = ZoneInfo(schedule.spec.timezone)
    turn = turn_at(schedule.spec, now)
    who: list[Inline] = (
        [Strong("nobody on call")]
        if turn.person is None
        else [Text(_name(catalog, turn.person) + f" ({_source(turn.source)})")]
    )
    if turn.until is None:
        return [who, [Text(_contact(catalog, turn.person))], [Text("no change ahead")], []]
    until = f"{_local(turn.until, zone)} ({_in(turn.until - now)})"
    following = _name(catalog, turn.next) if turn.next else "nobody (a gap)"
    if turn.next_until is not None:
        following += f" until {_local(turn.next_until, zone)}"
    return [who, [Text(_contact(catalog, turn.person))], [Text(until)], [Text(following)]]


@router.get("/oncall")
async def oncall_page(request: Request) -> HTMLResponse:
    catalog = _catalog(request)
    now = utcnow()
    schedules = catalog.of_kind("schedule")
    page = Page("oncall", "On call").add(Heading(1, "On call"))
    if not schedules:
        page.add(Para([Text("The catalog has no schedules. See docs/catalog.md, Schedule.")]))
        return page_response(request, page)
    page.add(
        Para(
            [
                Text(f"Now: {now:%a %d %b %Y %H:%M} UTC. Times are in each schedule's time zone. "),
                Text("Pick a schedule for its next 14 days and its calendar feed."),
            ]
        )
    )
    rows: list[list[list[Inline]]] = [
        [[Link(s.title, page=f"oncall/{s.name}")], *_now_cells(catalog, s, now)] for s in schedules
    ]
    page.add(Table(["Schedule", "On call now", "Contact", "Until", "Next"], rows))
    page.add(Heading(2, f"Gaps in the next {GAP_DAYS} days", "gaps"))
    gaps: list[list[Inline]] = []
    for schedule in schedules:
        for gap in coverage_gaps(schedule.spec, now, GAP_DAYS):
            link = Link(schedule.title, page=f"oncall/{schedule.name}")
            gaps.append([link, Text(": "), Strong("nobody on call"), Text(f" {gap.describe()}")])
    page.add(Bullets(gaps) if gaps else Para([Text("None: someone is always on call.")]))
    return page_response(request, page)


# ------------------------------------------------------------------------------ timeline
def _segment_class(person: str | None, colours: dict[str, int]) -> str:
    if person is None:
        return "oncall-gap"
    return f"oncall-p{colours.setdefault(person, len(colours)) % PALETTE_SIZE}"


def timeline_svg(
    found: list[Shift],
    first_day: date,
    days: int,
    zone: ZoneInfo,
    names: dict[str, str],
    colours: dict[str, int],
    now: datetime | None = None,
) -> Markup:
    """One row per local day, a coloured segment per shift (a class per person, from
    ``colours``, which it extends), hours along the top, a line at ``now``. A day of 23 or 25
    hours fills the same width: positions are proportional to real time within the day."""
    label_w, plot_w, row_h, gap, top = 96, 672, 18, 6, 18
    width, height = label_w + plot_w + 4, top + days * (row_h + gap)
    out = []
    for hour in (0, 6, 12, 18, 24):
        x = label_w + plot_w * hour / 24
        anchor = "start" if hour == 0 else ("end" if hour == 24 else "middle")
        out.append(
            f'<text x="{x:.1f}" y="12" text-anchor="{anchor}" class="axis-label">'
            f"{hour:02d}:00</text>"
        )
    for index in range(days):
        day = first_day + timedelta(days=index)
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        length = (end - start).total_seconds()
        y = top + index * (row_h + gap)
        label = day.strftime("%a %d %b")
        out.append(f'<text x="0" y="{y + 13}" class="axis-label">{label}</text>')
        for shift in found:
            left = max(shift.start.astimezone(UTC), start)
            right = min(shift.end.astimezone(UTC), end)
            if right <= left:
                continue
            x = label_w + (left - start).total_seconds() / length * plot_w
            w = (right - left).total_seconds() / length * plot_w
            who = "nobody on call" if shift.person is None else names[shift.person]
            tip = escape(
                f"{who} ({_source(shift.source)}): "
                f"{_local(shift.start, zone)} – {_local(shift.end, zone)}"
            )
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h}" '
                f'class="{_segment_class(shift.person, colours)}"><title>{tip}</title></rect>'
            )
        if now is not None and start <= now.astimezone(UTC) < end:
            x = label_w + (now.astimezone(UTC) - start).total_seconds() / length * plot_w
            out.append(
                f'<line class="oncall-now" x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" '
                f'y2="{y + row_h + 2}"><title>now</title></line>'
            )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-label="Who is on call, one row per day over {days} days">' + "".join(out) + "</svg>"
    )


def _legend(names: dict[str, str], colours: dict[str, int], has_gap: bool) -> Markup:
    swatch = Markup(
        '<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
        'class="{}"/></svg> {}</li>'
    )
    ordered = sorted((index, person) for person, index in colours.items() if person in names)
    items = [swatch.format(_segment_class(person, colours), names[person]) for _, person in ordered]
    if has_gap:
        items.append(swatch.format("oncall-gap", "nobody on call"))
    return Markup('<ul class="oncall-legend">{}</ul>').format(Markup("").join(items))


# ------------------------------------------------------------------------------ /oncall/{name}
def _find(catalog: Catalog, name: str) -> Entity[ScheduleSpec] | None:
    return catalog.find(Ref("schedule", name), ScheduleSpec)


def _unknown(request: Request, catalog: Catalog, name: str) -> HTMLResponse:
    page = Page(f"oncall/{name}", "No such schedule").add(
        Heading(1, "No such schedule"),
        Para([Text(f"The catalog has no schedule called {name!r}. Its schedules:")]),
        Bullets(
            [[Link(s.title, page=f"oncall/{s.name}")] for s in catalog.of_kind("schedule")]
            or [[Text("none")]]
        ),
    )
    return page_response(request, page, status=404)


def _feeds(request: Request, catalog: Catalog, schedule: Entity[ScheduleSpec]) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Calendar feeds", "feeds")]
    if not read_session(request).user:
        login = f"login?next={quote(f'/oncall/{schedule.name}')}"
        return [
            *blocks,
            Para(
                [
                    Link("Sign in", url=f"../{login}"),
                    Text(
                        " to get a calendar link: a private address your calendar app "
                        "subscribes to, for this schedule or for one person."
                    ),
                ]
            ),
        ]
    base = str(request.base_url).rstrip("/")
    secret = request.app.state.secret_key
    own = f"{base}/oncall/{schedule.name}.ics?token={feed_token(secret, schedule.ref)}"
    blocks.append(
        Para(
            [
                Text(
                    "Subscribe to these in your calendar app (“add calendar from URL”). They "
                    "are private: anyone with a link can read it. Everyone's shifts: "
                ),
                Link(own, url=own),
            ]
        )
    )
    people: list[list[Inline]] = []
    for person in _members(schedule):
        url = f"{base}/oncall/people/{person.name}.ics?token={feed_token(secret, person)}"
        people.append([Text(f"{catalog.title(person)}, in every schedule: "), Link(url, url=url)])
    if people:
        blocks.append(Bullets(people))
    return blocks


@router.api_route("/oncall/people/{person}.ics", methods=["GET", "HEAD"])
async def person_ics(
    request: Request, person: str, token: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    ref = Ref("person", person)
    if not _token_ok(request, ref, token):
        return JSONResponse(
            {
                "error": "this calendar link needs its token: sign in and copy the link from "
                "the page of a schedule the person is in (start at /oncall)"
            },
            status_code=403,
        )
    feed = person_feed(_catalog(request), ref, utcnow())  # NotFoundError → 404
    return _calendar_response(feed, f"oncall-{person}.ics")


@router.api_route("/oncall/{schedule}.ics", methods=["GET", "HEAD"])
async def schedule_ics(
    request: Request, schedule: str, token: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    ref = Ref("schedule", schedule)
    if not _token_ok(request, ref, token):
        return JSONResponse(
            {
                "error": "this calendar link needs its token: sign in and copy the link from "
                f"/oncall/{schedule}"
            },
            status_code=403,
        )
    feed = schedule_feed(_catalog(request), ref, utcnow())  # NotFoundError → 404
    return _calendar_response(feed, f"oncall-{schedule}.ics")


def _calendar_response(feed: bytes, filename: str) -> Response:
    return Response(
        feed,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, max-age=300",
        },
    )


@router.get("/oncall/{name}")
async def schedule_page(request: Request, name: str) -> HTMLResponse:
    catalog = _catalog(request)
    schedule = _find(catalog, name)
    if schedule is None:
        return _unknown(request, catalog, name)
    zone = ZoneInfo(schedule.spec.timezone)
    now = utcnow()
    today = now.astimezone(zone).date()
    first = datetime.combine(today, time(0), zone)
    last = datetime.combine(today + timedelta(days=DAYS), time(0), zone)
    # people as canonical references (a layer may write `ann`, an override `person:ann`)
    found = [
        replace(s, person=None if s.person is None else str(_person(s.person)))
        for s in shifts(schedule.spec, first, last)
    ]
    page = Page(f"oncall/{schedule.name}", f"On call: {schedule.title}")
    page.add(Heading(1, schedule.title))
    intro: list[Inline] = []
    if schedule.metadata.description:
        intro.append(Text(schedule.metadata.description + " "))
    intro += [
        Text(f"Times are in {zone.key}. "),
        Link("How the schedule is defined", page="index", anchor=f"schedule-{schedule.name}"),
        Text(" · "),
        Link("All schedules", page="oncall"),
    ]
    page.add(Para(intro))
    cells = _now_cells(catalog, schedule, now)
    page.add(
        Table(["On call now", "Contact", "Until", "Next"], [cells]),
        Heading(2, f"The next {DAYS} days", "timeline"),
    )
    names = {s.person: _name(catalog, s.person) for s in found if s.person is not None}
    # a colour per member, in the order the schedule lists them: stable from day to day
    colours = {str(ref): index for index, ref in enumerate(_members(schedule))}
    svg = timeline_svg(found, today, DAYS, zone, names, colours, now)
    figure = Markup(
        '<figure class="chart oncall-timeline">{}{}<figcaption>{}</figcaption></figure>'
    )
    picture = figure.format(
        svg,
        _legend(names, colours, any(s.person is None for s in found)),
        f"One row per day in {zone.key}; hover over a segment for its times.",
    )
    rows: list[list[list[Inline]]] = []
    for index, shift in enumerate(found):
        if index == 0:  # when it really began, not at midnight
            shift = replace(shift, start=shift_start(schedule.spec, shift.start) or shift.start)
        start, end = shift.start.astimezone(UTC), shift.end.astimezone(UTC)
        if end <= now:
            continue
        who: Inline = (
            Strong("nobody on call") if shift.person is None else Text(names[shift.person])
        )
        rows.append(
            [
                [Text(_local(shift.start, zone, now))],
                [Text(_local(shift.end, zone, now))],
                [Text(f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}")],
                [who],
                [Text(_source(shift.source))],
            ]
        )
    rest = Page(page.id, page.title).add(
        Heading(2, "Shifts", "shifts"),
        Table(["Start", "End", "UTC", "On call", "From"], rows),
        *_feeds(request, catalog, schedule),
    )
    body = html.render_body(page, suffix="") + picture + html.render_body(rest, suffix="")
    return page_response(request, page, body=body)
