"""The status page's components and groups, read from the catalog: a service's ``status:``
block, a provider's ``statusPage:`` block (docs/status-page.md). Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.models import ServiceStatus
from infradex.catalog.refs import Ref
from infradex.durations import parse_duration

__all__ = ["Component", "Group", "Layout", "component_blocks", "layout", "stable_id"]


def stable_id(kind: str, key: str) -> str:
    """Twelve lower-case hex digits, as Statuspage's ids look, the same for the same key in
    every process and release (a consumer may keep them)."""
    return hashlib.sha256(f"infradex-status:{kind}:{key}".encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Component:
    ref: Ref
    id: str
    name: str
    group: str | None
    description: str | None
    public: bool
    only_show_if_degraded: bool
    position: int  # 1-based, within its group (or among the top level when ungrouped)
    #: a draft incident on it is published by itself after this long unacknowledged
    auto_publish_after: timedelta | None = None

    @property
    def group_id(self) -> str | None:
        return None if self.group is None else stable_id("group", self.group)


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    id: str
    members: tuple[Component, ...]
    position: int  # 1-based, among the top level

    @property
    def public_members(self) -> tuple[Component, ...]:
        return tuple(m for m in self.members if m.public)


@dataclass(frozen=True, slots=True)
class Layout:
    """The page's order: top-level entries are ungrouped components and groups."""

    components: tuple[Component, ...]  # every component, page order
    groups: tuple[Group, ...]

    def top_level(self, public_only: bool) -> list[Component | Group]:
        entries: list[tuple[int, Component | Group]] = [
            (c.position, c)
            for c in self.components
            if c.group is None and (c.public or not public_only)
        ]
        entries += [(g.position, g) for g in self.groups if g.public_members or not public_only]
        return [entry for _, entry in sorted(entries, key=lambda pair: pair[0])]


def component_blocks(catalog: Catalog) -> Iterator[tuple[Entity, ServiceStatus]]:
    """Each service and provider that is a component, with its block, in catalog order."""
    for service in catalog.of_kind("service"):
        if service.spec.status is not None:
            yield service, service.spec.status
    for provider in catalog.of_kind("provider"):
        if provider.spec.status_page is not None:
            yield provider, provider.spec.status_page


def layout(catalog: Catalog) -> Layout:
    """Every component with its group and position: by ``order`` (unset: after those with
    one), then catalog order; a group sits where its first member would."""
    blocks = list(component_blocks(catalog))
    ranked = sorted(
        range(len(blocks)),
        key=lambda i: (blocks[i][1].order is None, blocks[i][1].order or 0, i),
    )
    top: list[str] = []  # "c:<ref>" or "g:<group>", in page order
    within: dict[str | None, int] = {}
    placed: list[tuple[Entity, ServiceStatus, int]] = []
    for i in ranked:
        entity, block = blocks[i]
        key = f"g:{block.group}" if block.group is not None else f"c:{entity.ref}"
        if key not in top:
            top.append(key)
        if block.group is None:
            placed.append((entity, block, top.index(key) + 1))
        else:
            within[block.group] = within.get(block.group, 0) + 1
            placed.append((entity, block, within[block.group]))
    components = tuple(
        Component(
            ref=entity.ref,
            id=stable_id("component", str(entity.ref)),
            name=block.name or entity.title,
            group=block.group,
            description=block.description,
            public=block.public,
            only_show_if_degraded=block.only_show_if_degraded,
            position=position,
            auto_publish_after=(
                parse_duration(block.auto_publish_after) if block.auto_publish_after else None
            ),
        )
        for entity, block, position in placed
    )
    groups = tuple(
        Group(
            name=name,
            id=stable_id("group", name),
            members=tuple(c for c in components if c.group == name),
            position=top.index(f"g:{name}") + 1,
        )
        for name in dict.fromkeys(c.group for c in components if c.group is not None)
    )
    return Layout(components, groups)
