"""Warnings: true statements about risk that do not stop the catalog loading (``--strict``
turns them into a failing exit code)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.problems import Problem
from infradex.catalog.queries import owning_people
from infradex.catalog.refs import Ref, parse_ref
from infradex.catalog.zones import zone_domains
from infradex.clock import utcnow
from infradex.oncall import coverage_gaps

__all__ = ["lint"]


def lint(catalog: Catalog, now: datetime | None = None) -> list[Problem]:
    now = now or utcnow()
    problems: list[Problem] = []
    for service in catalog.of_kind("service"):
        problems.extend(_service(catalog, service))
    for schedule in catalog.of_kind("schedule"):
        problems.extend(_schedule(catalog, schedule, now))
    return problems


def _service(catalog: Catalog, service: Entity) -> Iterator[Problem]:
    spec = service.spec
    if spec.lifecycle == "production":
        if not spec.owners:
            yield service.problem(
                "warning",
                "no-owner",
                "production service has no owner",
                "add `owners:` with a person or team, so someone answers for it",
                ("spec",),
            )
        if not spec.checks:
            yield service.problem(
                "warning",
                "no-check",
                "production service has no check",
                "add a check under `checks:` so an outage is noticed",
                ("spec",),
            )
        if spec.owners:
            yield from _bus_factor(catalog, service)
    yield from _domains(catalog, service)


def _bus_factor(catalog: Catalog, service: Entity) -> Iterator[Problem]:
    people = [catalog.get(ref) for ref in owning_people(catalog, service.ref)]
    path = ("spec", "owners")
    if not people:
        yield service.problem(
            "warning",
            "bus-factor",
            "its owners name no people (only teams without "
            "members), so nobody is known to answer for it",
            "list the people behind the owning team under its `members:`",
            path,
        )
        return
    if len(people) == 1:
        yield service.problem(
            "warning",
            "bus-factor",
            f"single owner: only {people[0].title} knows it",
            "add a second owner",
            path,
        )
    if all(not person.spec.staff for person in people):
        yield service.problem(
            "warning",
            "bus-factor",
            "owners are all volunteers",
            "add a staff member as owner or backup",
            path,
        )
    zones = {person.spec.timezone for person in people}
    if len(people) > 1 and len(zones) == 1 and None not in zones:
        yield service.problem(
            "warning",
            "bus-factor",
            f"owners are all in one time zone ({zones.pop()})",
            "add an owner in another time zone for round-the-clock cover",
            path,
        )


def _domains(catalog: Catalog, service: Entity) -> Iterator[Problem]:
    zones = {str(ref): ref for ref in catalog.related(service.ref, "zoneOf")}
    for i, domain in enumerate(service.spec.domains):
        domain = domain.lower().rstrip(".")
        zone = next(
            (
                ref
                for ref in zones.values()
                if domain == ref.name or domain.endswith("." + ref.name)
            ),
            None,
        )
        if zone is None:
            yield service.problem(
                "warning",
                "unserved-domain",
                f"no zone in the catalog serves {domain}",
                "add a Zone for its parent domain",
                ("spec", "domains", i),
            )
        elif zone.name in catalog.zone_records and domain not in zone_domains(
            zone.name, catalog.zone_records[zone.name]
        ):
            yield service.problem(
                "warning",
                "unserved-domain",
                f"zone {zone.name} has no record for {domain}",
                f"add a record for {domain} to the zone",
                ("spec", "domains", i),
            )


def _schedule(catalog: Catalog, schedule: Entity, now: datetime) -> Iterator[Problem]:
    members: dict[Ref, tuple[str | int, ...]] = {}
    for i, layer in enumerate(schedule.spec.layers):
        for j, text in enumerate(layer.members):
            members.setdefault(parse_ref(text, ("person",)), ("spec", "layers", i, "members", j))
    for ref, path in members.items():
        person = catalog.get(ref)
        handles = {k.lower() for k in person.spec.handles}
        if person.spec.email is None and not handles & {"irc", "matrix"}:
            yield schedule.problem(
                "warning",
                "no-contact",
                f"{person.title} is on call here but has no contact method",
                f"add `email:` to person:{ref.name}",
                path,
            )
    if not schedule.spec.layers:
        yield schedule.problem(
            "warning",
            "oncall-gap",
            "the schedule has no layers, so nobody is on call",
            "add a layer with members",
            ("spec",),
        )
        return
    gaps = coverage_gaps(schedule.spec, now)
    if gaps:
        shown = ", ".join(gap.describe() for gap in gaps[:4])
        more = f" and {len(gaps) - 4} more" if len(gaps) > 4 else ""
        yield schedule.problem(
            "warning",
            "oncall-gap",
            f"nobody on call {shown}{more} (next 7 days)",
            "add a layer or widen a layer's restrictions to cover these hours",
            ("spec", "layers"),
        )
