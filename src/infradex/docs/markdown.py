"""Render pages as GitHub-flavoured Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence

from infradex.docs.blocks import (
    Block,
    Bullets,
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

SUFFIX = ".md"
# The characters that open inline markup anywhere in a line: emphasis, strikethrough, code
# spans, links and images, autolinks and raw HTML, entities, headings and GFM table cells
# ("\|" is how a table keeps a pipe in its cell). A backslash makes each literal.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&~])")
# What else starts a block at the beginning of a line: a list item ("-", "+", "1.", "1)")
# or a setext underline ("="). Escaped there only, so "python-infra" stays readable.
_LINE_START = re.compile(r"^(?:(\d{1,9})([.)])|([-+=]))")


def _escape(text: str) -> str:
    """Catalog text as literal Markdown on one line (a line break would end a table row)."""
    return _SPECIAL.sub(r"\\\1", one_line(text))


def _line_start(text: str) -> str:
    """``text`` unable to start a list or an underline where it begins a line."""
    return _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text, count=1)


def _inline(page: Page, inlines: Sequence[Inline]) -> str:
    out = []
    for item in inlines:
        if isinstance(item, Text | State | LiveHealth):
            out.append(_escape(item.text))
        elif isinstance(item, Strong):
            stripped = one_line(item.text).strip()
            strong = f"**{_escape(stripped)}**" if stripped else ""
            out.append(strong + (" " if item.text.endswith(" ") else ""))
        elif isinstance(item, Link):
            target = (
                link_target(item.url)
                if item.url
                else relative(page.id, item.page or "index", SUFFIX, item.anchor)
            )
            # link_target percent-encodes "<", ">" and spaces: nothing can leave the <...>
            out.append(f"[{_escape(item.text)}](<{target}>)" if target else _escape(item.text))
    # leading spaces would make an indented code block or a nested list
    return _line_start("".join(out).lstrip())


def _block(page: Page, block: Block) -> str:
    if isinstance(block, Heading):
        anchor = f'<a id="{block.anchor}"></a>\n\n' if block.anchor else ""
        return f"{anchor}{'#' * block.level} {_escape(block.text)}"
    if isinstance(block, Para):
        return _inline(page, block.inlines)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_inline(page, item)}" for item in block.items)
    if isinstance(block, Table):
        head = "| " + " | ".join(_escape(h) for h in block.headers) + " |"
        rule = "|" + "|".join("---" for _ in block.headers) + "|"
        rows = [
            "| " + " | ".join(_inline(page, cell) or " " for cell in row) + " |"
            for row in block.rows
        ]
        return "\n".join([head, rule, *rows])
    if isinstance(block, Code):
        longest = max((len(run) for run in re.findall(r"`+", block.text)), default=0)
        fence = "`" * max(3, longest + 1)  # longer than any run of backticks inside
        return f"{fence}{one_line(block.language)}\n{valid_chars(block.text)}\n{fence}"
    if isinstance(block, Diagram):
        return f"![{_escape(block.alt)}]({relative(page.id, 'diagrams/' + block.name, '.svg')})"
    raise TypeError(f"no Markdown for {block!r}")


def render(page: Page) -> str:
    return "\n\n".join(_block(page, b) for b in page.blocks) + "\n"
