"""Outage minutes from state history, as Statuspage counts uptime: major outage in full,
partial outage weighted 0.3, degraded counted as up, maintenance left out; the state over
time replayed through ``derive`` on the small catalog of ``conftest.py``."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infradex.catalog import Catalog
from infradex.lint import load
from infradex.monitor.evaluate import Shown
from infradex.monitor.maintenance import Window
from infradex.statuspage.components import layout
from infradex.statuspage.derive import Override, Status
from infradex.statuspage.outages import (
    Change,
    Day,
    Segment,
    day_minutes,
    group_day,
    relevant_checks,
    replay,
    span_uptime,
    uptime_history,
)

DAY = date(2026, 12, 1)
MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)
NEXT = MIDNIGHT + timedelta(days=1)
CHECKS = (
    "provider:fastly/edge",
    "service:pypi/home",
    "service:pypi/simple",
    "service:files/files",
    "service:search/query",
    "service:backend/api",
    "service:mail/smtp",
)


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def one_day(*segments: tuple[float, float, Status]) -> Day:
    """A day observed from midnight to midnight, operational but for ``segments``."""
    cuts = sorted({0.0, 24.0, *(h for s in segments for h in s[:2])})
    states = {(a, b): s for a, b, s in segments}
    found = []
    for low, high in itertools.pairwise(cuts):
        status = next(
            (s for (a, b), s in states.items() if a <= low and high <= b), Status.OPERATIONAL
        )
        found.append(Segment(at(low), at(high), status, True))
    [day] = day_minutes(found, DAY, DAY)
    return day


def test_thirty_minutes_of_major_outage_is_1_minus_30_of_1440() -> None:
    day = one_day((10, 10.5, Status.MAJOR_OUTAGE))
    assert day.major_minutes == 30
    assert day.uptime() == pytest.approx(1 - 30 / 1440)


def test_partial_outage_weighs_three_tenths_and_degraded_counts_as_up() -> None:
    partial = one_day((10, 11, Status.PARTIAL_OUTAGE))
    assert partial.partial_minutes == 60
    assert partial.uptime() == pytest.approx(1 - 0.3 * 60 / 1440)
    degraded = one_day((0, 12, Status.DEGRADED_PERFORMANCE))
    assert degraded.uptime() == 1.0
    assert degraded.degraded == 12 * 3600


def test_maintenance_is_left_out_of_the_minutes_counted() -> None:
    day = one_day((0, 12, Status.UNDER_MAINTENANCE), (12, 12.5, Status.MAJOR_OUTAGE))
    assert day.maintenance_minutes == 720
    assert day.uptime() == pytest.approx(1 - 30 / 720)
    only = one_day((0, 24, Status.UNDER_MAINTENANCE))
    assert only.uptime() is None  # nothing counted: a blue bar, not 100 %


def test_unobserved_time_counts_for_nothing_and_days_are_cut_at_midnight() -> None:
    segments = [
        Segment(at(-2), at(6), Status.OPERATIONAL, False),  # before the first result
        Segment(at(6), at(23), Status.OPERATIONAL, True),
        Segment(at(23), at(25), Status.MAJOR_OUTAGE, True),  # across midnight
    ]
    first, second = day_minutes(segments, DAY, DAY + timedelta(days=1))
    assert first.observed == 18 * 3600
    assert first.major_minutes == 60
    assert first.uptime() == pytest.approx(1 - 1 / 18)
    assert second.observed == 3600 and second.uptime() == 0.0
    [empty] = day_minutes([], DAY, DAY)
    assert empty.uptime() is None


_STATUS = st.sampled_from(list(Status))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3 * 24 * 60), _STATUS, st.booleans()), min_size=1, max_size=40
    )
)
def test_every_second_is_counted_once_and_uptime_stays_between_0_and_1(
    pieces: list[tuple[int, Status, bool]],
) -> None:
    segments, start = [], MIDNIGHT
    for minutes, status, observed in pieces:
        end = start + timedelta(minutes=minutes)
        segments.append(Segment(start, end, status, observed))
        start = end
    last = (start - timedelta(microseconds=1)).date()
    days = day_minutes(segments, DAY, last)
    assert [d.day for d in days] == [DAY + timedelta(days=i) for i in range(len(days))]
    kept = [s for s in segments if s.observed and s.status is not Status.UNDER_MAINTENANCE]
    counted = sum((s.end - s.start for s in kept), timedelta()).total_seconds()
    assert sum(d.observed for d in days) == pytest.approx(counted)
    for day in days:
        assert day.observed + day.maintenance <= 86400 + 1e-6
        assert day.major + day.partial + day.degraded <= day.observed + 1e-6
        uptime = day.uptime()
        assert uptime is None or 0.0 <= uptime <= 1.0
    whole = span_uptime(days)
    assert whole is None or 0.0 <= whole <= 1.0


def _each_day(segments: list[Segment], first: date, last: date) -> list[tuple[float, ...]]:
    """The seconds of each field, day by day, counted the plain way (every segment cut at
    every midnight): what the shared days must add up to."""
    count = (last - first).days + 1
    base = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()
    sums = [[0.0] * 5 for _ in range(count)]
    extra = {Status.MAJOR_OUTAGE: 1, Status.PARTIAL_OUTAGE: 2, Status.DEGRADED_PERFORMANCE: 3}
    for segment in segments:
        if segment.status is Status.UNDER_MAINTENANCE:
            fields = [4]
        elif segment.observed:
            fields = [0] + ([extra[segment.status]] if segment.status in extra else [])
        else:
            continue
        at = max(0.0, segment.start.timestamp() - base)
        end = min(count * 86400.0, segment.end.timestamp() - base)
        index = int(at // 86400)
        while at < end:
            stop = min(end, (index + 1) * 86400.0)
            for field in fields:
                sums[index][field] += stop - at
            at, index = stop, index + 1
    return [tuple(day) for day in sums]


def _fields(day: Day) -> tuple[float, ...]:
    return (day.observed, day.major, day.partial, day.degraded, day.maintenance)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.5, 20 * 86400), st.sampled_from(list(Status)), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.floats(-3 * 86400, 86400),
)
def test_whole_days_are_shared_and_count_the_same_as_day_by_day(
    pieces: list[tuple[float, Status, bool]], offset: float
) -> None:
    segments, start = [], MIDNIGHT + timedelta(seconds=offset)
    for seconds, status, observed in pieces:
        end = start + timedelta(seconds=seconds)
        segments.append(Segment(start, end, status, observed))
        start = end
    last = DAY + timedelta(days=40)
    days = day_minutes(segments, DAY, last)
    assert [_fields(d) for d in days] == _each_day(segments, DAY, last)  # exactly
    assert [d.day for d in days] == [DAY + timedelta(days=i) for i in range(41)]


def test_days_up_all_day_are_one_object_per_date_and_groups_average_them(
    catalog: Catalog,
) -> None:
    the_layout = layout(catalog)
    last = DAY + timedelta(days=9)
    up = [Segment(MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=10),
                  Status.OPERATIONAL, True)]  # fmt: skip
    segments = {c.id: up for c in the_layout.components}
    pypi = next(c.id for c in the_layout.components if str(c.ref) == "service:pypi")
    segments[pypi] = [
        Segment(up[0].start, at(30), Status.OPERATIONAL, True),
        Segment(at(30), at(31), Status.MAJOR_OUTAGE, True),
        Segment(at(31), up[0].end, Status.OPERATIONAL, True),
    ]
    found = uptime_history(the_layout, segments, DAY, last).days
    others = [c.id for c in the_layout.components if c.id != pypi]
    for index in range(10):
        assert len({id(found[c][index]) for c in others}) == 1  # one shared day
    assert found[pypi][1].major_minutes == 60 and found[pypi][1] is not found[others[0]][1]
    for group in the_layout.groups:
        members = [found[m.id] for m in group.public_members]
        for index, day in enumerate(found[group.id]):
            expected = group_day([m[index] for m in members])
            assert (_fields(day), day.average) == (_fields(expected), expected.average)


def test_a_group_shows_the_average_of_its_members() -> None:
    a = one_day((10, 10.5, Status.MAJOR_OUTAGE))
    b = one_day()
    c = Day(DAY)  # no data: left out of the average
    group = group_day([a, b, c])
    assert group.uptime() == pytest.approx((1 - 30 / 1440 + 1.0) / 2)
    assert group.major_minutes == 30
    assert span_uptime([group]) == pytest.approx(group.uptime())
    assert group_day([c]).uptime() is None


def test_relevant_checks_include_what_takes_a_component_down(catalog: Catalog) -> None:
    the_layout = layout(catalog)
    relevant = relevant_checks(catalog, the_layout)
    ids = {str(c.ref): c.id for c in the_layout.components}
    assert relevant[ids["service:docs"]] == {"service:backend/api", "service:search/query"}
    assert "provider:fastly/edge" in relevant[ids["service:pypi"]]
    assert relevant[ids["provider:fastly"]] == {"provider:fastly/edge"}


def _replay(
    catalog: Catalog,
    changes: list[Change],
    windows: tuple[Window, ...] = (),
    overrides: tuple[Override, ...] = (),
    initial: dict[str, Shown] | None = None,
) -> dict[str, Day]:
    the_layout = layout(catalog)
    first = {c: Shown.UP for c in CHECKS} if initial is None else initial
    segments = replay(catalog, the_layout, first, changes, windows, overrides, MIDNIGHT, NEXT)
    found = uptime_history(the_layout, segments, DAY, DAY)
    names = {c.id: str(c.ref) for c in the_layout.components}
    names |= {g.id: f"group:{g.name}" for g in the_layout.groups}
    return {names[key]: days[0] for key, days in found.days.items()}


def test_replayed_state_changes_give_each_component_its_outage_minutes(
    catalog: Catalog,
) -> None:
    days = _replay(
        catalog,
        [
            # one of pypi's two checks down for an hour: partial outage
            Change("service:pypi/home", at(1), Shown.DOWN),
            Change("service:pypi/home", at(2), Shown.UP),
            # the CDN down 30 minutes: the CDN, pypi and files in major outage
            Change("provider:fastly/edge", at(5), Shown.DOWN),
            Change("provider:fastly/edge", at(5.5), Shown.UP),
            # the backend (no component) down 15 minutes: docs, which has no check, is down
            Change("service:backend/api", at(8), Shown.DOWN),
            Change("service:backend/api", at(8.25), Shown.UP),
            # search (a soft dependency of docs) down: docs degraded, counted as up
            Change("service:search/query", at(9), Shown.DOWN),
            Change("service:search/query", at(12), Shown.UP),
        ],
    )
    pypi, cdn, docs = days["service:pypi"], days["provider:fastly"], days["service:docs"]
    assert (pypi.major_minutes, pypi.partial_minutes) == (30, 60)
    assert pypi.uptime() == pytest.approx(1 - (30 + 0.3 * 60) / 1440)
    assert (cdn.major_minutes, cdn.partial_minutes) == (30, 0)
    assert (docs.major_minutes, docs.partial_minutes) == (15, 0)
    assert docs.degraded == 3 * 3600
    assert docs.uptime() == pytest.approx(1 - 15 / 1440)  # the grey-bars gap is closed
    assert days["service:mail"].uptime() == 1.0
    files = days["service:files"]
    group = days["group:Python Package Index"]
    assert group.uptime() == pytest.approx((pypi.uptime() + files.uptime()) / 2)  # type: ignore[operator]


def test_unknown_and_missing_results_are_not_observed(catalog: Catalog) -> None:
    days = _replay(
        catalog,
        [Change("service:mail/smtp", at(12), Shown.UP)],
        initial={"service:mail/smtp": Shown.UNKNOWN},
    )
    assert days["service:mail"].observed == 12 * 3600
    assert days["service:pypi"].uptime() is None  # no result all day: grey


def test_public_maintenance_and_overrides_are_replayed(catalog: Catalog) -> None:
    window = Window("service:mail", at(2), at(4), public=True, public_name="Upgrade")
    private = Window("service:pypi", at(2), at(4), public=False)
    override = Override("service:files", Status.MAJOR_OUTAGE, at(7), "hand set", "user:ann", at(6))
    days = _replay(
        catalog,
        [
            Change("service:mail/smtp", at(3), Shown.MAINTENANCE),
            Change("service:mail/smtp", at(4), Shown.UP),
        ],
        windows=(window, private),
        overrides=(override,),
    )
    mail = days["service:mail"]
    assert mail.maintenance_minutes == 120
    assert mail.observed == 22 * 3600 and mail.uptime() == 1.0
    assert days["service:pypi"].maintenance == 0  # internal maintenance does not show
    assert days["service:files"].major_minutes == 60


ALONE = {
    "all.yaml": """\
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: cdn, title: The CDN}
    spec:
      type: cdn
      statusPage: {name: Content Delivery Network}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: web}
    spec:
      frontedBy: [provider:cdn]
      checks: [{name: home, url: "http://127.0.0.1:9/"}]
      status: {name: Website}
    """
}


def test_a_component_no_check_reaches_counts_while_the_monitor_reports(
    tmp_path: Path,
    write_catalog,  # type: ignore[no-untyped-def]
) -> None:
    """The CDN has no check, and nothing upstream of it has one: its bars come from its
    derived state (operational) while the monitor reports, grey before."""
    loaded = load(write_catalog(tmp_path / "alone", ALONE))
    assert loaded.catalog is not None
    the_layout = layout(loaded.catalog)
    ids = {str(c.ref): c.id for c in the_layout.components}
    assert relevant_checks(loaded.catalog, the_layout)[ids["provider:cdn"]] == frozenset()
    changes = [
        Change("service:web/home", at(6), Shown.UP),
        Change("service:web/home", at(12), Shown.DOWN),
        Change("service:web/home", at(13), Shown.UP),
    ]
    segments = replay(loaded.catalog, the_layout, {}, changes, (), (), MIDNIGHT, NEXT)
    days = uptime_history(the_layout, segments, DAY, DAY).days
    cdn, web = days[ids["provider:cdn"]][0], days[ids["service:web"]][0]
    assert cdn.observed == 18 * 3600 and cdn.uptime() == 1.0
    assert web.observed == 18 * 3600 and web.uptime() == pytest.approx(1 - 1 / 18)
