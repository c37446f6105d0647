"""iCalendar feeds of on-call shifts, parsed back with ``icalendar``: one event per shift in
UTC, UIDs that stay the same from one fetch to the next, hand-offs at 09:00 local across the
DST changes of 2026 (Amsterdam: 29 March and 25 October), and a feed per person across
schedules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from infradex.catalog import Catalog, Ref
from infradex.errors import NotFoundError
from infradex.lint import load
from infradex.oncall.ical import event_uid, feed_window, person_feed, schedule_feed

CATALOG = {
    "people.yaml": """\
        apiVersion: infradex/v1
        kind: Person
        metadata: {name: ann, title: Ann Example}
        spec: {email: ann@example.org, handles: {github: ann-gh}}
        ---
        apiVersion: infradex/v1
        kind: Person
        metadata: {name: bob, title: Bob Example}
        spec: {email: bob@example.org}
        ---
        apiVersion: infradex/v1
        kind: Person
        metadata: {name: cat, title: Cat Example}
        """,
    "oncall.yaml": """\
        apiVersion: infradex/v1
        kind: Schedule
        metadata: {name: ams, title: Amsterdam daily}
        spec:
          timezone: Europe/Amsterdam
          layers:
            - name: daily
              members: [person:ann, person:bob]
              rotation: daily
              handoff: "09:00"
              start: "2026-01-01T09:00"
          overrides:
            - {person: person:cat, start: "2026-03-30T10:00", end: "2026-03-30T12:00"}
        ---
        apiVersion: infradex/v1
        kind: Schedule
        metadata: {name: solo, title: Solo}
        spec:
          timezone: UTC
          layers:
            - {name: always, members: [ann], start: "2025-06-01"}
        """,
}


@pytest.fixture
def catalog(tmp_path: Path, write_catalog: Callable[..., Path]) -> Catalog:
    loaded = load(write_catalog(tmp_path, CATALOG))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


def parse(feed: bytes) -> tuple[Calendar, list[Any]]:
    calendar = Calendar.from_ical(feed)
    return calendar, list(calendar.walk("VEVENT"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


WINDOW = (utc(2026, 3, 27), utc(2026, 4, 1))
NOW = utc(2026, 3, 28, 12)


def test_one_event_per_shift_in_utc(catalog: Catalog) -> None:
    calendar, events = parse(schedule_feed(catalog, Ref("schedule", "ams"), NOW, WINDOW))
    assert str(calendar["X-WR-CALNAME"]) == "On call: Amsterdam daily"
    assert str(calendar["VERSION"]) == "2.0" and "infradex" in str(calendar["PRODID"])
    starts = [e.decoded("DTSTART") for e in events]
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in starts)
    # 1 January 09:00 is Ann's (shift 0); 26 March is 84 days later: Ann's again
    assert [str(e["SUMMARY"]) for e in events[:2]] == [
        "On call: Ann Example (Amsterdam daily)",
        "On call: Bob Example (Amsterdam daily)",
    ]
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert all(e.decoded("DTSTAMP") == NOW for e in events)
    assert all(e.decoded("DTEND") > e.decoded("DTSTART") for e in events)


def test_handoffs_stay_at_nine_local_across_spring_forward(catalog: Catalog) -> None:
    _, events = parse(schedule_feed(catalog, Ref("schedule", "ams"), NOW, WINDOW))
    spans = [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events]
    assert spans[:4] == [
        (utc(2026, 3, 26, 8), utc(2026, 3, 27, 8)),  # the first keeps its real start
        (utc(2026, 3, 27, 8), utc(2026, 3, 28, 8)),  # 09:00 CET = 08:00 UTC
        (utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # over the change: 23 hours
        (utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),  # 09:00 CEST = 07:00 UTC
    ]


def test_handoffs_across_fall_back(catalog: Catalog) -> None:
    window = (utc(2026, 10, 24), utc(2026, 10, 27))
    _, events = parse(schedule_feed(catalog, Ref("schedule", "ams"), NOW, window))
    spans = [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events]
    assert (utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)) in spans  # 25 hours
    assert (utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)) in spans  # 09:00 CET


def test_overrides_are_events_of_their_own(catalog: Catalog) -> None:
    _, events = parse(schedule_feed(catalog, Ref("schedule", "ams"), NOW, WINDOW))
    override = next(e for e in events if "Cat Example" in str(e["SUMMARY"]))
    assert (override.decoded("DTSTART"), override.decoded("DTEND")) == (
        utc(2026, 3, 30, 8),
        utc(2026, 3, 30, 10),
    )
    assert "an override" in str(override["DESCRIPTION"])
    # the override splits Ann's day in two
    ann = [e for e in events if "Ann" in str(e["SUMMARY"]) and e.decoded("DTSTART").day == 30]
    assert [e.decoded("DTSTART") for e in ann] == [utc(2026, 3, 30, 7), utc(2026, 3, 30, 10)]


def test_uids_are_stable_when_the_window_moves(catalog: Catalog) -> None:
    ref = Ref("schedule", "ams")
    _, today = parse(schedule_feed(catalog, ref, NOW))
    _, tomorrow = parse(schedule_feed(catalog, ref, NOW + timedelta(days=1, hours=3)))
    uids_today = {str(e["UID"]): e.decoded("DTSTART") for e in today}
    uids_tomorrow = {str(e["UID"]): e.decoded("DTSTART") for e in tomorrow}
    common = set(uids_today) & set(uids_tomorrow)
    assert len(common) >= len(today) - 2  # a day older, a day newer: the rest the same
    assert all(uids_today[u] == uids_tomorrow[u] for u in common)
    first = today[0]
    assert str(first["UID"]) == event_uid(ref, first.decoded("DTSTART"), Ref("person", "bob"))
    assert str(first["UID"]).endswith("@infradex") and "ams" in str(first["UID"])


def test_a_long_shift_keeps_its_real_start(catalog: Catalog) -> None:
    _, events = parse(schedule_feed(catalog, Ref("schedule", "solo"), NOW))
    (event,) = events
    assert event.decoded("DTSTART") == utc(2025, 6, 1)
    assert event.decoded("DTEND") == feed_window(NOW)[1]


def test_description_has_the_contact(catalog: Catalog) -> None:
    _, events = parse(schedule_feed(catalog, Ref("schedule", "ams"), NOW, WINDOW))
    ann = next(e for e in events if "Ann" in str(e["SUMMARY"]))
    description = str(ann["DESCRIPTION"])
    assert "email: ann@example.org" in description and "github: ann-gh" in description
    assert "Europe/Amsterdam" in description
    cat = next(e for e in events if "Cat" in str(e["SUMMARY"]))
    assert "no contact method" in str(cat["DESCRIPTION"])


def test_person_feed_spans_schedules(catalog: Catalog) -> None:
    calendar, events = parse(person_feed(catalog, Ref("person", "ann"), NOW, WINDOW))
    assert str(calendar["X-WR-CALNAME"]) == "On call: Ann Example"
    summaries = {str(e["SUMMARY"]) for e in events}
    assert summaries == {"On call: Ann Example (Amsterdam daily)", "On call: Ann Example (Solo)"}
    starts = [e.decoded("DTSTART") for e in events]
    assert starts == sorted(starts)
    # the same shift has the same UID in the person's feed and in the schedule's
    _, schedule_events = parse(schedule_feed(catalog, Ref("schedule", "ams"), NOW, WINDOW))
    ann_uids = {str(e["UID"]) for e in schedule_events if "Ann" in str(e["SUMMARY"])}
    assert ann_uids <= {str(e["UID"]) for e in events}


def test_person_feed_for_someone_in_no_schedule_is_empty(catalog: Catalog) -> None:
    window = (utc(2026, 3, 27), utc(2026, 3, 28))
    _, events = parse(person_feed(catalog, Ref("person", "cat"), NOW, window))
    assert events == []


def test_default_window_is_a_week_back_and_sixty_days_ahead() -> None:
    assert feed_window(NOW) == (NOW - timedelta(days=7), NOW + timedelta(days=60))


def test_unknown_schedule_or_person(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError):
        schedule_feed(catalog, Ref("schedule", "nope"), NOW)
    with pytest.raises(NotFoundError):
        person_feed(catalog, Ref("person", "nope"), NOW)
