"""On-call schedules: who is on call when (across DST changes), overrides, layers, and the
gaps nobody covers.

DST changes used below (2024):

- Europe/Amsterdam: CET (UTC+1) → CEST (UTC+2) on Sunday 31 March (last Sunday of March);
  back on Sunday 27 October (last Sunday of October).
- America/New_York: EST (UTC-5) → EDT (UTC-4) on Sunday 10 March (2nd Sunday of March);
  back on Sunday 3 November (1st Sunday of November).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from infradex.catalog.models import ScheduleSpec
from infradex.oncall import Gap, coverage_gaps, on_call_at

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
