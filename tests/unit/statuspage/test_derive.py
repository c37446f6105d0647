"""Component states derived from check states, impact, public maintenance and overrides, on
the small catalog of ``catalog.py``; each state with its reason."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from infradex.catalog import Catalog
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.maintenance import Window
from infradex.statuspage.components import Layout, layout
from infradex.statuspage.derive import (
    NOT_MONITORED_DESCRIPTION,
    STALE_DESCRIPTION,
    ComponentState,
    Override,
    PageState,
    Status,
    derive,
    group_states,
    indicator,
)

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
CHECKS = (
    "provider:fastly/edge",
    "service:pypi/home",
    "service:pypi/simple",
    "service:files/files",
    "service:search/query",
    "service:backend/api",
    "service:mail/smtp",
)


def states(**shown: Shown) -> dict[str, CheckState]:
    """Every check up, except those named (``service__pypi__home=Shown.DOWN``)."""
    found = {c: CheckState(c, Shown.UP, Shown.UP) for c in CHECKS}
    for key, state in shown.items():
        kind, name, check = key.split("__")
        check_id = f"{kind}:{name}/{check}"
        assert check_id in found, check_id
        hard = Shown.DOWN if state is Shown.DOWN else Shown.UP
        found[check_id] = CheckState(check_id, state, hard)
    return found


def by_name(derived: tuple[ComponentState, ...]) -> dict[str, ComponentState]:
    return {str(c.component.ref): c for c in derived}


def run(
    catalog: Catalog,
    checks: dict[str, CheckState],
    windows: tuple[Window, ...] = (),
    overrides: tuple[Override, ...] = (),
    at: datetime = NOW,
) -> dict[str, ComponentState]:
    return by_name(derive(catalog, layout(catalog), checks, windows, overrides, at))


def page(the_layout: Layout, derived: dict[str, ComponentState], stale: bool = False) -> PageState:
    components = tuple(derived.values())
    return PageState(components, group_states(the_layout, components), NOW, NOW, stale)


def test_everything_up_is_operational_and_all_systems_operational(catalog: Catalog) -> None:
    derived = run(catalog, states())
    assert {c.status for c in derived.values()} == {Status.OPERATIONAL}
    assert indicator(page(layout(catalog), derived)) == ("none", "All Systems Operational")


def test_no_result_yet_says_nothing(catalog: Catalog) -> None:
    derived = run(catalog, {})
    assert {c.status for c in derived.values()} == {Status.OPERATIONAL}


def test_the_cdn_down_takes_down_what_only_it_fronts(catalog: Catalog) -> None:
    derived = run(catalog, states(provider__fastly__edge=Shown.DOWN))
    cdn, pypi = derived["provider:fastly"], derived["service:pypi"]
    assert cdn.status is Status.MAJOR_OUTAGE
    assert cdn.reason == "Fastly: every check is down"
    assert pypi.status is Status.MAJOR_OUTAGE
    assert pypi.reason.startswith("Fastly: every check is down (PyPI frontedBy Fastly")
    assert derived["service:files"].status is Status.MAJOR_OUTAGE
    assert derived["service:docs"].status is Status.OPERATIONAL
    assert indicator(page(layout(catalog), derived)) == ("critical", "Major Service Outage")


def test_some_checks_down_is_a_partial_outage_and_the_group_shows_its_worst(
    catalog: Catalog,
) -> None:
    derived = run(catalog, states(service__pypi__simple=Shown.DOWN))
    assert derived["service:pypi"].status is Status.PARTIAL_OUTAGE
    assert derived["service:pypi"].reason == "PyPI: 1 of 2 checks are down"
    assert derived["service:files"].status is Status.OPERATIONAL
    groups = {
        g.group.name: g.status for g in group_states(layout(catalog), tuple(derived.values()))
    }
    assert groups["Python Package Index"] is Status.PARTIAL_OUTAGE
    assert groups["Mail"] is Status.OPERATIONAL
    assert indicator(page(layout(catalog), derived)) == ("major", "Partial System Outage")


def test_a_soft_dependency_down_only_degrades(catalog: Catalog) -> None:
    derived = run(catalog, states(service__search__query=Shown.DOWN))
    docs = derived["service:docs"]
    assert docs.status is Status.DEGRADED_PERFORMANCE
    assert "soft" in docs.reason
    # search itself is down but not public: the page's indicator does not count it
    assert derived["service:search"].status is Status.MAJOR_OUTAGE
    assert indicator(page(layout(catalog), derived)) == ("minor", "Minor Service Outage")


def test_a_hard_dependency_that_is_no_component_still_takes_the_component_down(
    catalog: Catalog,
) -> None:
    derived = run(catalog, states(service__backend__api=Shown.DOWN))
    assert derived["service:docs"].status is Status.MAJOR_OUTAGE
    assert derived["service:docs"].reason.startswith("backend: every check is down")


def test_the_worst_cause_wins(catalog: Catalog) -> None:
    derived = run(
        catalog, states(service__search__query=Shown.DOWN, service__backend__api=Shown.DOWN)
    )
    assert derived["service:docs"].status is Status.MAJOR_OUTAGE


def test_flapping_is_degraded_performance(catalog: Catalog) -> None:
    derived = run(catalog, states(service__files__files=Shown.FLAPPING))
    assert derived["service:files"].status is Status.DEGRADED_PERFORMANCE
    assert derived["service:files"].reason == "files: 1 check(s) flapping"


def window(target: str, public: bool) -> Window:
    return Window(target, NOW - timedelta(hours=1), NOW + timedelta(hours=1), public=public)


def test_a_public_window_shows_under_maintenance_on_what_it_takes_down(catalog: Catalog) -> None:
    maintained = states(provider__fastly__edge=Shown.MAINTENANCE)
    derived = run(catalog, maintained, (window("provider:fastly", public=True),))
    assert derived["provider:fastly"].status is Status.UNDER_MAINTENANCE
    assert derived["service:pypi"].status is Status.UNDER_MAINTENANCE
    assert derived["service:pypi"].reason == "public maintenance window on provider:fastly"
    assert derived["service:docs"].status is Status.OPERATIONAL
    assert indicator(page(layout(catalog), derived)) == ("maintenance", "Service Under Maintenance")


def test_an_internal_window_shows_nothing(catalog: Catalog) -> None:
    maintained = states(provider__fastly__edge=Shown.MAINTENANCE)
    derived = run(catalog, maintained, (window("provider:fastly", public=False),))
    assert {c.status for c in derived.values()} == {Status.OPERATIONAL}


def test_a_window_that_is_over_shows_nothing(catalog: Catalog) -> None:
    derived = run(
        catalog, states(), (window("provider:fastly", public=True),), at=NOW + timedelta(hours=2)
    )
    assert derived["provider:fastly"].status is Status.OPERATIONAL


def override(status: Status, hours: int = 2) -> Override:
    return Override(
        "service:pypi",
        status,
        NOW + timedelta(hours=hours),
        "the mirror is lagging",
        "token:ops",
        NOW - timedelta(minutes=5),
    )


def test_an_override_wins_until_it_expires(catalog: Catalog) -> None:
    forced = (override(Status.DEGRADED_PERFORMANCE),)
    derived = run(catalog, states(provider__fastly__edge=Shown.DOWN), overrides=forced)
    pypi = derived["service:pypi"]
    assert pypi.status is Status.DEGRADED_PERFORMANCE
    assert pypi.override is not None
    assert pypi.reason == (
        "override by token:ops until 2026-12-06 05:00 UTC: the mirror is lagging"
    )
    later = run(
        catalog,
        states(provider__fastly__edge=Shown.DOWN),
        overrides=forced,
        at=NOW + timedelta(hours=3),
    )
    assert later["service:pypi"].status is Status.MAJOR_OUTAGE
    assert later["service:pypi"].override is None


def test_only_show_if_degraded_hides_while_operational(catalog: Catalog) -> None:
    the_layout = layout(catalog)
    fine = page(the_layout, run(catalog, states()))
    mail = next(c for c in fine.components if str(c.component.ref) == "service:mail")
    assert not fine.shown(mail)
    broken = page(the_layout, run(catalog, states(service__mail__smtp=Shown.DOWN)))
    mail = next(c for c in broken.components if str(c.component.ref) == "service:mail")
    assert broken.shown(mail)


def test_a_stale_page_is_never_all_systems_operational(catalog: Catalog) -> None:
    the_layout = layout(catalog)
    assert indicator(page(the_layout, run(catalog, states()), stale=True)) == (
        "minor",
        STALE_DESCRIPTION,
    )
    down = run(catalog, states(provider__fastly__edge=Shown.DOWN))
    assert indicator(page(the_layout, down, stale=True)) == ("critical", STALE_DESCRIPTION)


def test_a_page_nothing_monitors_says_so_and_claims_nothing(catalog: Catalog) -> None:
    """The PSF demo without --monitor: no outage, no "out of date", no "All Systems
    Operational"; what people set (an override, maintenance) still shows."""
    the_layout = layout(catalog)
    quiet = run(catalog, {})
    unmonitored = replace(page(the_layout, quiet), last_report=None, monitored=False)
    assert indicator(unmonitored) == ("none", NOT_MONITORED_DESCRIPTION)
    down = run(catalog, states(provider__fastly__edge=Shown.DOWN))
    overridden = replace(page(the_layout, down), monitored=False)
    assert indicator(overridden) == ("critical", "Major Service Outage")


def test_layout_orders_groups_and_gives_stable_ids(catalog: Catalog) -> None:
    first = layout(catalog)
    again = layout(catalog)
    assert first == again
    names = [getattr(entry, "name", None) for entry in first.top_level(public_only=False)]
    # ordered first (pypi: 1 puts its group first, fastly: 50), then catalog order
    assert names == ["Python Package Index", "Content Delivery Network", "Python.org", "Mail"]
    pypi_group = first.groups[0]
    assert [m.name for m in pypi_group.members] == ["pypi.org", "files.pythonhosted.org"]
    assert [m.position for m in pypi_group.members] == [1, 2]
    ids = {c.id for c in first.components} | {g.id for g in first.groups}
    assert len(ids) == len(first.components) + len(first.groups)
    assert all(re.fullmatch("[0-9a-f]{12}", i) for i in ids)
    docs = next(c for c in first.components if str(c.ref) == "service:docs")
    assert docs.name == "docs.python.org"  # the entity's title when the block has no name
    assert docs.group_id == next(g.id for g in first.groups if g.name == "Python.org")


def test_a_group_of_private_members_is_not_public(catalog: Catalog) -> None:
    public = [getattr(e, "name", None) for e in layout(catalog).top_level(public_only=True)]
    assert "Python.org" in public  # docs is public, search is not
    python_org = next(g for g in layout(catalog).groups if g.name == "Python.org")
    assert [m.name for m in python_org.public_members] == ["docs.python.org"]


def test_without_reasons_the_states_are_the_same_and_the_sentences_empty(
    catalog: Catalog,
) -> None:
    """The replay of a year (outages.py) keeps only the states: it derives without the
    sentences, and must get the states a page would show."""
    cases = [
        (states(), (), ()),
        (states(provider__fastly__edge=Shown.DOWN, service__search__query=Shown.DOWN), (), ()),
        (states(service__pypi__home=Shown.DOWN, service__files__files=Shown.FLAPPING), (), ()),
        (states(service__backend__api=Shown.DOWN), (window("provider:fastly", public=True),), ()),
        (states(provider__fastly__edge=Shown.DOWN), (), (override(Status.PARTIAL_OUTAGE),)),
    ]
    for checks, windows, overrides in cases:
        full = derive(catalog, layout(catalog), checks, windows, overrides, NOW)
        bare = derive(catalog, layout(catalog), checks, windows, overrides, NOW, reasons=False)
        assert [(c.component, c.status, c.override) for c in bare] == [
            (c.component, c.status, c.override) for c in full
        ]
        for plain, worded in zip(bare, full, strict=True):
            operational = worded.status is Status.OPERATIONAL
            assert plain.reason == (worded.reason if operational else "")
