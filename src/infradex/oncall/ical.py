"""iCalendar feeds of on-call shifts: one per schedule (everyone's shifts) and one per person
(their shifts in every schedule), for calendar apps to subscribe to.

Pure: the catalog and ``now`` in, the feed's bytes out. Each shift is one ``VEVENT`` in UTC.
Its ``UID`` is made of the schedule, the shift's real start and the person, so a calendar app
that fetches the feed again updates the event instead of adding a second one; a shift that
began before the feed's window keeps its real start (:func:`shift_start`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from infradex.catalog import Catalog, Entity, Ref
from infradex.catalog.models import PersonSpec, ScheduleSpec
from infradex.catalog.queries import person_channels
from infradex.catalog.refs import RefError, parse_ref
from infradex.inert import one_line
from infradex.oncall.schedules import OVERRIDE, Shift, shift_start, shifts

__all__ = [
    "DAYS_AHEAD",
    "DAYS_BACK",
    "event_uid",
    "feed_window",
    "person_feed",
    "person_ref",
    "schedule_feed",
]

#: the default window of a feed: a week back (so the current shift shows) and 60 days ahead
DAYS_BACK = 7
DAYS_AHEAD = 60
PRODID = "-//infradex//on-call feed//EN"


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """``[now - 7 days, now + 60 days)`` in UTC."""
    now = now.astimezone(UTC)
    return now - timedelta(days=DAYS_BACK), now + timedelta(days=DAYS_AHEAD)


def person_ref(text: str) -> Ref | None:
    """A schedule member or override person as written (``ann`` or ``person:ann``)."""
    try:
        return parse_ref(text, ("person",))
    except RefError:
        return None


def event_uid(schedule: Ref, start: datetime, person: Ref) -> str:
    """Stable per schedule, shift start and person: ``<schedule>.<start>.<person>@infradex``."""
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"oncall.{schedule.name}.{stamp}.{person.name}@infradex"


def _whole_shifts(entity: Entity[ScheduleSpec], start: datetime, end: datetime) -> Iterator[Shift]:
    """The schedule's shifts with a person in ``[start, end)``; the first with its real start."""
    for index, shift in enumerate(shifts(entity.spec, start, end)):
        if shift.person is None:
            continue
        if index == 0:
            began = shift_start(entity.spec, shift.start)
            if began is not None:
                shift = Shift(shift.person, began, shift.end, shift.source)
        yield shift


def _when(shift: Shift) -> str:
    """``Mon 2026-03-30 09:00 CEST – Mon 2026-04-06 09:00 CEST``: each end in its own offset."""
    return f"{shift.start:%a %Y-%m-%d %H:%M %Z} – {shift.end:%a %Y-%m-%d %H:%M %Z}"


def _text(text: str) -> str:
    """Catalog text for an iCalendar TEXT value: RFC 5545 allows no control character but
    tab in it, and the library escapes only CR LF and LF; a lone CR or NUL would pass."""
    return one_line(text)


def _event(
    catalog: Catalog, schedule: Entity[ScheduleSpec], shift: Shift, person: Ref, now: datetime
) -> Event:
    name = _text(catalog.title(person))
    title = _text(schedule.title)
    source = "an override" if shift.source == OVERRIDE else f"layer {shift.source!r}"
    source = _text(source)
    lines = [f"{name} is on call for {title} ({schedule.ref}), from {source}."]
    found = catalog.find(person, PersonSpec)
    channels = person_channels(found) if found is not None else ()
    lines.append(
        "Contact: "
        + ("; ".join(_text(str(c)) for c in channels) if channels else "no contact method")
    )
    lines.append(f"Local time ({schedule.spec.timezone}): {_when(shift)}.")
    event = Event()
    event.add("uid", event_uid(schedule.ref, shift.start, person))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", f"On call: {name} ({title})")
    event.add("description", "\n".join(lines))
    event.add("categories", ["on-call"])
    event.add("transp", "TRANSPARENT")  # being on call does not make anyone busy
    return event


def _calendar(name: str, events: list[tuple[datetime, str, Event]]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _text(name))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # the older spelling some apps read instead
    for _, _, event in sorted(events, key=lambda item: (item[0], item[1])):
        calendar.add_component(event)
    feed: bytes = calendar.to_ical()
    return feed


def schedule_feed(
    catalog: Catalog,
    schedule: Ref,
    now: datetime,
    window: tuple[datetime, datetime] | None = None,
) -> bytes:
    """Everyone's shifts in one schedule (``NotFoundError`` if there is no such schedule)."""
    entity = catalog.typed(schedule, ScheduleSpec)
    start, end = window or feed_window(now)
    events = []
    for shift in _whole_shifts(entity, start, end):
        person = person_ref(shift.person or "")
        if person is not None:
            uid = event_uid(entity.ref, shift.start, person)
            events.append(
                (shift.start.astimezone(UTC), uid, _event(catalog, entity, shift, person, now))
            )
    return _calendar(f"On call: {entity.title}", events)


def person_feed(
    catalog: Catalog,
    person: Ref,
    now: datetime,
    window: tuple[datetime, datetime] | None = None,
) -> bytes:
    """One person's shifts in every schedule (``NotFoundError`` if there is no such person)."""
    entity = catalog.get(person)
    start, end = window or feed_window(now)
    events = []
    for schedule in catalog.of_kind("schedule"):
        for shift in _whole_shifts(schedule, start, end):
            if person_ref(shift.person or "") == entity.ref:
                uid = event_uid(schedule.ref, shift.start, entity.ref)
                event = _event(catalog, schedule, shift, entity.ref, now)
                events.append((shift.start.astimezone(UTC), uid, event))
    return _calendar(f"On call: {entity.title}", events)
