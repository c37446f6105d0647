"""Maintenance windows: one-off, recurring across DST, and what a target covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infradex.catalog.entities import Catalog
from infradex.errors import UsageError
from infradex.monitor.checks import checks_of
from infradex.monitor.maintenance import (
    Reach,
    Window,
    active_coverage,
    coverage,
    parse_rrule,
    reach,
    windows_covering,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_one_off_window_is_half_open() -> None:
    window = Window("service:docs", utc(2026, 12, 1, 10), utc(2026, 12, 1, 11))
    assert not window.active_at(utc(2026, 12, 1, 9, 59))
    assert window.active_at(utc(2026, 12, 1, 10))
    assert not window.active_at(utc(2026, 12, 1, 11))
    assert window.next_start(utc(2026, 11, 1)) == utc(2026, 12, 1, 10)


def test_a_weekly_window_keeps_its_wall_clock_time_across_dst() -> None:
    # Sundays 02:00-03:00 Amsterdam time; DST ends on 2026-10-25
    first = datetime(2026, 10, 18, 2, 0, tzinfo=UTC) - timedelta(hours=2)  # 02:00 CEST
    window = Window(
        "provider:fastly",
        first,
        first + timedelta(hours=1),
        rrule="FREQ=WEEKLY;BYDAY=SU",
        timezone="Europe/Amsterdam",
    )
    assert window.active_at(utc(2026, 10, 18, 0, 30))  # 02:30 CEST
    assert not window.active_at(utc(2026, 10, 18, 1, 30))
    # a week later it is CET (UTC+1): 02:00-03:00 local is 01:00-02:00 UTC
    assert window.active_at(utc(2026, 11, 1, 1, 30))
    assert not window.active_at(utc(2026, 11, 1, 0, 30))
    assert window.next_start(utc(2026, 11, 2)) == utc(2026, 11, 8, 1)


def test_a_bad_rrule_says_how_to_write_one() -> None:
    with pytest.raises(UsageError, match="FREQ=WEEKLY"):
        parse_rrule("EVERY SUNDAY", utc(2026, 1, 1), "UTC")
    with pytest.raises(UsageError, match="time zone"):
        parse_rrule("FREQ=DAILY", utc(2026, 1, 1), "Mars/Olympus")
    assert parse_rrule("RRULE:FREQ=DAILY", utc(2026, 1, 1), "UTC") == "FREQ=DAILY"


def test_a_provider_window_covers_every_check_behind_it(psf: Catalog) -> None:
    catalog = psf
    ids = [check.id for check in checks_of(catalog)]
    fastly = coverage(catalog, "provider:fastly", ids)
    # the PSF example puts docs, pypi and www (with its downloads) behind Fastly,
    # and Fastly's own status-page check is Fastly's too
    assert fastly == {
        "provider:fastly/own-status",
        "service:docs/home",
        "service:downloads/ftp-index",
        "service:pypi/home",
        "service:www/home",
    }
    assert coverage(catalog, "service:docs", ids) == {
        i for i in ids if i.startswith("service:docs/")
    }
    assert coverage(catalog, "service:docs/home", ids) == {"service:docs/home"}
    assert coverage(catalog, "service:nope", ids) == set()
    assert coverage(catalog, "not a ref", ids) == set()


def test_only_active_windows_cover(psf: Catalog) -> None:
    catalog = psf
    ids = [check.id for check in checks_of(catalog)]
    windows = [
        Window("service:docs", utc(2026, 12, 1, 10), utc(2026, 12, 1, 11), id=1),
        Window("service:pypi", utc(2026, 12, 2, 10), utc(2026, 12, 2, 11), id=2),
    ]
    covered = windows_covering(windows, catalog, ids, utc(2026, 12, 1, 10, 30))
    assert set(covered) == {i for i in ids if i.startswith("service:docs/")}
    assert all(w.id == 1 for w in covered.values())


def test_active_coverage_answers_as_windows_covering_for_any_checks(psf: Catalog) -> None:
    catalog = psf
    ids = [check.id for check in checks_of(catalog)]
    at = utc(2026, 12, 1, 10, 30)
    windows = [
        Window("service:pypi/home", utc(2026, 12, 1, 10), utc(2026, 12, 1, 11), id=1),
        Window("provider:fastly", utc(2026, 12, 1, 10), utc(2026, 12, 1, 11), id=2),
        Window("service:docs", utc(2026, 12, 2, 10), utc(2026, 12, 2, 11), id=3),
        Window("not a ref", utc(2026, 12, 1, 10), utc(2026, 12, 1, 11), id=4),
    ]
    coverage_now = active_coverage(windows, catalog, at)
    assert [w.id for w, _ in coverage_now.active] == [1, 2, 4]  # the third is not in force
    # a check the catalog no longer declares is still covered through its entity
    asked = [*ids, "service:docs/removed", "service:nope/home"]
    covered = coverage_now.covering(asked)
    assert covered == windows_covering(windows, catalog, asked, at)
    assert covered["service:pypi/home"].id == 1  # the first window in force wins
    assert covered["service:docs/removed"].id == 2
    assert "service:nope/home" not in covered
    assert coverage_now.covering(["service:docs/home"]) == {"service:docs/home": windows[1]}
    assert active_coverage(windows, catalog, utc(2026, 12, 3)).covering(ids) == {}


def test_the_reach_of_a_target(psf: Catalog) -> None:
    assert reach(psf, "service:docs/home") == Reach(checks=frozenset({"service:docs/home"}))
    assert reach(psf, "service:nope") == Reach()  # not in the catalog
    assert reach(psf, "not a ref") == Reach()
    assert {"provider:fastly", "service:docs"} <= reach(psf, "provider:fastly").owners
    assert Reach(owners=frozenset({"service:docs"})).covers("service:docs/home")
    assert not Reach(owners=frozenset({"service:docs"})).covers("service:docsy/home")


CATALOG_WINDOWS = """\
apiVersion: infradex/v1
kind: Service
metadata: {name: web}
spec:
  checks:
    - {name: home, url: "http://127.0.0.1:9/"}
    - {name: api, url: "http://127.0.0.1:9/api"}
  maintenance:
    - start: "2026-12-06T02:00"
      duration: 2h
      rrule: FREQ=WEEKLY;BYDAY=SU
      timezone: Europe/Amsterdam
      reason: weekly patching
    - {start: "2026-12-01T10:00Z", end: "2026-12-01T11:00Z", check: api}
"""


def test_windows_written_in_the_catalog(tmp_path, write_catalog) -> None:
    from infradex.lint import load
    from infradex.monitor.maintenance import catalog_windows

    loaded = load(write_catalog(tmp_path, {"web.yaml": CATALOG_WINDOWS}))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    weekly, one_off = catalog_windows(loaded.catalog)
    assert weekly.target == "service:web" and weekly.source == "catalog"
    assert weekly.remind_before is None and one_off.remind_before is None  # the default
    assert weekly.starts_at == utc(2026, 12, 6, 1)  # 02:00 CET
    assert weekly.active_at(utc(2026, 12, 13, 2, 30)) and not weekly.active_at(utc(2026, 12, 13, 3))
    assert one_off.target == "service:web/api"
    ids = [c.id for c in checks_of(loaded.catalog)]
    covered = windows_covering([weekly, one_off], loaded.catalog, ids, utc(2026, 12, 1, 10, 30))
    assert set(covered) == {"service:web/api"}


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ('{start: "2026-12-01T10:00Z"}', "give end or duration"),
        ('{start: "2026-12-01T10:00Z", end: "2026-12-01T09:00Z"}', "is not after start"),
        ('{start: "2026-12-01T10:00Z", duration: 1h, rrule: EVERY SUNDAY}', "FREQ=WEEKLY"),
        (
            '{start: "2026-12-01T10:00Z", duration: 1h, check: nope}',
            "does not have (its checks: home)",
        ),
        ('{start: "soon", duration: 1h}', "is not a date or time"),
        (
            '{start: "2026-12-01T10:00Z", duration: 1h, remindBefore: 2h}',
            "remindBefore reminds the subscribers of a public window",
        ),
        (
            '{start: "2026-12-01T10:00Z", duration: 1h, public: true, remindBefore: 8d}',
            "remindBefore is between 0 (no reminder) and 7d",
        ),
        (
            '{start: "2026-12-01T10:00Z", duration: 1h, public: true, remindBefore: soon}',
            "'soon' is not a duration",
        ),
    ],
)
def test_a_bad_window_in_the_catalog_is_an_error_with_its_line(
    tmp_path, write_catalog, window: str, message: str
) -> None:
    from infradex.lint import load

    text = (
        "apiVersion: infradex/v1\nkind: Service\nmetadata: {name: web}\nspec:\n"
        '  checks: [{name: home, url: "http://127.0.0.1:9/"}]\n'
        f"  maintenance:\n    - {window}\n"
    )
    loaded = load(write_catalog(tmp_path, {"web.yaml": text}))
    assert loaded.catalog is None
    problem = loaded.errors[0]
    assert message in problem.message, problem.message
    assert problem.file.endswith("web.yaml") and problem.line >= 4  # the spec or the window
