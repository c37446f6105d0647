"""who / impact / ownership_report / graph and Catalog.resolve on a small hand-written catalog.

The catalog (``SMALL``)::

    provider:fastly (cdn)   provider:do (iaas) ── datacenter:nyc1 ── host:web1, host:web2
    provider:route53 (dns)                     └─ datacenter:ams1 ── host:db1
    zone:example.org on route53

    service:web  hostedOn web1, web2; frontedBy fastly; dependsOn db;
                 owners person:ann (maintainer), team:web; domains www.example.org, example.org
    service:db   hostedOn db1; owners team:web
    service:api  hostedOn web2, db1; dependsOn web; owners team:ghosts (no members, no contacts)
    service:legacy  owners person:cat (emeritus)
    service:orphan  no owners, no contacts
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.catalog import Catalog, Ref
from infradex.catalog.queries import graph, impact, ownership_report, who
from infradex.errors import NotFoundError, UsageError
from infradex.lint import load

SMALL = {
    "providers.yaml": """\
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: fastly, title: Fastly}
    spec: {type: cdn}
    ---
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: do, title: DigitalOcean}
    spec: {type: iaas}
    ---
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: route53, title: Route 53}
    spec: {type: dns}
    ---
    apiVersion: infradex/v1
    kind: Datacenter
    metadata: {name: nyc1}
    spec: {provider: do, region: NYC3}
    ---
    apiVersion: infradex/v1
    kind: Datacenter
    metadata: {name: ams1}
    spec: {provider: do, region: AMS3}
    """,
    "hosts.yaml": """\
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: web1, title: web1.example.org}
    spec: {datacenter: nyc1}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: web2, title: web2.example.org}
    spec: {datacenter: nyc1}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: db1, title: db1.example.org}
    spec: {datacenter: ams1}
    """,
    "people.yaml": """\
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: ann, title: Ann Admin}
    spec:
      email: ann@example.org
      staff: true
      timezone: Europe/Amsterdam
      handles: {irc: ann_}
    ---
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: bob, title: Bob Builder}
    spec:
      email: bob@example.org
      timezone: America/New_York
      memberOf: [team:web]
    ---
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: cat, title: Cat Former}
    spec:
      email: cat@example.org
      status: emeritus
    """,
    "teams.yaml": """\
    apiVersion: infradex/v1
    kind: Team
    metadata: {name: infrastructure, title: Infrastructure Team}
    spec:
      contacts:
        - {type: irc, address: "#infra", network: libera, role: secondary}
        - {type: email, address: infra@example.org, role: primary}
    ---
    apiVersion: infradex/v1
    kind: Team
    metadata: {name: web, title: Web Team}
    spec:
      contacts: [{type: email, address: web-team@example.org}]
    ---
    apiVersion: infradex/v1
    kind: Team
    metadata: {name: ghosts}
    spec: {}
    """,
    "services.yaml": """\
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: web, title: The Website}
    spec:
      domains: [www.example.org, example.org]
      hostedOn: [host:web1, host:web2]
      frontedBy: [provider:fastly]
      dependsOn: [service:db]
      owners:
        - {ref: person:ann, role: maintainer}
        - {ref: team:web}
      contacts:
        - {type: url, address: "https://issues.example.org/", role: secondary}
        - {type: email, address: web-alerts@example.org, role: primary}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: db, title: Database}
    spec:
      hostedOn: [host:db1]
      owners: [{ref: team:web}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: api}
    spec:
      domains: [api.example.org]
      hostedOn: [host:web2, host:db1]
      dependsOn: [service:web]
      owners: [{ref: team:ghosts}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: legacy}
    spec:
      lifecycle: deprecated
      owners: [{ref: person:cat}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: orphan}
    spec: {lifecycle: experimental}
    """,
    "zones.yaml": """\
    apiVersion: infradex/v1
    kind: Zone
    metadata: {name: example.org}
    spec:
      provider: route53
      records:
        '': {type: A, value: 192.0.2.1}
        api: {type: A, value: 192.0.2.3}
        www: {type: A, value: 192.0.2.2}
    """,
}


def ref(text: str) -> Ref:
    kind, name = text.split(":")
    return Ref(kind, name)


@pytest.fixture
def catalog(tmp_path: Path, write_catalog) -> Catalog:
    result = load(write_catalog(tmp_path / "small", SMALL))
    assert result.errors == [], [str(p) for p in result.errors]
    assert result.catalog is not None
    return result.catalog


# ============================================================================ resolve
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("service:web", "service:web"),
        ("Service:web", "service:web"),
        ("www.example.org", "service:web"),
        ("EXAMPLE.ORG.", "service:web"),
        ("https://www.example.org/some/page?x=1", "service:web"),
        ("https://api.example.org:8443/v1/", "service:api"),
        ("www.example.org/about", "service:web"),
        ("web1.example.org", "host:web1"),  # a title, e.g. a host's FQDN
        ("The Website", "service:web"),
        ("db1", "host:db1"),  # a bare name only one kind uses
        ("ann", "person:ann"),
        ("  nyc1  ", "datacenter:nyc1"),
    ],
)
def test_resolve(catalog: Catalog, text: str, expected: str) -> None:
    assert catalog.resolve(text) == ref(expected)


def test_resolve_ambiguous_bare_name(catalog: Catalog) -> None:
    with pytest.raises(UsageError) as info:
        catalog.resolve("web")  # team:web and service:web
    message = str(info.value)
    assert "'web' names several entities" in message
    assert "team:web" in message
    assert "service:web" in message


def test_resolve_unknown_name_suggests(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError) as info:
        catalog.resolve("webb")
    assert str(info.value) == (
        "nothing in the catalog is called 'webb'; did you mean web or web2 or web1?"
    )


def test_resolve_unknown_reference_suggests(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError) as info:
        catalog.resolve("service:orphn")
    assert str(info.value) == "service:orphn is not in the catalog; did you mean orphan?"


def test_resolve_unknown_without_anything_close(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError) as info:
        catalog.resolve("zzzzzz")
    assert "`infradex list KIND` shows what there is" in str(info.value)


@pytest.mark.parametrize("text", ["", "   ", "planet:x", "service:Not A Slug"])
def test_resolve_malformed(catalog: Catalog, text: str) -> None:
    with pytest.raises(UsageError):
        catalog.resolve(text)


# ============================================================================ who
def test_who_order_owners_then_team_then_contacts_then_infrastructure(catalog: Catalog) -> None:
    answer = who(catalog, ref("service:web"))
    assert answer.target == ref("service:web")
    assert [(str(c.ref), c.reason) for c in answer.contacts] == [
        ("person:ann", "maintainer of The Website"),
        ("team:web", "owning team (owner) of The Website"),
        ("service:web", "listed contact of The Website"),
        ("person:bob", "member of Web Team, which owns The Website"),
        ("team:infrastructure", "fallback: the infrastructure team"),
    ]
    ann, team, service, _bob, infra = answer.contacts
    assert [str(c) for c in ann.channels] == ["email: ann@example.org", "irc: ann_"]
    assert [c.address for c in team.channels] == ["web-team@example.org"]
    # listed contacts: primary before secondary, whatever the written order
    assert [c.role for c in service.channels] == ["primary", "secondary"]
    assert [c.address for c in infra.channels] == ["infra@example.org", "#infra"]


def test_who_falls_back_to_the_infrastructure_team(catalog: Catalog) -> None:
    answer = who(catalog, ref("service:orphan"))
    (only,) = answer.contacts
    assert only.ref == ref("team:infrastructure")
    assert only.reason == "nobody else is listed: the infrastructure team answers for everything"
    assert only.name == "Infrastructure Team"


def test_who_marks_emeritus_owners(catalog: Catalog) -> None:
    answer = who(catalog, ref("service:legacy"))
    assert [(str(c.ref), c.reason) for c in answer.contacts] == [
        ("person:cat", "owner of legacy (emeritus)"),
        ("team:infrastructure", "fallback: the infrastructure team"),
    ]


def test_who_for_a_host_asks_about_its_services(catalog: Catalog) -> None:
    answer = who(catalog, ref("host:db1"))
    assert [(str(c.ref), c.reason) for c in answer.contacts] == [
        ("team:web", "owning team (owner) of Database, which runs on db1.example.org"),
        ("person:bob", "member of Web Team, which owns Database (runs on db1.example.org)"),
        ("team:ghosts", "owning team (owner) of api, which runs on db1.example.org"),
        ("team:infrastructure", "fallback: the infrastructure team"),
    ]


def test_who_for_a_zone(catalog: Catalog) -> None:
    answer = who(catalog, ref("zone:example.org"))
    assert answer.contacts[0].ref == ref("person:ann")
    assert answer.contacts[-1].ref == ref("team:infrastructure")
    assert answer.contacts[-1].reason == "the infrastructure team handles DNS changes"


def test_who_for_a_team_lists_its_members(catalog: Catalog) -> None:
    answer = who(catalog, ref("team:web"))
    assert [str(c.ref) for c in answer.contacts] == [
        "team:web",
        "person:bob",
        "team:infrastructure",
    ]


def test_who_without_an_infrastructure_team(tmp_path: Path, write_catalog) -> None:
    files = dict(SMALL)
    files["teams.yaml"] = SMALL["teams.yaml"].replace("name: infrastructure", "name: ops")
    result = load(write_catalog(tmp_path, files))
    assert result.catalog is not None
    assert who(result.catalog, ref("service:orphan")).contacts == ()


def test_who_unknown_target(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError):
        who(catalog, ref("service:nope"))


def test_who_to_dict(catalog: Catalog) -> None:
    data = who(catalog, ref("service:orphan")).to_dict()
    assert data["target"] == "service:orphan"
    assert data["contacts"][0]["channels"][0] == {
        "type": "email",
        "address": "infra@example.org",
        "role": "primary",
    }


# ============================================================================ impact
def effects(catalog: Catalog, root: str) -> dict[str, str]:
    return {str(a.ref): a.effect for a in impact(catalog, ref(root)).affected}


def test_one_of_two_hosts_degrades_and_degraded_propagates_along_depends_on(
    catalog: Catalog,
) -> None:
    result = impact(catalog, ref("host:web1"))
    assert result.root == ref("host:web1")
    assert [(str(a.ref), a.effect) for a in result.affected] == [
        ("service:web", "degraded"),
        ("service:api", "degraded"),
    ]
    web, api = result.affected
    assert web.path == (ref("host:web1"), ref("service:web"))
    assert web.relations == ("hostedOn",)
    assert (
        web.why(catalog)
        == "The Website hostedOn web1.example.org; still served by web2.example.org"
    )
    assert api.path == (ref("host:web1"), ref("service:web"), ref("service:api"))
    assert api.relations == ("hostedOn", "dependsOn")
    assert api.why(catalog) == "api dependsOn The Website, which is degraded"


def test_both_hosts_down_when_their_datacenter_fails(catalog: Catalog) -> None:
    result = impact(catalog, ref("datacenter:nyc1"))
    assert effects(catalog, "datacenter:nyc1") == {
        "host:web1": "down",
        "host:web2": "down",
        "service:web": "down",
        "service:api": "down",  # needs web, which is down
    }
    web = next(a for a in result.affected if a.ref == ref("service:web"))
    assert web.path == (ref("datacenter:nyc1"), ref("host:web1"), ref("service:web"))
    assert web.relations == ("locatedIn", "hostedOn")
    assert [a.ref.kind for a in result.affected][:2] == ["host", "host"]  # nearest first


def test_the_path_of_a_down_entity_explains_why_it_is_down(catalog: Catalog) -> None:
    """api is on web2 (nyc1) and db1 (ams1), and needs web. Losing nyc1 alone would only
    degrade it through web2; it is down because web is down, and the path says so."""
    result = impact(catalog, ref("datacenter:nyc1"))
    api = next(a for a in result.affected if a.ref == ref("service:api"))
    assert api.effect == "down"
    assert api.path == (
        ref("datacenter:nyc1"),
        ref("host:web1"),
        ref("service:web"),
        ref("service:api"),
    )
    assert api.relations == ("locatedIn", "hostedOn", "dependsOn")


def test_a_dependency_failing_takes_down_what_depends_on_it(catalog: Catalog) -> None:
    result = impact(catalog, ref("service:db"))
    assert [(str(a.ref), a.effect) for a in result.affected] == [
        ("service:web", "down"),
        ("service:api", "down"),
    ]
    api = result.affected[1]
    assert api.path == (ref("service:db"), ref("service:web"), ref("service:api"))
    assert api.relations == ("dependsOn", "dependsOn")


def test_single_cdn_takes_down_what_it_fronts(catalog: Catalog) -> None:
    assert effects(catalog, "provider:fastly") == {"service:web": "down", "service:api": "down"}


def test_dns_provider_takes_down_zone_and_services(catalog: Catalog) -> None:
    result = impact(catalog, ref("provider:route53"))
    by_ref = {str(a.ref): a for a in result.affected}
    assert {k: a.effect for k, a in by_ref.items()} == {
        "zone:example.org": "down",
        "service:web": "down",
        "service:api": "down",
    }
    assert by_ref["service:web"].path == (
        ref("provider:route53"),
        ref("zone:example.org"),
        ref("service:web"),
    )
    assert by_ref["service:web"].relations == ("hostedOn", "zoneOf")


def test_provider_reaches_services_through_datacenters_and_hosts(catalog: Catalog) -> None:
    result = impact(catalog, ref("provider:do"))
    by_ref = {str(a.ref): a for a in result.affected}
    assert set(by_ref) == {
        "datacenter:nyc1",
        "datacenter:ams1",
        "host:web1",
        "host:web2",
        "host:db1",
        "service:web",
        "service:db",
        "service:api",
    }
    assert all(a.effect == "down" for a in result.affected)
    db = by_ref["service:db"]
    assert db.path == (ref("provider:do"), ref("datacenter:ams1"), ref("host:db1"), db.ref)
    assert db.relations == ("providedBy", "locatedIn", "hostedOn")


def test_nothing_needs_a_person(catalog: Catalog) -> None:
    assert impact(catalog, ref("person:ann")).affected == ()


def test_impact_of_an_unknown_entity(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError):
        impact(catalog, ref("host:nope"))


def test_impact_to_dict(catalog: Catalog) -> None:
    data = impact(catalog, ref("host:web1")).to_dict(catalog)
    assert data["root"] == "host:web1"
    assert data["affected"][0] == {
        "ref": "service:web",
        "effect": "degraded",
        "path": ["host:web1", "service:web"],
        "relations": ["hostedOn"],
        "why": "The Website hostedOn web1.example.org; still served by web2.example.org",
    }


# ============================================================================ ownership
def test_ownership_report(catalog: Catalog) -> None:
    rows = {row.service.name: row for row in ownership_report(catalog)}
    assert list(rows) == ["api", "db", "legacy", "orphan", "web"]  # sorted by name
    web = rows["web"]
    assert web.owners == (ref("person:ann"), ref("team:web"))
    assert web.people == (ref("person:ann"), ref("person:bob"))
    assert (web.staff, web.timezones, web.flags) == (
        1,
        ("America/New_York", "Europe/Amsterdam"),
        (),
    )
    assert rows["db"].flags == ("single-owner", "all-volunteers")
    assert rows["db"].people == (ref("person:bob"),)
    assert rows["api"].flags == ("no-people", "stale")
    assert rows["legacy"].flags == ("no-people", "stale")  # its only owner is emeritus
    assert rows["legacy"].lifecycle == "deprecated"
    assert rows["orphan"].flags == ("unowned",)
    assert rows["orphan"].to_dict()["owners"] == []


def test_one_timezone_flag(tmp_path: Path, write_catalog) -> None:
    files = dict(SMALL)
    files["people.yaml"] = SMALL["people.yaml"].replace("America/New_York", "Europe/Amsterdam")
    result = load(write_catalog(tmp_path, files))
    assert result.catalog is not None
    rows = {row.service.name: row for row in ownership_report(result.catalog)}
    assert rows["web"].flags == ("one-timezone",)
    assert rows["web"].timezones == ("Europe/Amsterdam",)


# ============================================================================ graph
def test_graph_of_everything_connected(catalog: Catalog) -> None:
    picture = graph(catalog)
    assert picture.focus is None
    # route53 (only a zone's host), legacy and orphan connect to nothing drawn
    assert [str(n) for n in picture.nodes] == [
        "provider:do",
        "provider:fastly",
        "datacenter:ams1",
        "datacenter:nyc1",
        "host:db1",
        "host:web1",
        "host:web2",
        "service:api",
        "service:db",
        "service:web",
    ]
    assert [(str(a), r, str(b)) for a, r, b in picture.edges] == [
        ("datacenter:ams1", "providedBy", "provider:do"),
        ("datacenter:nyc1", "providedBy", "provider:do"),
        ("host:db1", "locatedIn", "datacenter:ams1"),
        ("host:web1", "locatedIn", "datacenter:nyc1"),
        ("host:web2", "locatedIn", "datacenter:nyc1"),
        ("service:api", "dependsOn", "service:web"),
        ("service:api", "hostedOn", "host:db1"),
        ("service:api", "hostedOn", "host:web2"),
        ("service:db", "hostedOn", "host:db1"),
        ("service:web", "dependsOn", "service:db"),
        ("service:web", "frontedBy", "provider:fastly"),
        ("service:web", "hostedOn", "host:web1"),
        ("service:web", "hostedOn", "host:web2"),
    ]


def test_graph_around_a_focus(catalog: Catalog) -> None:
    picture = graph(catalog, ref("service:db"))
    assert picture.focus == ref("service:db")
    # what db needs (db1, ams1, do) and what needs db (web, then api), transitively
    assert {str(n) for n in picture.nodes} == {
        "service:db",
        "host:db1",
        "datacenter:ams1",
        "provider:do",
        "service:web",
        "service:api",
    }
    assert ("service:web", "dependsOn", "service:db") in {
        (str(a), r, str(b)) for a, r, b in picture.edges
    }
    # edges only between drawn nodes: web's hosts are not drawn
    assert all(a in picture.nodes and b in picture.nodes for a, _, b in picture.edges)
    data = picture.to_dict(catalog)
    assert data["focus"] == "service:db"
    assert {"ref": "host:db1", "kind": "host", "title": "db1.example.org"} in data["nodes"]


def test_graph_unknown_focus(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError):
        graph(catalog, ref("service:nope"))
