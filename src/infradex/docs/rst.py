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


def _inline(page: Page, inlines: Sequence[Inline]) -> str:
    out = []
    for item in inlines:
        if isinstance(item, Text):
            out.append(_escape(item.text))
        elif isinstance(item, Strong):
            stripped = item.text.strip()
            out.append(f"**{_escape(stripped)}**" + (" " if item.text.endswith(" ") else ""))
        elif isinstance(item, Link):
            text = _escape(item.text).replace("\\<", "&lt;")
            if item.url:
                out.append(f"`{text} <{item.url}>`__")
            elif item.anchor:
                out.append(f":ref:`{text} <{label(item.page or 'index', item.anchor)}>`")
            else:
                target = relative(page.id, item.page or "index", "")
                out.append(f":doc:`{text} <{target}>`")
    # inline markup must be separated from neighbouring text
    return re.sub(r"(`__|`)(?=[^\s,.;:)\]—\\])", r"\1\\ ", "".join(out))


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
