"""Routing: which policies an incident follows when its root has none of its own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from infradex.catalog import Catalog, Ref
from infradex.lint import load
from infradex.oncall.routing import merged, route, routing_json

HEAD = "apiVersion: infradex/v1\n"


def doc(kind: str, name: str, spec: str) -> str:
    return f"{HEAD}kind: {kind}\nmetadata: {{name: {name}}}\nspec: {spec}\n---\n"


PEOPLE = doc("Person", "a", "{email: a@example.org}") + doc("Person", "b", "{email: b@example.org}")
CDN = doc("Provider", "cdn", "{type: cdn}")


def policy(name: str, steps: str, default: bool = False) -> str:
    return doc("EscalationPolicy", name, f"{{default: {str(default).lower()}, steps: {steps}}}")


def behind_cdn(name: str, escalation: str | None = None, via: str = "frontedBy") -> str:
    own = f", escalation: {escalation}" if escalation else ""
    return doc("Service", name, f"{{{via}: [provider:cdn]{own}}}")


def catalog(tmp_path: Path, text: str) -> Catalog:
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    loaded = load(tmp_path)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


CDN_REF = Ref("provider", "cdn")


def test_a_provider_without_a_policy_follows_the_policies_of_what_it_takes_down(
    tmp_path: Path,
) -> None:
    org = catalog(
        tmp_path,
        PEOPLE
        + CDN
        + policy("default", "[{after: 0m, notify: [person:a]}]")  # named so, not marked
        + "".join(behind_cdn(s, "default") for s in ("www", "docs", "shop")),
    )
    found = route(org, CDN_REF)
    assert found.source == "impacted"
    assert found.refs == ["escalationpolicy:default"]
    assert "service:www, service:docs, service:shop" in found.reason


def test_two_policies_merge_into_one_page_per_person_and_the_default_joins(
    tmp_path: Path,
) -> None:
    org = catalog(
        tmp_path,
        PEOPLE
        + CDN
        + policy("web", "[{after: 0m, notify: [person:a]}, {after: 10m, notify: [person:b]}]")
        + policy("shop", "[{after: 0m, notify: [person:a, person:b]}]")
        + policy("fallback", "[{after: 5m, notify: [person:b]}]", default=True)
        + behind_cdn("www", "web")
        + behind_cdn("shop", "shop", via="dependsOn"),
    )
    found = route(org, CDN_REF)
    assert found.refs == [
        "escalationpolicy:web",
        "escalationpolicy:shop",
        "escalationpolicy:fallback",
    ]
    assert "and the default policy" in found.reason
    snapshot = merged(org, found.policies)
    assert [(s.after, s.notify) for s in snapshot.steps] == [
        (timedelta(0), ("person:a", "person:b")),  # a once, in the first step
        (timedelta(minutes=5), ("person:b",)),
        (timedelta(minutes=10), ("person:b",)),
    ]
    stored = routing_json(org, found)
    assert stored["routing"]["source"] == "impacted" and len(stored["steps"]) == 3


def test_own_policy_wins_and_impacted_members_count(tmp_path: Path) -> None:
    org = catalog(
        tmp_path,
        PEOPLE
        + doc("Provider", "cdn", "{type: cdn, escalation: edge}")
        + doc("Provider", "cloud", "{type: iaas}")
        + policy("edge", "[{after: 0m, notify: [person:a]}]")
        + policy("web", "[{after: 0m, notify: [person:b]}]")
        + doc("Service", "www", "{escalation: web}"),
    )
    own = route(org, CDN_REF, [Ref("service", "www")])
    assert (own.source, own.refs) == ("own", ["escalationpolicy:edge"])
    # nothing in the catalog says the cloud takes www down, but the incident recorded it
    cloud = Ref("provider", "cloud")
    assert route(org, cloud).source == "nobody"
    joined = route(org, cloud, [Ref("service", "www")])
    assert (joined.source, joined.refs) == ("impacted", ["escalationpolicy:web"])


def test_a_degraded_service_is_not_paged_and_nobody_is_said_so(tmp_path: Path) -> None:
    org = catalog(
        tmp_path,
        PEOPLE
        + CDN
        + doc("Provider", "cdn2", "{type: cdn}")
        + policy("web", "[{after: 0m, notify: [person:a]}]")
        + doc("Service", "www", "{frontedBy: [provider:cdn, provider:cdn2], escalation: web}"),
    )
    found = route(org, CDN_REF)  # www is still served by cdn2
    assert found.source == "nobody" and found.policies == ()
    assert "nobody was paged" in found.reason and "default: true" in found.reason
    assert routing_json(org, found)["steps"] == []


def test_the_default_when_nothing_taken_down_has_a_policy(tmp_path: Path) -> None:
    org = catalog(
        tmp_path,
        PEOPLE
        + CDN
        + policy("fallback", "[{after: 0m, notify: [person:a]}]", default=True)
        + behind_cdn("www"),
    )
    found = route(org, CDN_REF)
    assert (found.source, found.refs) == ("default", ["escalationpolicy:fallback"])


def test_validate_warns_for_each_check_that_pages_nobody(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        PEOPLE
        + doc("Provider", "cdn", "{type: cdn, checks: [{name: edge, url: 'http://127.0.0.1:9'}]}")
        + doc("Provider", "quiet", "{type: iaas}")  # no check: nothing to page about
        + doc("Service", "www", "{frontedBy: [provider:cdn]}"),
        encoding="utf-8",
    )
    loaded = load(tmp_path)
    [warning] = [w for w in loaded.warnings if w.code == "pages-nobody"]
    assert warning.entity == "provider:cdn" and warning.field == "spec.checks"
    assert "(edge) fail, nobody is paged" in warning.message
    assert warning.hint == ("mark a policy `default: true` or give provider:cdn `escalation: …`")
