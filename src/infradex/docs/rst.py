"""Render pages as reStructuredText documents that drop into a Sphinx site.

Internal links use Sphinx's ``:doc:`` and ``:ref:`` roles; labels are prefixed with
``infradex-`` so they do not collide with the host site's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from infradex.docs.blocks import (
    Block,
    Bullets,
    Cell,
    Code,
    Diagram,
    Heading,
    Inline,
    Link,
    Page,
    Para,
    Strong,
    Table,
    Text,
    relative,
)

__all__ = ["SUFFIX", "render"]

SUFFIX = ".rst"
_UNDERLINES = {1: "=", 2: "-", 3: "~", 4: "^"}
_SPECIAL = re.compile(r"([\\`*_|<>])")


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def label(page_id: str, anchor: str) -> str:
    return f"infradex-{page_id.replace('/', '-')}-{anchor}"


def _markup(page: Page, item: Inline) -> str:
    if isinstance(item, Strong):
        return f"**{_escape(item.text.strip())}**"
    assert isinstance(item, Link)
    text = _escape(item.text)
    if item.url:
        return f"`{text} <{item.url}>`__"
    if item.anchor:
        return f":ref:`{text} <{label(item.page or 'index', item.anchor)}>`"
    return f":doc:`{text} <{relative(page.id, item.page or 'index', '')}>`"


_OPENS = re.compile(r"[\s(\[{'\"<“-]$")
_CLOSES = re.compile(r"^[\s)\]}'\".,;:!?>”—-]")


def _inline(page: Page, inlines: Sequence[Inline]) -> str:
    """Inline markup must touch whitespace or punctuation; an escaped space (``\\ ``) glues
    it to neighbouring text where the catalog's words do not leave a gap."""
    out = ""
    previous_markup = False
    for item in inlines:
        if isinstance(item, Text):
            text = _escape(item.text)
            if previous_markup and text and not _CLOSES.match(text):
                text = "\\ " + text
            out += text
            previous_markup = False
            continue
        trailing = " " if isinstance(item, Strong) and item.text.endswith(" ") else ""
        if (out and not _OPENS.search(out)) or previous_markup:
            out += "\\ "
        out += _markup(page, item) + trailing
        previous_markup = not trailing
    return out


def _cell(page: Page, inlines: Sequence[Inline]) -> str:
    return _inline(page, inlines) or "—"


def _block(page: Page, block: Block) -> str:
    if isinstance(block, Heading):
        text = _escape(block.text)
        line = _UNDERLINES[min(block.level, 4)] * max(len(text), 3)
        title = f"{line}\n{text}\n{line}" if block.level == 1 else f"{text}\n{line}"
        return f".. _{label(page.id, block.anchor)}:\n\n{title}" if block.anchor else title
    if isinstance(block, Para):
        return _inline(page, block.inlines)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_inline(page, item)}" for item in block.items)
    if isinstance(block, Table):
        lines = [".. list-table::", "   :header-rows: 1", ""]
        header: list[Cell] = [[Text(h)] for h in block.headers]
        for row in [header, *block.rows]:
            for index, cell in enumerate(row):
                lines.append(f"   {'* -' if index == 0 else '  -'} {_cell(page, cell)}")
        return "\n".join(lines)
    if isinstance(block, Code):
        body = "\n".join(f"   {line}" for line in block.text.splitlines())
        return f".. code-block:: {block.language or 'text'}\n\n{body}"
    if isinstance(block, Diagram):
        target = relative(page.id, "diagrams/" + block.name, ".svg")
        return f".. image:: {target}\n   :alt: {block.alt}"
    raise TypeError(f"no reStructuredText for {block!r}")


def render(page: Page) -> str:
    return "\n\n".join(_block(page, b) for b in page.blocks) + "\n"
