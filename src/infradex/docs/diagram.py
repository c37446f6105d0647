"""Dependency pictures: SVG drawn here (no Graphviz, no JavaScript), Mermaid and DOT as text.

The SVG layout is layered: providers on the left, then data centers, hosts and services; a
service that depends on another sits to its right. Within a column, nodes are ordered by the
average position of their neighbours (a few barycenter sweeps), which keeps most arrows short
and uncrossed. Everything is ordered by name first, so the same catalog draws the same bytes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from infradex.catalog import Catalog, Ref
from infradex.catalog.queries import Graph
from infradex.inert import one_line, valid_chars

__all__ = [
    "Href",
    "crossings",
    "dot_string",
    "label_lines",
    "mermaid_label",
    "slot_safe",
    "to_dot",
    "to_mermaid",
    "to_svg",
]

Href = Callable[[Ref], str | None]

_BASE_LAYER = {"provider": 0, "datacenter": 1, "zone": 1, "host": 2, "service": 3}
_FILL = {
    "provider": "#fde68a",
    "datacenter": "#bfdbfe",
    "host": "#ddd6fe",
    "service": "#bbf7d0",
    "zone": "#fecaca",
}
_EDGE = {
    "hostedOn": ("#475569", ""),
    "frontedBy": ("#c2410c", "6 4"),
    "dependsOn": ("#1d4ed8", ""),
    "locatedIn": ("#94a3b8", ""),
    "providedBy": ("#94a3b8", ""),
}
NODE_W, NODE_H, GAP_Y, GAP_X, MARGIN = 200, 44, 12, 80, 16
_LEGEND_H = 30
#: the labels' size in pixels: the page never shrinks the picture (it scrolls in its frame)
FONT_PX = 13
#: characters a label line holds at FONT_PX in a box NODE_W wide (system-ui averages ~7 px)
LINE_CHARS = 25
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


def slot_safe(ref: str) -> bool:
    """Whether ``ref`` (``kind:name``) may name a health slot: slugs only, so the slot's
    comment cannot be closed from inside (the catalog refuses other names anyway)."""
    kind, _, name = ref.partition(":")
    return bool(_SLUG.match(kind) and _SLUG.match(name))


def _layers(picture: Graph) -> dict[Ref, int]:
    """Each node's column: its kind's, or one right of the deepest thing it needs (computed
    with an explicit stack: a long dependency chain must not hit the recursion limit)."""
    needs: dict[Ref, list[Ref]] = {n: [] for n in picture.nodes}
    for source, _relation, target in picture.edges:
        needs[source].append(target)
    layer: dict[Ref, int] = {}
    pending: set[Ref] = set()
    for node in picture.nodes:
        stack = [(node, False)]
        while stack:
            ref, expanded = stack.pop()
            if ref in layer:
                continue
            if expanded:
                below = [layer[t] + 1 for t in needs[ref] if t in layer]
                layer[ref] = max([_BASE_LAYER.get(ref.kind, 3), *below])
                continue
            if ref in pending:  # a cycle: the validator refuses these; do not loop
                continue
            pending.add(ref)
            stack.append((ref, True))
            stack.extend((t, False) for t in needs[ref] if t not in layer)
    return layer


#: sweeps of the barycenter ordering; the ordering with the fewest crossings among them wins
SWEEPS = 12
#: above this many edges, crossings are not counted (quadratic) and the last sweep is kept
COUNTED_EDGES = 400


def _heights(columns: list[list[Ref]]) -> dict[Ref, float]:
    """Each node's vertical place in rows, as drawn: every column is centred on the tallest."""
    tallest = max((len(c) for c in columns), default=0)
    return {
        ref: (tallest - len(column)) / 2 + row
        for column in columns
        for row, ref in enumerate(column)
    }


def crossings(columns: list[list[Ref]], edges: list[tuple[Ref, Ref]], layer: dict[Ref, int]) -> int:
    """How many pairs of edges cross, with each edge drawn straight from column to column."""
    y = _heights(columns)
    lines = [
        (layer[a], y[a], layer[b], y[b])
        if layer[a] <= layer[b]
        else (layer[b], y[b], layer[a], y[a])
        for a, b in edges
    ]

    def at(line: tuple[int, float, int, float], x: float) -> float:
        x1, y1, x2, y2 = line
        return y1 if x2 == x1 else y1 + (y2 - y1) * (x - x1) / (x2 - x1)

    found = 0
    for i, one in enumerate(lines):
        for other in lines[i + 1 :]:
            left, right = max(one[0], other[0]), min(one[2], other[2])
            if left >= right:
                continue
            before = at(one, left) - at(other, left)
            after = at(one, right) - at(other, right)
            found += before * after < 0
    return found


def _order(picture: Graph, layer: dict[Ref, int]) -> list[list[Ref]]:
    """Columns ordered to keep edges short and uncrossed: sweeps left to right and back, each
    placing a node at the average height of its neighbours as drawn (columns are centred, so
    heights, not indices), keeping the sweep with the fewest crossings."""
    count = max(layer.values(), default=-1) + 1
    columns: list[list[Ref]] = [[] for _ in range(count)]
    for node in picture.nodes:  # nodes arrive sorted by kind and name
        columns[layer[node]].append(node)
    neighbours: dict[Ref, list[Ref]] = {n: [] for n in picture.nodes}
    edges = [(source, target) for source, _relation, target in picture.edges]
    for source, target in edges:
        neighbours[source].append(target)
        neighbours[target].append(source)
    counted = len(edges) <= COUNTED_EDGES
    best = [list(c) for c in columns]
    fewest = crossings(best, edges, layer) if counted else 0
    for sweep in range(SWEEPS):
        indices = range(1, count) if sweep % 2 == 0 else range(count - 2, -1, -1)
        for index in indices:
            height = _heights(columns)

            def barycenter(
                ref: Ref, index: int = index, height: dict[Ref, float] = height
            ) -> tuple[float, str]:
                near = [height[n] for n in neighbours[ref] if layer[n] != index]
                score = sum(near) / len(near) if near else height[ref]
                return score, ref.name

            columns[index] = sorted(columns[index], key=barycenter)
        if counted:
            found = crossings(columns, edges, layer)
            if found < fewest:
                best, fewest = [list(c) for c in columns], found
        else:
            best = [list(c) for c in columns]
    return best


def label_lines(title: str) -> list[str]:
    """A node's label: its title on one or two lines, broken between words; a title too long
    for two lines ends in "…" (the node's tooltip has it whole)."""
    lines = textwrap.wrap(one_line(title), LINE_CHARS, break_on_hyphens=True) or [""]
    if len(lines) <= 2:
        return lines
    rest = " ".join(lines[1:])
    return [lines[0], rest[: LINE_CHARS - 1].rstrip() + "…"]


def _xml(text: str) -> str:
    """Catalog text as SVG character data: escaped, and without the characters XML 1.0
    forbids (a C0 control or a lone surrogate makes the whole document ill-formed)."""
    return escape(valid_chars(text))


def to_svg(catalog: Catalog, picture: Graph, href: Href | None = None, live: bool = False) -> str:
    """The graph as a standalone SVG document; ``href`` makes nodes links to pages. ``live``
    (the server's pages): each node has a slot for its health, filled when served."""
    if not picture.nodes:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>\n'
    layer = _layers(picture)
    columns = _order(picture, layer)
    tallest = max(len(c) for c in columns)
    height = MARGIN * 2 + tallest * (NODE_H + GAP_Y) - GAP_Y + _LEGEND_H
    width = MARGIN * 2 + len(columns) * (NODE_W + GAP_X) - GAP_X
    box: dict[Ref, tuple[int, int]] = {}
    for index, column in enumerate(columns):
        offset = (tallest - len(column)) * (NODE_H + GAP_Y) // 2
        for row, ref in enumerate(column):
            box[ref] = (
                MARGIN + index * (NODE_W + GAP_X),
                MARGIN + _LEGEND_H + offset + row * (NODE_H + GAP_Y),
            )
    title = f"Dependencies of {catalog.title(picture.focus)}" if picture.focus else "Dependencies"
    # with links inside, the picture is a group of links, not one image (an image's content
    # is hidden from assistive technology, links included)
    role = "group" if href is not None else "img"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="{role}" aria-labelledby="t" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'font-size="{FONT_PX}">',
        f'<title id="t">{_xml(title)}</title>',
        "<defs>",
    ]
    for relation, (color, _dash) in _EDGE.items():
        out.append(
            f'<marker id="arrow-{relation}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    out.append(_legend({n.kind for n in picture.nodes}, {e[1] for e in picture.edges}))
    for source, relation, target in picture.edges:
        sx, sy = box[source]
        tx, ty = box[target]
        x1, y1 = sx, sy + NODE_H / 2
        x2, y2 = tx + NODE_W, ty + NODE_H / 2
        bend = max(40.0, (x1 - x2) / 2)
        color, dash = _EDGE.get(relation, ("#64748b", ""))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path d="M{x1:g},{y1:g} C{x1 - bend:g},{y1:g} {x2 + bend:g},{y2:g} {x2:g},{y2:g}" '
            f'fill="none" stroke="{color}" stroke-width="1.4"{dashes} '
            f'marker-end="url(#arrow-{relation})"><title>{_xml(catalog.title(source))} '
            f"{relation} {_xml(catalog.title(target))}</title></path>"
        )
    for ref, (x, y) in box.items():
        stroke = (
            ' stroke="#0f172a" stroke-width="2.5"'
            if ref == picture.focus
            else (' stroke="#334155" stroke-width="1"')
        )
        lines = label_lines(catalog.title(ref))
        first = y + NODE_H // 2 + 5 - (len(lines) - 1) * 8  # centred, 16 px a line
        # always two lines, the second maybe empty: every label has the same markup shape
        text = "".join(
            f'<tspan x="{x + 10}" y="{first + i * 16}">{_xml(line)}</tspan>'
            for i, line in enumerate([*lines, ""][:2])
        )
        # the server fills the slot with the node's health when it serves the page
        slot = (
            f"<!--node-health:{ref.kind}:{ref.name}:{x + NODE_W - 10}:{y + 10}-->"
            if live and slot_safe(str(ref))
            else ""
        )
        node = (
            f'<g><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" '
            f'fill="{_FILL.get(ref.kind, "#e2e8f0")}"{stroke}/>'
            f'<text fill="#0f172a">{text}</text>{slot}'
            f"<title>{_xml(one_line(catalog.title(ref)))} ({_xml(str(ref))})</title></g>"
        )
        link = href(ref) if href else None
        out.append(f"<a href={quoteattr(valid_chars(link))}>{node}</a>" if link else node)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(kinds: set[str], relations: set[str]) -> str:
    """Only what this picture shows."""
    items, x = [], MARGIN
    for kind, fill in _FILL.items():
        if kind not in kinds:
            continue
        items.append(
            f'<rect x="{x}" y="{MARGIN - 4}" width="14" height="14" rx="3" '
            f'fill="{fill}" stroke="#334155"/>'
            f'<text x="{x + 20}" y="{MARGIN + 7}" fill="#334155">{kind}</text>'
        )
        x += 100
    for relation in ("hostedOn", "frontedBy", "dependsOn"):
        if relation not in relations:
            continue
        color, dash = _EDGE[relation]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            f'<line x1="{x}" y1="{MARGIN + 3}" x2="{x + 26}" y2="{MARGIN + 3}" '
            f'stroke="{color}" stroke-width="1.6"{dashes}/>'
            f'<text x="{x + 32}" y="{MARGIN + 7}" fill="#334155">{relation}</text>'
        )
        x += 110
    return "".join(items)


def _node_id(ref: Ref) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{ref.kind}_{ref.name}")


#: ASCII that means nothing inside a quoted Mermaid label; letters and digits of any script too
_MERMAID_PLAIN = frozenset(" .,-_/:()'@+?!=")


def mermaid_label(text: str) -> str:
    """Catalog text for a quoted Mermaid label: one line, and every character but letters,
    digits and harmless punctuation written as an entity code (``#60;`` for "<"), so no
    quote, HTML tag, entity, Markdown string or line can come from the catalog."""
    return "".join(
        char if char.isalnum() or char in _MERMAID_PLAIN else f"#{ord(char)};"
        for char in one_line(text)
    )


def dot_string(text: str) -> str:
    """Catalog text inside a DOT double-quoted string: one line, backslashes and quotes
    escaped (a trailing backslash would otherwise swallow the closing quote, and ``\\N`` or
    ``\\l`` would be Graphviz's escapes)."""
    return one_line(text).replace("\\", "\\\\").replace('"', '\\"')


def to_mermaid(catalog: Catalog, picture: Graph) -> str:
    """Mermaid flowchart text (GitHub and many wikis render it)."""
    lines = ["flowchart LR"]
    for ref in picture.nodes:
        label = mermaid_label(catalog.title(ref))
        lines.append(f'  {_node_id(ref)}["{label}"]:::{ref.kind}')
    for source, relation, target in picture.edges:
        arrow = "-.->" if relation == "frontedBy" else "-->"
        lines.append(f"  {_node_id(source)} {arrow}|{relation}| {_node_id(target)}")
    for kind, fill in _FILL.items():
        lines.append(f"  classDef {kind} fill:{fill},stroke:#334155")
    return "\n".join(lines) + "\n"


def to_dot(catalog: Catalog, picture: Graph) -> str:
    """Graphviz DOT text, for ``dot -Tsvg`` where Graphviz is installed."""
    lines = ["digraph infradex {", "  rankdir=RL;", '  node [shape=box, style="rounded,filled"];']
    for ref in picture.nodes:
        label = dot_string(catalog.title(ref))
        fill = _FILL.get(ref.kind, "#e2e8f0")
        lines.append(f'  "{dot_string(str(ref))}" [label="{label}", fillcolor="{fill}"];')
    for source, relation, target in picture.edges:
        style = ", style=dashed" if relation == "frontedBy" else ""
        ends = f'"{dot_string(str(source))}" -> "{dot_string(str(target))}"'
        lines.append(f'  {ends} [label="{relation}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
