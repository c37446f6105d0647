"""A tiny document model: pages made of blocks, rendered to Markdown, reStructuredText and HTML.

The content of the overview is written once (``content.py``) in these terms; each renderer only
decides spelling. Internal links name a page id (``services/docs``), never a file, so every
format links to its own files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from infradex.docs.diagram import Href

__all__ = [
    "Block",
    "Bullets",
    "Cell",
    "Code",
    "Diagram",
    "Heading",
    "Inline",
    "Link",
    "LiveHealth",
    "Page",
    "Para",
    "State",
    "Strong",
    "Table",
    "Text",
    "relative",
]


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str | None = None  # an external address
    page: str | None = None  # an internal page id such as "services/docs"
    anchor: str | None = None


@dataclass(frozen=True, slots=True)
class State:
    """A live state word (``up``, ``down``, ``not monitored``): HTML shows it with a coloured
    dot; the text formats, as the word."""

    text: str


@dataclass(frozen=True, slots=True)
class LiveHealth:
    """An entity's health now, on a page the server caches per catalog: the page carries a
    slot the server fills when it serves it (web/live_health.py); other formats show nothing."""

    ref: str

    @property
    def text(self) -> str:
        return ""


Inline: TypeAlias = Text | Strong | Link | State | LiveHealth
Cell: TypeAlias = Sequence[Inline]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int  # 1 is the page title
    text: str
    anchor: str | None = None


@dataclass(frozen=True, slots=True)
class Para:
    inlines: Sequence[Inline]


@dataclass(frozen=True, slots=True)
class Bullets:
    items: Sequence[Sequence[Inline]]


@dataclass(frozen=True, slots=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True, slots=True)
class Code:
    text: str
    language: str = ""


@dataclass(frozen=True, slots=True)
class Diagram:
    """A picture of the dependency graph: ``name`` is the SVG file beside the page; ``draw``
    returns the SVG, given how to link a node to its page (HTML inlines it with links)."""

    name: str
    alt: str
    draw: Callable[[Href | None], str]


Block: TypeAlias = Heading | Para | Bullets | Table | Code | Diagram


@dataclass(slots=True)
class Page:
    id: str  # "index", "services/docs"
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.id.count("/")

    def add(self, *blocks: Block) -> Page:
        self.blocks.extend(blocks)
        return self


def relative(from_page: str, to_page: str, suffix: str, anchor: str | None = None) -> str:
    """The relative address of ``to_page`` from ``from_page``, e.g. ``../providers/fastly.md``."""
    up = "../" * from_page.count("/")
    target = f"{up}{to_page}{suffix}"
    return f"{target}#{anchor}" if anchor else target
