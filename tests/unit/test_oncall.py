"""On-call schedules: who is on call when (across DST changes), overrides, layers, and the
gaps nobody covers.

DST changes used below (2024):

- Europe/Amsterdam: CET (UTC+1) → CEST (UTC+2) on Sunday 31 March (last Sunday of March);
  back on Sunday 27 October (last Sunday of October).
- America/New_York: EST (UTC-5) → EDT (UTC-4) on Sunday 10 March (2nd Sunday of March);
  back on Sunday 3 November (1st Sunday of November).

and for the final schedule (:func:`shifts`), 2026: Amsterdam on 29 March (02:00 CET → 03:00
CEST) and 25 October (03:00 CEST → 02:00 CET); New York on 8 March (02:00 EST → 03:00 EDT) and
1 November (02:00 EDT → 01:00 EST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from infradex.catalog.models import ScheduleSpec
from infradex.oncall import Gap, coverage_gaps, on_call_at
from infradex.oncall.schedules import Shift, next_change, shift_start, shifts

AMS = ZoneInfo("Europe/Amsterdam")
NYC = ZoneInfo("America/New_York")
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]


def spec(timezone: str, *layers: dict[str, Any], overrides: Any = ()) -> ScheduleSpec:
    return ScheduleSpec.model_validate(
        {"timezone": timezone, "layers": list(layers), "overrides": list(overrides)}
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ============================================================================ weekly, Amsterdam
# Shifts start 2024-03-11 09:00 local (the Monday hand-off at or before the start):
# shift 0 = ann from 11 March, shift 1 = bob from 18 March, shift 2 = ann from 25 March, ...
AMS_WEEKLY = spec(
    "Europe/Amsterdam",
    {
        "name": "primary",
        "members": ["person:ann", "person:bob"],
        "rotation": "weekly",
        "handoff": "Mon 09:00",
        "start": "2024-03-18",
    },
)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (utc(2024, 3, 17, 23, 0), "person:ann"),  # Mon 18 March 00:00 CET: the layer starts
        (utc(2024, 3, 18, 7, 59), "person:ann"),  # 08:59 CET
        (utc(2024, 3, 18, 8, 0), "person:bob"),  # 09:00 CET
        (utc(2024, 3, 25, 7, 59), "person:bob"),  # 08:59 CET
        (utc(2024, 3, 25, 8, 0), "person:ann"),  # 09:00 CET
        # 31 March: clocks go forward; the next hand-off is still 09:00 local = 07:00 UTC
        (utc(2024, 4, 1, 6, 59), "person:ann"),  # 08:59 CEST
        (utc(2024, 4, 1, 7, 0), "person:bob"),  # 09:00 CEST
        (utc(2024, 4, 1, 7, 59), "person:bob"),  # 09:59 CEST (08:00 UTC would be CET's 09:00)
        # 27 October: clocks go back; 21 Oct is shift 32 (ann), 28 Oct is shift 33 (bob)
        (utc(2024, 10, 21, 6, 59), "person:bob"),  # 08:59 CEST
        (utc(2024, 10, 21, 7, 0), "person:ann"),  # 09:00 CEST
        (utc(2024, 10, 28, 7, 0), "person:ann"),  # 08:00 CET: not yet
        (utc(2024, 10, 28, 7, 59), "person:ann"),  # 08:59 CET
        (utc(2024, 10, 28, 8, 0), "person:bob"),  # 09:00 CET
    ],
)
def test_weekly_handoff_stays_at_nine_local_in_amsterdam(when: datetime, expected: str) -> None:
    assert on_call_at(AMS_WEEKLY, when) == expected


def test_before_the_layer_starts_nobody_is_on_call() -> None:
    assert on_call_at(AMS_WEEKLY, utc(2024, 3, 17, 22, 59)) is None  # Sun 23:59 CET


def test_local_and_utc_instants_agree() -> None:
    local = datetime(2024, 4, 1, 9, 0, tzinfo=AMS)
    assert on_call_at(AMS_WEEKLY, local) == "person:bob"
    assert on_call_at(AMS_WEEKLY, local - timedelta(minutes=1)) == "person:ann"


# ============================================================================ weekly, New York
# start Mon 1 Jan 2024 → first hand-off at or before it is Mon 25 Dec 2023 09:00;
# 4 March is shift 10 (ann), 11 March shift 11 (bob), 28 Oct shift 44 (ann), 4 Nov 45 (bob).
NYC_WEEKLY = spec(
    "America/New_York",
    {
        "name": "primary",
        "members": ["person:ann", "person:bob"],
        "rotation": "weekly",
        "handoff": "Mon 09:00",
        "start": "2024-01-01",
    },
)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (utc(2024, 3, 4, 13, 59), "person:bob"),  # 08:59 EST
        (utc(2024, 3, 4, 14, 0), "person:ann"),  # 09:00 EST
        # 10 March: clocks go forward
        (utc(2024, 3, 11, 12, 59), "person:ann"),  # 08:59 EDT
        (utc(2024, 3, 11, 13, 0), "person:bob"),  # 09:00 EDT
        # 3 November: clocks go back
        (utc(2024, 11, 4, 13, 0), "person:ann"),  # 08:00 EST (would be 09:00 EDT)
        (utc(2024, 11, 4, 13, 59), "person:ann"),  # 08:59 EST
        (utc(2024, 11, 4, 14, 0), "person:bob"),  # 09:00 EST
    ],
)
def test_weekly_handoff_stays_at_nine_local_in_new_york(when: datetime, expected: str) -> None:
    assert on_call_at(NYC_WEEKLY, when) == expected


# ============================================================================ daily
# shift 0 = ann from Fri 8 March 09:00 EST; bob from 9 March; cat from 10 March (DST day)
NYC_DAILY = spec(
    "America/New_York",
    {
        "name": "daily",
        "members": ["person:ann", "person:bob", "person:cat"],
        "rotation": "daily",
        "handoff": "09:00",
        "start": "2024-03-08T09:00",
    },
)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (utc(2024, 3, 8, 14, 0), "person:ann"),  # Fri 09:00 EST
        (utc(2024, 3, 9, 13, 59), "person:ann"),  # Sat 08:59 EST
        (utc(2024, 3, 9, 14, 0), "person:bob"),  # Sat 09:00 EST
        (utc(2024, 3, 10, 12, 59), "person:bob"),  # Sun 08:59 EDT (a 23-hour day)
        (utc(2024, 3, 10, 13, 0), "person:cat"),  # Sun 09:00 EDT
        (utc(2024, 3, 11, 13, 0), "person:ann"),  # Mon 09:00 EDT
    ],
)
def test_daily_rotation_across_spring_forward(when: datetime, expected: str) -> None:
    assert on_call_at(NYC_DAILY, when) == expected


def test_daily_rotation_across_fall_back_in_amsterdam() -> None:
    schedule = spec(
        "Europe/Amsterdam",
        {
            "name": "daily",
            "members": ["person:ann", "person:bob"],
            "rotation": "daily",
            "handoff": "Mon 09:00",  # the weekday is ignored for daily rotations
            "start": "2024-10-26T09:00",
        },
    )
    assert on_call_at(schedule, utc(2024, 10, 26, 7, 0)) == "person:ann"  # Sat 09:00 CEST
    assert on_call_at(schedule, utc(2024, 10, 27, 7, 59)) == "person:ann"  # Sun 08:59 CET
    assert on_call_at(schedule, utc(2024, 10, 27, 8, 0)) == "person:bob"  # Sun 09:00 CET


def test_every_n_days() -> None:
    schedule = spec(
        "UTC",
        {
            "name": "three-day",
            "members": ["person:ann", "person:bob"],
            "rotation": "3d",
            "handoff": "09:00",
            "start": "2024-01-01T09:00",
        },
    )
    assert on_call_at(schedule, utc(2024, 1, 4, 8, 59)) == "person:ann"
    assert on_call_at(schedule, utc(2024, 1, 4, 9, 0)) == "person:bob"
    assert on_call_at(schedule, utc(2024, 1, 7, 9, 0)) == "person:ann"


# ============================================================================ layers, overrides
BIZ = {"days": WEEKDAYS, "start": "09:00", "end": "17:00"}
LAYERED = spec(
    "Europe/Amsterdam",
    {"name": "base", "members": ["person:ann"], "start": "2024-01-01"},
    {"name": "office", "members": ["person:bob"], "start": "2024-01-01", "restrictions": [BIZ]},
    overrides=[{"person": "person:cat", "start": "2024-06-04T12:00", "end": "2024-06-04T14:00"}],
)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2024, 6, 4, 10, 0, tzinfo=AMS), "person:bob"),  # Tue office hours: later layer
        (datetime(2024, 6, 4, 8, 59, tzinfo=AMS), "person:ann"),  # before office hours
        (datetime(2024, 6, 4, 17, 0, tzinfo=AMS), "person:ann"),  # end is exclusive
        (datetime(2024, 6, 8, 10, 0, tzinfo=AMS), "person:ann"),  # Saturday
        (datetime(2024, 6, 4, 12, 0, tzinfo=AMS), "person:cat"),  # override wins
        (datetime(2024, 6, 4, 13, 59, tzinfo=AMS), "person:cat"),
        (datetime(2024, 6, 4, 14, 0, tzinfo=AMS), "person:bob"),  # override over
    ],
)
def test_later_layers_and_overrides_win(when: datetime, expected: str) -> None:
    assert on_call_at(LAYERED, when) == expected


def test_override_with_an_offset() -> None:
    schedule = spec(
        "America/New_York",
        {"name": "base", "members": ["person:ann"], "start": "2024-01-01"},
        overrides=[
            {"person": "person:bob", "start": "2024-06-04T12:00Z", "end": "2024-06-04T13:00Z"}
        ],
    )
    assert on_call_at(schedule, utc(2024, 6, 4, 12, 30)) == "person:bob"  # 08:30 EDT
    assert on_call_at(schedule, datetime(2024, 6, 4, 12, 30, tzinfo=NYC)) == "person:ann"


def test_empty_schedule_has_nobody() -> None:
    assert on_call_at(spec("UTC"), utc(2024, 1, 1)) is None


# ============================================================================ coverage gaps
OFFICE_ONLY = spec(
    "Europe/Amsterdam",
    {"name": "office", "members": ["person:bob"], "start": "2024-01-01", "restrictions": [BIZ]},
)


def ams(day: int, hour: int, month: int = 6) -> datetime:
    return datetime(2024, month, day, hour, 0, tzinfo=AMS)


def test_gaps_of_a_business_hours_schedule() -> None:
    now = utc(2024, 6, 2, 22, 0)  # Monday 3 June 00:00 CEST
    gaps = coverage_gaps(OFFICE_ONLY, now)
    assert [(g.start, g.end) for g in gaps] == [
        (ams(3, 0), ams(3, 9)),
        (ams(3, 17), ams(4, 9)),
        (ams(4, 17), ams(5, 9)),
        (ams(5, 17), ams(6, 9)),
        (ams(6, 17), ams(7, 9)),
        (ams(7, 17), ams(10, 0)),
    ]
    # in the schedule's zone, whatever the zone of `now`
    assert all(g.start.tzinfo == AMS and g.end.tzinfo == AMS for g in gaps)
    assert [g.describe() for g in gaps[:2]] == ["Mon 00:00–09:00 CEST", "Mon 17:00–Tue 09:00 CEST"]


def test_describe_a_gap_over_the_weekend() -> None:
    gap = Gap(ams(7, 17), ams(10, 0))
    assert gap.describe() in ("Fri 17:00–Mon 00:00 CEST", "Fri 17:00–Sun 24:00 CEST")


def test_describe_a_gap_until_midnight() -> None:
    assert Gap(ams(7, 17), ams(8, 0)).describe() == "Fri 17:00–24:00 CEST"


def test_overrides_fill_gaps() -> None:
    schedule = spec(
        "Europe/Amsterdam",
        {"name": "office", "members": ["person:bob"], "start": "2024-01-01", "restrictions": [BIZ]},
        overrides=[
            {"person": "person:ann", "start": "2024-06-07T17:00", "end": "2024-06-10T00:00"}
        ],
    )
    gaps = coverage_gaps(schedule, utc(2024, 6, 2, 22, 0))
    assert (ams(7, 17), ams(10, 0)) not in [(g.start, g.end) for g in gaps]
    assert len(gaps) == 5


def test_gaps_across_the_autumn_dst_change() -> None:
    schedule = spec(
        "Europe/Amsterdam",
        {
            "name": "days",
            "members": ["person:bob"],
            "start": "2024-01-01",
            "restrictions": [{"start": "09:00", "end": "17:00"}],  # every day
        },
    )
    now = datetime(2024, 10, 26, 0, 0, tzinfo=AMS)  # Saturday, CEST
    gaps = coverage_gaps(schedule, now, days=2)
    assert [(g.start, g.end) for g in gaps] == [
        (ams(26, 0, 10), ams(26, 9, 10)),
        (ams(26, 17, 10), ams(27, 9, 10)),
        (ams(27, 17, 10), ams(28, 0, 10)),
    ]
    overnight = gaps[1]
    assert overnight.start.utcoffset() == timedelta(hours=2)  # CEST
    assert overnight.end.utcoffset() == timedelta(hours=1)  # CET
    # 16 hours on the wall clock, 17 real hours: the clocks went back
    assert overnight.end.astimezone(UTC) - overnight.start.astimezone(UTC) == timedelta(hours=17)
    assert overnight.describe() == "Sat 17:00–Sun 09:00 CEST"


def test_round_the_clock_has_no_gaps() -> None:
    schedule = spec("UTC", {"name": "all", "members": ["person:ann"], "start": "2000-01-01"})
    assert coverage_gaps(schedule, utc(2024, 6, 3)) == []


def test_a_layer_that_starts_later_leaves_a_gap_until_then() -> None:
    schedule = spec("UTC", {"name": "all", "members": ["person:ann"], "start": "2024-06-05T12:00"})
    (gap,) = coverage_gaps(schedule, utc(2024, 6, 3))
    assert (gap.start, gap.end) == (utc(2024, 6, 3), utc(2024, 6, 5, 12))
    assert gap.describe() == "Mon 00:00–Wed 12:00 UTC"


def test_a_layer_without_members_covers_nothing() -> None:
    schedule = spec("UTC", {"name": "none", "members": [], "start": "2000-01-01"})
    (gap,) = coverage_gaps(schedule, utc(2024, 6, 3), days=1)
    assert (gap.start, gap.end) == (utc(2024, 6, 3), utc(2024, 6, 4))


def test_restricted_layer_starting_mid_window_gives_merged_gaps() -> None:
    schedule = spec(
        "Europe/Amsterdam",
        {
            "name": "office",
            "members": ["person:bob"],
            "start": "2024-06-05T12:00",  # Wednesday noon
            "restrictions": [BIZ],
        },
    )
    gaps = coverage_gaps(schedule, utc(2024, 6, 2, 22, 0))
    assert [(g.start, g.end) for g in gaps] == [
        (ams(3, 0), ams(5, 12)),
        (ams(5, 17), ams(6, 9)),
        (ams(6, 17), ams(7, 9)),
        (ams(7, 17), ams(10, 0)),
    ]


# ============================================================================ spec validation
def test_restriction_times_are_checked() -> None:
    with pytest.raises(ValidationError, match="is not a time of day"):
        spec(
            "UTC",
            {
                "name": "x",
                "members": ["person:a"],
                "start": "2024-01-01",
                "restrictions": [{"start": "9h", "end": "17:00"}],
            },
        )


def test_only_24_00_is_accepted_as_end_of_day() -> None:
    try:
        spec(
            "UTC",
            {
                "name": "x",
                "members": ["person:a"],
                "start": "2024-01-01",
                "restrictions": [{"start": "09:00", "end": "24:30"}],
            },
        )
    except ValidationError:
        return
    raise AssertionError("24:30 was accepted as a time of day")


# ============================================================================ final schedule
def people(found: list[Shift]) -> list[str | None]:
    return [s.person for s in found]


def spans(found: list[Shift]) -> list[tuple[datetime, datetime]]:
    return [(s.start, s.end) for s in found]


def daily_at_nine(timezone: str, start: str = "2026-01-01T09:00") -> ScheduleSpec:
    return spec(
        timezone,
        {
            "name": "daily",
            "members": ["person:ann", "person:bob"],
            "rotation": "daily",
            "handoff": "09:00",
            "start": start,
        },
    )


@pytest.mark.parametrize(
    ("timezone", "day", "hours"),
    [
        ("Europe/Amsterdam", 29, 23),  # 29 March 2026: spring forward
        ("Europe/Amsterdam", 25, 25),  # 25 October 2026: fall back
        ("America/New_York", 8, 23),  # 8 March 2026
        ("America/New_York", 1, 25),  # 1 November 2026
    ],
)
def test_daily_handoff_stays_at_nine_local_across_dst(timezone: str, day: int, hours: int) -> None:
    zone = ZoneInfo(timezone)
    month = 3 if day in (29, 8) else (10 if day == 25 else 11)
    before = datetime(2026, month, day, 9, 0, tzinfo=zone) - timedelta(days=2)
    found = shifts(daily_at_nine(timezone), before, before + timedelta(days=4))
    assert len(found) == 4  # one shift a day: 4 hand-offs apart, window edges on hand-offs
    for shift in found:
        assert shift.start.tzinfo == zone
        assert (shift.start.hour, shift.start.minute) == (9, 0)  # 09:00 local, every day
    # the shift that holds the change starts the day before and is 23 or 25 real hours long
    (changed,) = [s for s in found if s.start.date() == date(2026, month, day) - timedelta(1)]
    assert changed.duration == timedelta(hours=hours)
    assert sorted({s.duration for s in found}) == sorted({timedelta(hours=24), changed.duration})
    assert people(found) == [on_call_at(daily_at_nine(timezone), s.start) for s in found]


def test_a_weekly_shift_over_spring_forward_is_one_hour_shorter() -> None:
    schedule = spec(
        "Europe/Amsterdam",
        {
            "name": "weekly",
            "members": ["person:ann", "person:bob"],
            "handoff": "Mon 09:00",
            "start": "2026-01-05",
        },
    )
    found = shifts(
        schedule, datetime(2026, 3, 23, 9, tzinfo=AMS), datetime(2026, 4, 6, 9, tzinfo=AMS)
    )
    assert spans(found) == [
        (datetime(2026, 3, 23, 9, tzinfo=AMS), datetime(2026, 3, 30, 9, tzinfo=AMS)),
        (datetime(2026, 3, 30, 9, tzinfo=AMS), datetime(2026, 4, 6, 9, tzinfo=AMS)),
    ]
    assert found[0].duration == timedelta(days=7, hours=-1)
    assert found[1].duration == timedelta(days=7)
    # shift 0 (ann) began on Mon 29 December 2025 at 09:00, the hand-off before the start;
    # 23 March is twelve weeks later: ann again
    assert people(found) == ["person:ann", "person:bob"]


def test_shifts_in_new_york_over_fall_back_in_utc() -> None:
    found = shifts(daily_at_nine("America/New_York"), utc(2026, 10, 31, 13), utc(2026, 11, 2, 14))
    assert [(s.start.astimezone(UTC), s.end.astimezone(UTC)) for s in found] == [
        (utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),  # 09:00 EDT → 09:00 EST: 25 hours
        (utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)),
    ]
    assert found[0].duration == timedelta(hours=25)


def test_overrides_split_a_shift() -> None:
    found = shifts(LAYERED, datetime(2024, 6, 8, tzinfo=AMS), datetime(2024, 6, 9, tzinfo=AMS))
    assert [(s.person, s.source) for s in found] == [("person:ann", "base")]  # Saturday
    split = shifts(LAYERED, datetime(2024, 6, 4, tzinfo=AMS), datetime(2024, 6, 5, tzinfo=AMS))
    assert [(s.person, s.source, s.start.hour, s.end.hour) for s in split] == [
        ("person:ann", "base", 0, 9),
        ("person:bob", "office", 9, 12),
        ("person:cat", "override", 12, 14),
        ("person:bob", "office", 14, 17),
        ("person:ann", "base", 17, 0),
    ]


def test_an_override_for_the_person_already_on_call_is_its_own_shift() -> None:
    schedule = spec(
        "UTC",
        {"name": "all", "members": ["person:ann"], "start": "2024-01-01"},
        overrides=[
            {"person": "person:ann", "start": "2024-06-04T12:00", "end": "2024-06-04T13:00"}
        ],
    )
    found = shifts(schedule, utc(2024, 6, 4), utc(2024, 6, 5))
    assert [(s.source, s.start.hour) for s in found] == [("all", 0), ("override", 12), ("all", 13)]
    # ... but the answer does not change there
    assert next_change(schedule, utc(2024, 6, 4)) is None


def test_restrictions_make_gaps() -> None:
    found = shifts(OFFICE_ONLY, datetime(2024, 6, 7, tzinfo=AMS), datetime(2024, 6, 11, tzinfo=AMS))
    assert [(s.person, s.source) for s in found] == [
        (None, ""),
        ("person:bob", "office"),
        (None, ""),  # Friday 17:00 to Monday 09:00
        ("person:bob", "office"),
        (None, ""),
    ]
    assert (found[2].start, found[2].end) == (ams(7, 17), ams(10, 9))
    # the gaps are the ones coverage_gaps finds
    gaps = coverage_gaps(OFFICE_ONLY, ams(7, 0), days=4)
    assert [(g.start, g.end) for g in gaps] == [(s.start, s.end) for s in found if s.person is None]


def test_before_the_first_layer_starts_is_a_gap() -> None:
    schedule = spec("UTC", {"name": "all", "members": ["person:ann"], "start": "2024-06-05T12:00"})
    found = shifts(schedule, utc(2024, 6, 5), utc(2024, 6, 6))
    assert [(s.person, s.start, s.end) for s in found] == [
        (None, utc(2024, 6, 5), utc(2024, 6, 5, 12)),
        ("person:ann", utc(2024, 6, 5, 12), utc(2024, 6, 6)),
    ]


def test_shifts_of_an_empty_window_or_schedule() -> None:
    assert shifts(AMS_WEEKLY, utc(2024, 6, 5), utc(2024, 6, 5)) == []
    (gap,) = shifts(spec("UTC"), utc(2024, 6, 5), utc(2024, 6, 6))
    assert gap.person is None and gap.source == "" and gap.duration == timedelta(days=1)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        shifts(AMS_WEEKLY, datetime(2024, 6, 5), utc(2024, 6, 6))
    with pytest.raises(ValueError, match="needs a time zone"):
        next_change(AMS_WEEKLY, datetime(2024, 6, 5))


def test_a_handoff_inside_the_skipped_hour_happens_when_the_clock_jumps() -> None:
    # 02:30 does not exist on 29 March 2026 in Amsterdam: the clock goes 01:59 CET → 03:00 CEST
    schedule = spec(
        "Europe/Amsterdam",
        {
            "name": "night",
            "members": ["person:ann", "person:bob"],
            "rotation": "daily",
            "handoff": "02:30",
            "start": "2026-03-01T02:30",
        },
    )
    found = shifts(schedule, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert [s.start.astimezone(UTC) for s in found[1:]] == [utc(2026, 3, 29, 1)]  # 03:00 CEST
    for shift in found:
        assert on_call_at(schedule, shift.start) == shift.person


# ============================================================================ next change
def test_next_change_is_the_next_handoff() -> None:
    when = datetime(2026, 3, 28, 10, tzinfo=AMS)
    change = next_change(daily_at_nine("Europe/Amsterdam"), when)
    assert change == datetime(2026, 3, 29, 9, tzinfo=AMS)
    assert change is not None and change.utcoffset() == timedelta(hours=2)  # CEST by then


def test_next_change_at_a_handoff_is_the_following_one() -> None:
    when = datetime(2026, 6, 1, 9, tzinfo=AMS)
    assert next_change(daily_at_nine("Europe/Amsterdam"), when) == when + timedelta(days=1)


def test_next_change_skips_same_person_stretches() -> None:
    # a single member: hand-offs to the same person are not a change
    schedule = spec("UTC", {"name": "solo", "members": ["person:ann"], "start": "2024-01-01"})
    assert next_change(schedule, utc(2026, 6, 1)) is None
    assert next_change(schedule, utc(2023, 12, 30)) == utc(2024, 1, 1)  # the gap ends


def test_next_change_from_a_gap_and_into_one() -> None:
    assert next_change(OFFICE_ONLY, ams(7, 18)) == ams(10, 9)  # Friday evening → Monday 09:00
    assert next_change(OFFICE_ONLY, ams(10, 9)) == ams(10, 17)


def test_next_change_looks_past_a_month() -> None:
    schedule = spec(
        "UTC",
        {
            "name": "quarterly",
            "members": ["person:ann", "person:bob"],
            "rotation": "90d",
            "handoff": "09:00",
            "start": "2026-01-01T09:00",
        },
    )
    assert next_change(schedule, utc(2026, 1, 2)) == utc(2026, 4, 1, 9)
    assert next_change(schedule, utc(2026, 1, 2), horizon=timedelta(days=30)) is None


def test_shift_start_finds_the_real_start() -> None:
    schedule = daily_at_nine("Europe/Amsterdam")
    assert shift_start(schedule, datetime(2026, 3, 29, 8, tzinfo=AMS)) == datetime(
        2026, 3, 28, 9, tzinfo=AMS
    )
    assert shift_start(schedule, datetime(2026, 3, 29, 9, tzinfo=AMS)) == datetime(
        2026, 3, 29, 9, tzinfo=AMS
    )
    solo = spec("UTC", {"name": "solo", "members": ["person:ann"], "start": "2024-01-01"})
    assert shift_start(solo, utc(2026, 6, 1)) == utc(2024, 1, 1)  # two and a half years back
    assert shift_start(solo, utc(2023, 6, 1)) is None  # a gap since for ever
    assert shift_start(spec("UTC"), utc(2026, 6, 1)) is None


# ============================================================================ property
ZONES = ["Europe/Amsterdam", "America/New_York", "UTC", "Australia/Lord_Howe"]
# instants around the DST changes of 2026 (and ordinary days)
WINDOW_STARTS = [
    utc(2026, 3, 27),
    utc(2026, 10, 23),
    utc(2026, 3, 6),
    utc(2026, 10, 30),
    utc(2026, 4, 3),  # Lord Howe: 30 minutes back on 5 April 2026
    utc(2026, 6, 10),
]


@st.composite
def schedules(draw: st.DrawFn) -> ScheduleSpec:
    clock = st.builds(
        lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45])
    )
    layers = []
    for number in range(draw(st.integers(0, 3))):
        restrictions = []
        for _ in range(draw(st.integers(0, 2))):
            start, end = sorted(draw(st.lists(clock, min_size=2, max_size=2, unique=True)))
            days = draw(
                st.lists(
                    st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
                    min_size=1,
                    unique=True,
                )
            )
            restrictions.append({"days": days, "start": start, "end": end})
        weekday = draw(st.sampled_from(["", "Mon ", "Sun ", "Wed "]))
        layers.append(
            {
                "name": f"layer{number}",
                "members": draw(
                    st.lists(st.sampled_from(["ann", "bob", "cat", "dan"]), min_size=0, max_size=3)
                ),
                "rotation": draw(st.sampled_from(["daily", "weekly", "2d", "3d"])),
                "handoff": weekday + draw(clock),
                "start": draw(st.sampled_from(["2026-01-01", "2026-03-28T02:30", "2026-10-25"])),
                "restrictions": restrictions,
            }
        )
    overrides = []
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.datetimes(datetime(2026, 3, 5), datetime(2026, 11, 3)))
        hours = draw(st.integers(1, 60))
        overrides.append(
            {
                "person": draw(st.sampled_from(["ann", "eve"])),
                "start": start.replace(second=0, microsecond=0).isoformat(),
                "end": (start + timedelta(hours=hours))
                .replace(second=0, microsecond=0)
                .isoformat(),
            }
        )
    return spec(draw(st.sampled_from(ZONES)), *layers, overrides=overrides)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=schedules(),
    window_start=st.sampled_from(WINDOW_STARTS),
    offsets=st.lists(st.integers(0, 4 * 24 * 60 - 1), min_size=1, max_size=20),
    seconds=st.integers(0, 59),
)
def test_the_shift_covering_an_instant_names_who_is_on_call(
    schedule: ScheduleSpec, window_start: datetime, offsets: list[int], seconds: int
) -> None:
    window_end = window_start + timedelta(days=4)
    found = shifts(schedule, window_start, window_end)
    # consecutive, covering the window, merged
    assert found[0].start == window_start and found[-1].end == window_end
    for before, after in pairwise(found):
        assert before.end == after.start
        assert (before.person, before.source) != (after.person, after.source)
    # (in UTC: two times in one zone compare by wall clock, which repeats an hour in autumn)
    assert all(s.start.astimezone(UTC) < s.end.astimezone(UTC) for s in found)
    for minutes in offsets:
        instant = window_start + timedelta(minutes=minutes, seconds=seconds)
        (covering,) = [s for s in found if s.start <= instant < s.end]
        assert covering.person == on_call_at(schedule, instant)
    # every shift's first instant too: no change hides inside a shift
    for shift in found:
        assert on_call_at(schedule, shift.start) == shift.person
        assert on_call_at(schedule, shift.end.astimezone(UTC) - timedelta(seconds=1)) == (
            shift.person
        )
