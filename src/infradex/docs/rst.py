"""Render pages as reStructuredText documents that drop into a Sphinx site.

Internal links use Sphinx's ``:doc:`` and ``:ref:`` roles; labels are prefixed with
``infradex-`` so they do not collide with the host site's own.
"""

from __future__ import annotations

import re
import unicodedata
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
    LiveHealth,
    Page,
    Para,
    State,
    Strong,
    Table,
    Text,
    relative,
)
from infradex.inert import link_target, one_line, valid_chars

__all__ = ["SUFFIX", "render"]

SUFFIX = ".rst"
_UNDERLINES = {1: "=", 2: "-", 3: "~", 4: "^"}
# A backslash makes any character literal in reStructuredText. Catalog text is one line, and
# these are escaped wherever they stand: they open or close inline markup, roles, substitution
# and footnote references, hyperlink references and targets, and (":") standalone URIs such
# as ``javascript:``, field lists and "::" literal blocks.
_SPECIAL = re.compile(r"([\\`*_|\[\]<>:])")
# At the start of a line any punctuation can begin a construct (".. " a directive or a
# target, "-" a list or an option, "=" a table or an adornment, ">>>" a doctest...), and so
# can an enumerator ("1.", "a)", "iv."): escaped there too. A leading backslash already
# begins an escape and is left alone.
_LINE_START = re.compile(r"^(?:([!-/:-@\[\]-`{-~•‣⁃])|(\d+|[A-Za-z]|[ivxlcdm]+|[IVXLCDM]+)([.)]))")


def _escape(text: str) -> str:
    """Catalog text as literal reStructuredText on one line (a line break could start a
    directive: ``x\n\n.. include:: /etc/hostname``)."""
    return _SPECIAL.sub(r"\\\1", one_line(text))


def _line_start(text: str) -> str:
    """Escaped ``text`` unable to begin a block construct where it begins a line."""
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text, count=1)


def _url(url: str) -> str | None:
    """An external address as an embedded URI, or None: shown as text. A trailing "_" would
    make docutils read the URI as a reference name, so it is percent-encoded."""
    target = link_target(url)
    if target is None:
        return None
    return target[:-1] + "%5F" if target.endswith("_") else target


def label(page_id: str, anchor: str) -> str:
    return f"infradex-{page_id.replace('/', '-')}-{anchor}"


def _markup(page: Page, item: Strong | Link) -> str:
    if isinstance(item, Strong):
        text = _escape(item.text.strip()).strip()
        return f"**{text}**" if text else ""
    text = _escape(item.text).strip() or "—"
    if item.url:
        url = _url(item.url)
        return f"`{text} <{url}>`__" if url else text
    if item.anchor:
        return f":ref:`{text} <{label(item.page or 'index', item.anchor)}>`"
    return f":doc:`{text} <{relative(page.id, item.page or 'index', '')}>`"


def _may_precede(char: str) -> bool:
    """Whether inline markup may start right after ``char`` (docutils: whitespace, an
    opening bracket or quote, a delimiter such as "-", "/" or ":")."""
    category = unicodedata.category(char)
    return char.isspace() or char == "<" or (category[0] == "P" and category not in ("Pe", "Pc"))


def _may_follow(char: str) -> bool:
    """Whether inline markup may end right before ``char`` (whitespace, a closing bracket or
    quote, a delimiter, or an escape)."""
    category = unicodedata.category(char)
    return char.isspace() or char == ">" or (category[0] == "P" and category not in ("Ps", "Pc"))


def _inline(page: Page, inlines: Sequence[Inline]) -> str:
    """Inline markup must touch whitespace or punctuation; an escaped space (``\\ ``) glues
    it to a neighbour that is neither."""
    pieces: list[tuple[str, bool]] = []  # (text, is markup)
    for item in inlines:
        if isinstance(item, Text | State | LiveHealth):
            pieces.append((_escape(item.text), False))
            continue
        pieces.append((_markup(page, item), True))
        if isinstance(item, Strong) and item.text.endswith(" "):
            pieces.append((" ", False))
    out = ""
    previous_markup = False
    starts_with_text = next((not m for t, m in pieces if t.strip()), False)
    for text, markup in pieces:
        if not text:
            continue
        if (markup and out and not _may_precede(out[-1])) or (
            previous_markup and not _may_follow(text[0])
        ):
            out += "\\ "
        out += text
        previous_markup = markup
    # leading spaces would make a block quote
    out = out.strip()
    return _line_start(out) if starts_with_text else out


def _cell(page: Page, inlines: Sequence[Inline]) -> str:
    return _inline(page, inlines) or "—"


def _title(text: str) -> str:
    """A section title: escaped, never empty (an adornment alone is a transition)."""
    return _line_start(_escape(text).strip()) or "—"


def _width(text: str) -> int:
    """Columns the text takes: docutils wants the underline at least this long."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _block(page: Page, block: Block) -> str:
    if isinstance(block, Heading):
        text = _title(block.text)
        line = _UNDERLINES[min(block.level, 4)] * max(_width(text), 3)
        title = f"{line}\n{text}\n{line}" if block.level == 1 else f"{text}\n{line}"
        return f".. _{label(page.id, block.anchor)}:\n\n{title}" if block.anchor else title
    if isinstance(block, Para):
        return _inline(page, block.inlines)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_inline(page, item)}" for item in block.items)
    if isinstance(block, Table):
        # docutils refuses a header row with no body rows under it
        lines = [".. list-table::", f"   :header-rows: {1 if block.rows else 0}", ""]
        header: list[Cell] = [[Text(h)] for h in block.headers]
        for row in [header, *block.rows]:
            for index, cell in enumerate(row):
                lines.append(f"   {'* -' if index == 0 else '  -'} {_cell(page, cell)}")
        return "\n".join(lines)
    if isinstance(block, Code):
        body = "\n".join(f"   {line}" for line in valid_chars(block.text).splitlines())
        language = re.sub(r"[^A-Za-z0-9_+-]", "", block.language) or "text"
        return f".. code-block:: {language}\n\n{body}"
    if isinstance(block, Diagram):
        target = relative(page.id, "diagrams/" + block.name, ".svg")
        # an option value is not parsed as markup; one line keeps it an option value
        return f".. image:: {target}\n   :alt: {one_line(block.alt).strip() or 'diagram'}"
    raise TypeError(f"no reStructuredText for {block!r}")


def render(page: Page) -> str:
    return "\n\n".join(_block(page, b) for b in page.blocks) + "\n"
