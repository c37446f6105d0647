"""Warnings: true statements about risk that do not stop the catalog loading (``--strict``
turns them into a failing exit code).

They sit above both the catalog and on-call because some need on-call's view of the catalog
(schedule gaps, who a failing check would page); so the catalog never imports on-call, and
whoever shows warnings (``infradex validate``, a server reload, the problems page) calls
:func:`load` here, or :func:`lint` on a catalog it already has.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from infradex.catalog import loading
from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.loading import LoadedCatalog
from infradex.catalog.models import (
    EscalationPolicySpec,
    NotifyChannel,
    PersonSpec,
    ScheduleSpec,
    ServiceSpec,
)
from infradex.catalog.problems import Problem, sort_problems
from infradex.catalog.queries import ownership_row
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.catalog.secrets import literal_check_secrets
from infradex.catalog.specs import spec_checks
from infradex.catalog.zones import record_name
from infradex.clock import utcnow
from infradex.lint_dns import dns_warnings
from infradex.oncall import coverage_gaps
from infradex.oncall.routing import default_policy, route, unrouted_fix, unrouted_why

__all__ = ["lint", "load", "with_warnings"]


def load(root: Path | str, now: datetime | None = None) -> LoadedCatalog:
    """Load the catalog under ``root`` as :func:`infradex.catalog.load` does, with warnings."""
    return with_warnings(loading.load(root), now)


def with_warnings(loaded: LoadedCatalog, now: datetime | None = None) -> LoadedCatalog:
    """``loaded`` with the warnings about what was built, errors or not."""
    if loaded.built is None:
        return loaded
    broken = {p.entity for p in loaded.errors}
    # a warning about a document that has errors would describe what is left of it after its
    # faulty fields were dropped, not what its author wrote
    warnings = [w for w in lint(loaded.built, now) if w.entity not in broken]
    return LoadedCatalog(loaded.catalog, sort_problems([*loaded.problems, *warnings]), loaded.built)


def lint(catalog: Catalog, now: datetime | None = None) -> list[Problem]:
    """Every warning about ``catalog`` (``now`` decides which on-call hours are ahead)."""
    now = now or utcnow()
    problems: list[Problem] = []
    for service in catalog.of_kind("service"):
        problems.extend(_service(catalog, service))
    for schedule in catalog.of_kind("schedule"):
        problems.extend(_schedule(catalog, schedule, now))
    # annotated: a tuple of two kinds' entities would be inferred as a tuple of `object`
    with_channels: list[Entity] = [*catalog.of_kind("person"), *catalog.of_kind("escalationpolicy")]
    for entity in with_channels:
        problems.extend(_secrets(entity))
    with_checks: list[Entity] = [*catalog.of_kind("service"), *catalog.of_kind("provider")]
    for entity in with_checks:
        problems.extend(_check_secrets(entity))
    problems.extend(_pages_nobody(catalog))
    problems.extend(_location_problems_unused(catalog))
    problems.extend(dns_warnings(catalog))
    return problems


def _secrets(entity: Entity) -> Iterator[Problem]:
    """A secret written in the catalog is in git, in every clone and in the store. Each
    channel kind says which of its fields are secrets (``ChannelConfig.written_secrets``)."""
    spec = entity.spec
    base: tuple[str, ...]
    if isinstance(spec, PersonSpec):
        channels, base = (spec.alerting.channels if spec.alerting else []), ("spec", "alerting")
    elif isinstance(spec, EscalationPolicySpec):
        channels, base = spec.channels, ("spec",)
        if spec.location_problems is not None:
            yield from _written_secrets(
                entity, spec.location_problems.channels, ("spec", "locationProblems")
            )
    else:
        return  # no other kind has notification channels
    yield from _written_secrets(entity, channels, base)


def _written_secrets(
    entity: Entity, channels: Sequence[NotifyChannel], base: tuple[str, ...]
) -> Iterator[Problem]:
    for i, channel in enumerate(channels):
        for found in channel.written_secrets():
            yield entity.problem(
                "warning",
                "secret-in-catalog",
                found.message,
                found.fix,
                (*base, "channels", i, found.field),
            )


def _check_secrets(entity: Entity) -> Iterator[Problem]:
    """Credentials written out in a check (URL password, Authorization-like headers)."""
    for i, check in enumerate(spec_checks(entity)):
        for path, what, fix in literal_check_secrets(check):
            yield entity.problem(
                "warning",
                "secret-in-catalog",
                f"check {check.name}: {what} is written out: it is a secret, and the catalog "
                "is in git (readers below admin see it redacted)",
                fix,
                ("spec", "checks", i, *path),
            )


def _service(catalog: Catalog, service: Entity[ServiceSpec]) -> Iterator[Problem]:
    if service.spec.lifecycle == "production":
        if not service.spec.checks:
            yield service.problem(
                "warning",
                "no-check",
                "production service has no check",
                "add a check under `checks:` so an outage is noticed",
                ("spec",),
            )
        yield from _ownership(catalog, service)
    yield from _domains(catalog, service)


def _ownership(catalog: Catalog, service: Entity[ServiceSpec]) -> Iterator[Problem]:
    """The ownership report's flags on a production service, as warnings."""
    row = ownership_row(catalog, service)
    names = ", ".join(catalog.title(p) for p in row.people)
    zones = ", ".join(row.timezones)
    said = {
        "unowned": ("no-owner", "production service has no owner",
                    "add `owners:` with a person or team, so someone answers for it"),
        "no-people": ("bus-factor", "no active person stands behind its owners (teams "
                      "without members, or only emeritus people)",
                      "list the people behind the owning team under its `members:`"),
        "single-owner": ("bus-factor", f"single owner: only {names} knows it",
                         "add a second owner"),
        "all-volunteers": ("bus-factor", "owners are all volunteers",
                           "add a staff member as owner or backup"),
        "one-timezone": ("bus-factor", f"owners are all in one time zone ({zones})",
                         "add an owner in another time zone for round-the-clock cover"),
        "stale": ("stale-owner", "an owner is emeritus, or an owning team has neither members "
                  "nor contacts", "update `owners:` to the people who look after it now"),
    }  # fmt: skip
    for flag in row.flags:  # every flag the ownership report can raise has a message above
        code, message, hint = said[flag]
        yield service.problem(
            "warning", code, message, hint, ("spec",) if flag == "unowned" else ("spec", "owners")
        )


def _domains(catalog: Catalog, service: Entity[ServiceSpec]) -> Iterator[Problem]:
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
        elif (
            zone.name in catalog.zone_records
            and record_name(zone.name, domain) not in catalog.zone_records[zone.name]
        ):
            yield service.problem(
                "warning",
                "unserved-domain",
                f"zone {zone.name} has no record for {domain}",
                f"add a record for {domain} to the zone",
                ("spec", "domains", i),
            )


def _schedule(catalog: Catalog, schedule: Entity[ScheduleSpec], now: datetime) -> Iterator[Problem]:
    members: dict[Ref, tuple[str | int, ...]] = {}
    for i, layer in enumerate(schedule.spec.layers):
        for j, text in enumerate(layer.members):
            try:
                ref = parse_ref(text, ("person",))
            except RefError:
                continue  # reported as an error by the reference pass, with its line
            members.setdefault(ref, ("spec", "layers", i, "members", j))
    for ref, path in members.items():
        person = catalog.find(ref, PersonSpec)
        if person is None:
            continue  # a dangling or wrong-kind member: an error already, not a warning
        handles = {k.lower() for k in person.spec.handles}
        if person.spec.email is None and not handles & {"irc", "matrix"}:
            yield schedule.problem(
                "warning",
                "no-contact",
                f"{person.title} is on call here but cannot be paged (no email, IRC or Matrix)",
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


def _pages_nobody(catalog: Catalog) -> Iterator[Problem]:
    """A check whose failure would page nobody: its entity has no policy, nothing it takes
    down has one, and no policy is the default. The incident would be recorded and nobody
    woken (a CDN outage with every site behind it down, in silence)."""
    if default_policy(catalog) is not None:
        return  # every incident reaches the default at least
    checked: list[Entity] = [*catalog.of_kind("provider"), *catalog.of_kind("service")]
    for entity in checked:
        if not spec_checks(entity) or route(catalog, entity.ref).policies:
            continue
        names = ", ".join(check.name for check in spec_checks(entity))
        yield entity.problem(
            "warning",
            "pages-nobody",
            f"if its checks ({names}) fail, nobody is paged: {unrouted_why(entity.ref)}",
            unrouted_fix(entity.ref),
            ("spec", "checks"),
        )


def _location_problems_unused(catalog: Catalog) -> Iterator[Problem]:
    """A policy with ``locationProblems`` that no check run from locations routes to: it
    reads as if location problems were paged, and none ever will be by it."""
    asking = [
        p for p in catalog.of_kind("escalationpolicy") if p.spec.location_problems is not None
    ]
    if not asking:
        return
    located: list[Entity] = [
        entity
        for kind in ("service", "provider")
        for entity in catalog.of_kind(kind)
        if any(check.locations for check in spec_checks(entity))
    ]
    reached = {policy.ref for entity in located for policy in route(catalog, entity.ref).policies}
    for policy in asking:
        if policy.ref not in reached:
            yield policy.problem(
                "warning",
                "location-problems-unused",
                "locationProblems is set, but no check with `locations` routes to this "
                "policy: it will never send a location problem",
                "give a check of a service this policy covers `locations` (and a quorum), "
                "or remove locationProblems",
                ("spec", "locationProblems"),
            )
