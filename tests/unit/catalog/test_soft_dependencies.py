"""Soft dependencies (``dependsOn: [{ref, effect: degraded}]``), notes on impact answers, and
people who are never contacts (``contactable: false``), on a small hand-written catalog.

The catalog (``CATALOG``)::

    provider:do ── datacenter:nyc1 ── host:web1, host:runner1
    provider:gandi (registrar of zone:example.org)   provider:dns (hosts zone:example.org)
    service:scheduler  hostedOn web1
    service:results    hostedOn web1; dependsOn runner1 (degraded), scheduler (degraded),
                       zone:example.org (hard, a plain string)
    service:front      dependsOn results (hard, written {ref, effect: down})
    team:infrastructure  members ann, bob (contactable: false)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infradex.alerting.messages import IncidentView, render
from infradex.catalog import Catalog, Ref
from infradex.catalog.queries import impact, who
from infradex.lint import load
from infradex.oncall.escalation import recipients

CATALOG = {
    "infra.yaml": """\
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: do, title: DigitalOcean}
    spec: {type: iaas}
    ---
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: gandi, title: Gandi}
    spec: {type: registrar}
    ---
    apiVersion: infradex/v1
    kind: Provider
    metadata: {name: dns, title: Route 53}
    spec: {type: dns}
    ---
    apiVersion: infradex/v1
    kind: Zone
    metadata: {name: example.org}
    spec: {provider: dns, registrar: gandi, records: {}}
    ---
    apiVersion: infradex/v1
    kind: Datacenter
    metadata: {name: nyc1}
    spec: {provider: do}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: web1}
    spec: {datacenter: nyc1}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {name: runner1}
    spec: {datacenter: nyc1}
    """,
    "services.yaml": """\
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: scheduler, title: Scheduler}
    spec: {hostedOn: [host:web1], owners: [{ref: team:infrastructure}]}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: results, title: Results}
    spec:
      hostedOn: [host:web1]
      dependsOn:
        - {ref: host:runner1, effect: degraded}
        - {ref: service:scheduler, effect: degraded}
        - zone:example.org
      owners: [{ref: team:infrastructure}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {name: front, title: Front}
    spec:
      dependsOn: [{ref: service:results, effect: down}]
    """,
    "people.yaml": """\
    apiVersion: infradex/v1
    kind: Team
    metadata: {name: infrastructure, title: Infrastructure}
    spec:
      members: [person:ann, person:bob]
      contacts: [{type: email, address: infra@example.org}]
    ---
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: ann, title: Ann}
    spec: {email: ann@example.org}
    ---
    apiVersion: infradex/v1
    kind: Person
    metadata: {name: bob, title: Bob}
    spec: {email: bob@example.org, contactable: false}
    """,
}


def ref(text: str) -> Ref:
    kind, name = text.split(":", 1)
    return Ref(kind, name)


@pytest.fixture
def catalog(tmp_path: Path, write_catalog) -> Catalog:
    loaded = load(write_catalog(tmp_path, CATALOG))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


def effects(catalog: Catalog, root: str) -> dict[str, str]:
    return {str(a.ref): a.effect for a in impact(catalog, ref(root)).affected}


def test_losing_a_soft_dependency_only_degrades(catalog: Catalog) -> None:
    # front needs results (hard): a degraded need degrades it in turn
    assert effects(catalog, "host:runner1") == {
        "service:results": "degraded",
        "service:front": "degraded",
    }
    results, front = impact(catalog, ref("host:runner1")).affected
    assert front.why(catalog) == "Front dependsOn Results, which is degraded"
    assert results.path == (ref("host:runner1"), ref("service:results"))
    assert results.relations == ("dependsOn",)
    assert results.why(catalog) == "Results dependsOn runner1 (soft: degraded without it)"
    assert results.to_dict(catalog)["why"] == results.why(catalog)


def test_a_soft_dependency_down_is_still_only_degraded_downstream(catalog: Catalog) -> None:
    # the scheduler is down; results merely degrades, and so does front, which needs results
    assert effects(catalog, "service:scheduler") == {
        "service:results": "degraded",
        "service:front": "degraded",
    }


def test_a_hard_need_wins_over_a_soft_one(catalog: Catalog) -> None:
    # web1 carries both the scheduler (soft for results) and results itself (hosted: hard)
    assert effects(catalog, "host:web1") == {
        "service:scheduler": "down",
        "service:results": "down",
        "service:front": "down",
    }
    results = next(a for a in impact(catalog, ref("host:web1")).affected if a.ref.name == "results")
    assert results.relations == ("hostedOn",)


def test_plain_strings_and_effect_down_stay_hard(catalog: Catalog) -> None:
    assert effects(catalog, "zone:example.org") == {
        "service:results": "down",
        "service:front": "down",
    }


def test_a_registrar_outage_takes_nothing_down_but_says_why(catalog: Catalog) -> None:
    result = impact(catalog, ref("provider:gandi"))
    assert result.affected == ()
    (note,) = result.notes
    assert "registrar of example.org" in note
    assert "lapsed registration" in note
    assert result.to_dict(catalog)["notes"] == [note]
    assert impact(catalog, ref("provider:do")).notes == ()


def test_a_person_who_is_not_contactable_is_never_listed(catalog: Catalog) -> None:
    listed = {
        str(c.ref)
        for entity in catalog.entities.values()
        for c in who(catalog, entity.ref).contacts
    }
    assert "person:ann" in listed
    assert "person:bob" not in listed
    assert [str(m) for m in catalog.related(ref("team:infrastructure"), "hasMember")] == [
        "person:ann",
        "person:bob",
    ]  # still a member


def test_a_team_page_skips_a_person_who_is_not_contactable(catalog: Catalog) -> None:
    out = recipients(catalog, ("team:infrastructure",), datetime(2024, 1, 1, tzinfo=UTC))
    assert [r.title for r in out.recipients] == ["Ann"]


def test_a_page_says_which_impacted_services_are_only_degraded(catalog: Catalog) -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    view = IncidentView(1, "host:runner1", "runner1 is down", "open", now)
    message = render(catalog, view, "trigger", {}, now=now)
    assert message.subject.endswith("runner1 is down (2 services degraded)")
    assert "Results (service:results) degraded: Results dependsOn runner1" in message.text
    assert message.incident is not None
    assert message.incident["impactedEffects"] == {
        "service:results": "degraded",
        "service:front": "degraded",
    }
    view = IncidentView(2, "host:web1", "web1 is down", "open", now)
    message = render(catalog, view, "trigger", {}, now=now)
    assert message.subject.endswith("web1 is down (3 services impacted)")
    assert "Results (service:results): Results hostedOn web1" in message.text
