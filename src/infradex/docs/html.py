"""Render pages as a static HTML site: semantic markup, one stylesheet, no JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from infradex.catalog import Ref
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
from infradex.docs.diagram import slot_safe
from infradex.inert import link_target, valid_chars

__all__ = ["NAV", "SUFFIX", "CheckedBody", "checked", "render", "render_body", "state_class"]

SUFFIX = ".html"
#: the site's navigation: (label, page id, anchor)
NAV = (
    ("Overview", "index", None),
    ("Services", "index", "services"),
    ("Providers", "index", "providers"),
    ("Data centers", "index", "datacenters"),
    ("DNS", "index", "dns"),
    ("On call", "index", "oncall"),
    ("Ownership", "ownership", None),
    ("Diagram", "dependencies", None),
)
#: the server's pages: the board and the incidents first, who is on call now (not the
#: overview's section), and the impact page
LIVE_NAV = (
    NAV[0],
    ("Board", "board", None),
    ("Incidents", "incidents", None),
    *(
        ("On call", "oncall", None) if label == "On call" else (label, t, a)
        for label, t, a in NAV[1:]
    ),
    ("Impact", "impact", None),
)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("infradex.docs", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def _code_spans(text: str) -> Markup:
    """Plain text, with `backticked` words (as hints write them) shown as code."""
    parts = text.split("`")
    if len(parts) < 3 or len(parts) % 2 == 0:
        return escape(text)
    out = Markup("")
    for index, part in enumerate(parts):
        out += Markup("<code>%s</code>") % part if index % 2 else escape(part)
    return out


def state_class(state: str) -> str:
    """The CSS class of a state word: ``state-not-monitored`` (letters and dashes only)."""
    return "state-" + "-".join(
        "".join(c if c.isascii() and c.isalpha() else " " for c in state.lower()).split()
    )


def _inline(page: Page, inlines: Sequence[Inline], suffix: str = SUFFIX) -> Markup:
    out = Markup("")
    for item in inlines:
        if isinstance(item, Text):
            out += _code_spans(item.text)
        elif isinstance(item, Strong):
            out += Markup("<strong>%s</strong>") % item.text
        elif isinstance(item, LiveHealth):
            if slot_safe(item.ref):
                out += Markup("<!--health:%s-->") % item.ref
        elif isinstance(item, State):
            out += Markup('<span class="health %s">%s</span>') % (state_class(item.text), item.text)
        elif isinstance(item, Link):
            if item.url:
                target = link_target(item.url)
                # a scheme that is not linked (javascript:, data:, ...) is shown as text
                out += (
                    Markup('<a href="%s">%s</a>') % (target, item.text)
                    if target
                    else escape(item.text)
                )
            else:
                target = relative(page.id, item.page or "index", suffix, item.anchor)
                out += Markup('<a href="%s">%s</a>') % (target, item.text)
    return out


def _href(page: Page, suffix: str) -> object:
    from infradex.docs.content import page_id

    def href(ref: Ref) -> str | None:
        target = page_id(ref)
        return relative(page.id, target, suffix) if target else None

    return href


def _block(page: Page, block: Block, suffix: str) -> Markup:
    if isinstance(block, Heading):
        anchor = Markup(' id="%s"') % block.anchor if block.anchor else Markup("")
        return Markup("<h%d%s>%s</h%d>") % (block.level, anchor, block.text, block.level)
    if isinstance(block, Para):
        return Markup("<p>%s</p>") % _inline(page, block.inlines, suffix)
    if isinstance(block, Bullets):
        items = Markup("").join(
            Markup("<li>%s</li>") % _inline(page, i, suffix) for i in block.items
        )
        return Markup("<ul>%s</ul>") % items
    if isinstance(block, Table):
        head = Markup("").join(Markup('<th scope="col">%s</th>') % h for h in block.headers)
        # each cell carries its column's name: a phone shows a row as a card of labelled lines
        labels = [*block.headers, *[""] * max(0, max(map(len, block.rows), default=0))]
        rows = Markup("").join(
            Markup("<tr>%s</tr>")
            % Markup("").join(
                Markup('<td data-label="%s">%s</td>') % (label, _inline(page, cell, suffix))
                for label, cell in zip(labels, row, strict=False)
            )
            for row in block.rows
        )
        return Markup(
            '<div class="table cards"><table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>'
            "</div>"
        ) % (head, rows)
    if isinstance(block, Code):
        return Markup("<pre><code>%s</code></pre>") % block.text
    if isinstance(block, Diagram):
        svg = Markup(block.draw(_href(page, suffix)))  # type: ignore[arg-type]  # drawn by us, escaped there
        return Markup('<figure class="diagram">%s<figcaption>%s</figcaption></figure>') % (
            svg,
            block.alt,
        )
    raise TypeError(f"no HTML for {block!r}")


@dataclass(frozen=True, slots=True)
class CheckedBody:
    """A page body already made of valid characters (:func:`checked` ran ``valid_chars`` on
    it once, when it was cached), so serving it again skips that scan of every character."""

    markup: Markup


def checked(body: Markup) -> CheckedBody:
    """``body`` with every character no page may carry replaced, once (for a cached body)."""
    return CheckedBody(Markup(valid_chars(str(body))))


#: where the body goes in the rendered shell: a tag, so no text put in the shell (a title,
#: a query) can look like it, autoescaped as it is
_BODY_MARK = "<infradex-body/>"


def render_body(page: Page, suffix: str = SUFFIX) -> Markup:
    """The page's content, without the surrounding document (the server caches this)."""
    body = Markup("\n").join(_block(page, b, suffix) for b in page.blocks)
    # our own markup has no such characters: only catalog text can bring them
    return Markup(valid_chars(str(body)))


def render(
    page: Page,
    suffix: str = SUFFIX,
    live: bool = False,
    query: str = "",
    body: Markup | CheckedBody | None = None,
    account: dict[str, str] | None = None,
    refresh: int | None = None,
) -> str:
    """A page as a complete HTML document. ``live`` (the server): links without a file suffix,
    a search form and the sign-in state (``account``: ``user`` and ``csrf``); otherwise a
    static site of ``.html`` files. ``refresh``: seconds after which the browser reloads the
    page by itself (a live console, without scripts). A :class:`CheckedBody` is not scanned
    again (at 10,000 checks that scan was the largest cost of serving a cached page)."""
    nav = [
        (label, relative(page.id, target, suffix, anchor))
        for label, target, anchor in (LIVE_NAV if live else NAV)
    ]
    document = (
        _environment()
        .get_template("page.html")
        .render(
            title=page.title,
            body=Markup(_BODY_MARK),
            nav=nav,
            root=relative(page.id, "", ""),
            live=live,
            query=query,
            account=account or {},
            refresh=refresh,
        )
    )
    before, _, after = document.partition(_BODY_MARK)
    before, after = valid_chars(before), valid_chars(after)
    if body is None:
        inner = str(render_body(page, suffix))  # valid characters already
    elif isinstance(body, CheckedBody):
        inner = str(body.markup)
    else:
        inner = valid_chars(str(body))
    return before + inner + after
