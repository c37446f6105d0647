"""The correlator: one incident per root, children join or wait, resolves always told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infradex.alerting.incidents import Correlator
from infradex.catalog import Catalog
from infradex.catalog.refs import Ref

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CDN = Ref("provider", "edgecdn")
CHILDREN = ["www", "docs", "wiki", "blog", "events"]


def nobody_unwell(ref: Ref) -> bool:
    return False


def unwell_of(*refs: Ref):  # type: ignore[no-untyped-def]
    names = set(refs)
    return lambda ref: ref in names


def test_a_check_down_opens_one_incident_and_a_second_check_joins_it(org: Catalog) -> None:
    c = Correlator()
    c.check_down(org, "service:solo/home", Ref("service", "solo"), T0, "refused", nobody_unwell)
    c.check_down(org, "service:solo/api", Ref("service", "solo"), T0, "refused", nobody_unwell)
    [incident] = c.drain()
    assert incident.key == "service:solo" and incident.status == "open"
    assert [m.role for m in incident.members.values()] == ["root", "root"]
    assert [e.kind for e in incident.events] == ["opened", "check_down", "check_down"]


def test_cdn_first_then_five_children_make_one_incident(org: Catalog) -> None:
    c = Correlator()
    c.check_down(org, "provider:edgecdn/edge", CDN, T0, "timeout", nobody_unwell)
    for i, name in enumerate(CHILDREN):
        at = T0 + timedelta(seconds=5 + i)
        c.check_down(org, f"service:{name}/home", Ref("service", name), at, "503", nobody_unwell)
    [incident] = c.drain()
    assert incident.key == "provider:edgecdn"
    impacted = sorted(m.entity for m in incident.members.values() if m.role == "impacted")
    assert impacted == sorted(f"service:{n}" for n in CHILDREN)
    assert len(c.by_key) == 1


def test_children_first_are_held_while_the_cdn_is_failing_softly(org: Catalog) -> None:
    c = Correlator()
    unwell = unwell_of(CDN)
    for name in CHILDREN:
        c.check_down(org, f"service:{name}/home", Ref("service", name), T0, "503", unwell)
    assert len(c.held) == 5 and c.drain() == []
    # within the window nothing is released while the CDN still looks unwell
    c.release_holds(org, T0 + timedelta(seconds=30), unwell)
    assert len(c.held) == 5 and c.drain() == []
    c.check_down(org, "provider:edgecdn/edge", CDN, T0 + timedelta(seconds=40), "timeout", unwell)
    [incident] = c.drain()
    assert incident.key == "provider:edgecdn" and not c.held
    assert sum(m.role == "impacted" for m in incident.members.values()) == 5


def test_a_hold_ends_with_the_window_and_the_child_opens_its_own(org: Catalog) -> None:
    c = Correlator(window=timedelta(seconds=60))
    unwell = unwell_of(CDN)
    c.check_down(org, "service:www/home", Ref("service", "www"), T0, "503", unwell)
    c.release_holds(org, T0 + timedelta(seconds=59), unwell)
    assert c.held
    c.release_holds(org, T0 + timedelta(seconds=61), unwell)
    [incident] = c.drain()
    assert incident.key == "service:www"
    assert incident.members["service:www/home"].down_at == T0  # when it really went down


def test_a_hold_ends_early_when_upstream_looks_well_again(org: Catalog) -> None:
    c = Correlator()
    c.check_down(org, "service:www/home", Ref("service", "www"), T0, "503", unwell_of(CDN))
    c.release_holds(org, T0 + timedelta(seconds=5), nobody_unwell)
    [incident] = c.drain()
    assert incident.key == "service:www"


def test_a_child_recovering_while_held_never_opens_anything(org: Catalog) -> None:
    c = Correlator()
    c.check_down(org, "service:www/home", Ref("service", "www"), T0, "503", unwell_of(CDN))
    c.check_up(org, "service:www/home", T0 + timedelta(seconds=20), nobody_unwell)
    c.release_holds(org, T0 + timedelta(seconds=90), nobody_unwell)
    assert c.drain() == [] and not c.held


def test_root_recovers_child_does_not_then_the_child_gets_its_own(org: Catalog) -> None:
    c = Correlator()
    c.check_down(org, "provider:edgecdn/edge", CDN, T0, "timeout", nobody_unwell)
    c.check_down(org, "service:www/home", Ref("service", "www"), T0, "503", nobody_unwell)
    c.check_down(org, "service:docs/home", Ref("service", "docs"), T0, "503", nobody_unwell)
    c.check_up(org, "service:docs/home", T0 + timedelta(minutes=4), nobody_unwell)
    c.drain()
    c.check_up(org, "provider:edgecdn/edge", T0 + timedelta(minutes=5), nobody_unwell)
    touched = c.drain()
    root, child = touched[0], touched[1]
    assert root.key == "provider:edgecdn" and root.status == "resolved"
    assert "resolve" in root.notices
    assert [e.kind for e in root.events][-1] == "detached"
    assert child.key == "service:www" and child.status == "open"
    assert set(c.by_key) == {"service:www"}


def test_an_impacted_child_recovering_does_not_resolve_the_root(org: Catalog) -> None:
    c = Correlator()
    c.check_down(org, "provider:edgecdn/edge", CDN, T0, "timeout", nobody_unwell)
    c.check_down(org, "service:www/home", Ref("service", "www"), T0, "503", nobody_unwell)
    c.check_up(org, "service:www/home", T0 + timedelta(minutes=1), nobody_unwell)
    [incident] = c.drain()
    assert incident.status == "open" and "resolve" not in incident.notices


def test_an_incident_resolved_minutes_ago_is_reopened_not_duplicated(org: Catalog) -> None:
    c = Correlator(reopen_window=timedelta(minutes=10))
    solo = Ref("service", "solo")
    c.check_down(org, "service:solo/home", solo, T0, "refused", nobody_unwell)
    [first] = c.drain()
    first.id = 7  # as if saved
    c.check_up(org, "service:solo/home", T0 + timedelta(minutes=2), nobody_unwell)
    c.check_down(
        org, "service:solo/home", solo, T0 + timedelta(minutes=5), "refused", nobody_unwell
    )
    [again] = c.drain()
    assert again is first and again.id == 7 and again.status == "open"
    assert again.transition == "reopened"
    c.check_up(org, "service:solo/home", T0 + timedelta(minutes=6), nobody_unwell)
    c.drain()
    c.check_down(org, "service:solo/home", solo, T0 + timedelta(minutes=30), "x", nobody_unwell)
    [fresh] = c.drain()
    assert fresh is not first and fresh.id is None


def test_a_hand_resolved_incident_is_forgotten_until_its_checks_fail_again(org: Catalog) -> None:
    c = Correlator()
    solo = Ref("service", "solo")
    c.check_down(org, "service:solo/home", solo, T0, "refused", nobody_unwell)
    [incident] = c.drain()
    c.forget(incident, "resolved", T0 + timedelta(minutes=1))
    assert not c.by_key and not c.by_check
    # the check is still down; a duplicate "down" is ignored by nobody: it opens again only
    # after the check recovers and fails anew (the monitor reports a change only then)
    c.check_up(org, "service:solo/home", T0 + timedelta(minutes=20), nobody_unwell)
    assert c.drain() == []


def test_a_check_removed_from_the_catalog_leaves_its_incident(org: Catalog) -> None:
    c = Correlator()
    solo = Ref("service", "solo")
    c.check_down(org, "service:solo/home", solo, T0, "refused", nobody_unwell)
    c.drain()
    c.check_up(org, "service:solo/home", T0 + timedelta(minutes=1), nobody_unwell, "removed")
    [incident] = c.drain()
    assert incident.status == "resolved"
    [up] = [e for e in incident.events if e.kind == "check_up"]
    assert up.data["reason"] == "removed"


def test_the_providers_own_status_page_confirms_the_incident(org: Catalog) -> None:
    c = Correlator()
    c.upstream_checks = frozenset({"provider:edgecdn/own-status"})
    c.check_down(org, "provider:edgecdn/edge", CDN, T0, "timeout", nobody_unwell)
    c.check_down(org, "service:www/home", Ref("service", "www"), T0, "503", nobody_unwell)
    later = T0 + timedelta(minutes=2)
    says = "[UPSTREAM] != major: got 'major'"
    c.check_down(org, "provider:edgecdn/own-status", CDN, later, says, nobody_unwell)
    [incident] = c.drain()
    confirmed = [e for e in incident.events if e.kind == "upstream_confirmed"]
    assert [(e.at, e.data["check"], e.data["message"]) for e in confirmed] == [
        (later, "provider:edgecdn/own-status", says)
    ]
    # an ordinary check of the same provider confirms nothing
    c.check_down(org, "provider:edgecdn/other", CDN, later, "timeout", nobody_unwell)
    assert [e.kind for e in c.drain()[0].events][-1] == "check_down"
