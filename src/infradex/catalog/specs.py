"""Fields that several kinds share, read from any entity.

Checks, maintenance windows, contacts and an escalation policy are written in more than one
kind's spec. Code that walks the whole catalog asks for them here; each accessor reads one
small table of the spec models that have the field, so ``mypy --strict`` checks the access
and a kind that gains the field is added in one place (``getattr(entity.spec, "checks", [])``
would have hidden a misspelt field as "none").
"""

from __future__ import annotations

from typing import Final

from infradex.catalog.entities import Entity
from infradex.catalog.models import (
    Check,
    Contact,
    HostSpec,
    Maintenance,
    ProviderSpec,
    ServiceSpec,
    TeamSpec,
)

__all__ = [
    "WITH_CHECKS",
    "WITH_CONTACTS",
    "WITH_ESCALATION",
    "WITH_MAINTENANCE",
    "spec_checks",
    "spec_contacts",
    "spec_escalation",
    "spec_maintenance",
]

#: the spec models that hold ``checks`` (what the monitor runs)
WITH_CHECKS: Final = (ProviderSpec, ServiceSpec)
#: the spec models that hold ``maintenance`` windows
WITH_MAINTENANCE: Final = (ProviderSpec, HostSpec, ServiceSpec)
#: the spec models that hold ``contacts`` of their own (a person is reached by its handles)
WITH_CONTACTS: Final = (ProviderSpec, TeamSpec, ServiceSpec)
#: the spec models that may name an ``escalation`` policy
WITH_ESCALATION: Final = (ProviderSpec, TeamSpec, ServiceSpec)


def spec_checks(entity: Entity) -> list[Check]:
    """The entity's checks; none for a kind that has no checks."""
    spec = entity.spec
    return spec.checks if isinstance(spec, WITH_CHECKS) else []


def spec_maintenance(entity: Entity) -> list[Maintenance]:
    """The maintenance windows written on the entity; none for a kind that has none."""
    spec = entity.spec
    return spec.maintenance if isinstance(spec, WITH_MAINTENANCE) else []


def spec_contacts(entity: Entity) -> list[Contact]:
    """The contacts written on the entity; none for a kind that has none."""
    spec = entity.spec
    return spec.contacts if isinstance(spec, WITH_CONTACTS) else []


def spec_escalation(entity: Entity) -> str | None:
    """The escalation policy the entity names (``escalationpolicy:...``), if its kind may."""
    spec = entity.spec
    return spec.escalation if isinstance(spec, WITH_ESCALATION) else None
