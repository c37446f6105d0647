"""The catalog's answers as read models: what ``who``, ``impact``, ``graph`` and ``search``
return to programs (the API, and the CLI's ``--format json``). Built from the query results in
``queries``, ``impact`` and ``search``; camelCase on the wire (``infradex.wire``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infradex.wire import ReadModel

__all__ = [
    "AffectedRecord",
    "ChannelRecord",
    "ContactRecord",
    "GraphEdge",
    "GraphNode",
    "GraphRecord",
    "ImpactRecord",
    "SearchHitRecord",
    "SearchRecord",
    "WhoRecord",
]


def _absent(value: Any) -> bool:
    return value is None


class ChannelRecord(ReadModel):
    """A way to reach someone; ``role`` and ``network`` only when the catalog says."""

    type: str = Field(description="email, irc, matrix, url, phone, ...")
    address: str
    role: str | None = Field(default=None, exclude_if=_absent)
    network: str | None = Field(default=None, exclude_if=_absent)


class ContactRecord(ReadModel):
    ref: str
    name: str
    reason: str = Field(description="why this contact, e.g. owner, on call now, fallback")
    channels: list[ChannelRecord]


class WhoRecord(ReadModel):
    """Whom to contact about ``target``, in the order to try."""

    target: str
    contacts: list[ContactRecord]


class AffectedRecord(ReadModel):
    ref: str
    effect: str = Field(description="down or degraded")
    path: list[str] = Field(description="from the failed root to this entity")
    relations: list[str] = Field(description="the relation of each step of the path")
    why: str


class ImpactRecord(ReadModel):
    """What breaks if ``root`` fails."""

    root: str
    affected: list[AffectedRecord]
    notes: list[str] = Field(description="what the dependency graph cannot say")


class GraphNode(ReadModel):
    ref: str
    kind: str
    title: str


class GraphEdge(ReadModel):
    """An arrow from the dependent to what it needs."""

    from_ref: str = Field(alias="from")
    relation: str
    to_ref: str = Field(alias="to")


class GraphRecord(ReadModel):
    focus: str | None
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class SearchHitRecord(ReadModel):
    ref: str
    title: str
    score: int
    matched: str = Field(description="the field that matched best: name, title, domain, ...")


class SearchRecord(ReadModel):
    query: str
    results: list[SearchHitRecord]
