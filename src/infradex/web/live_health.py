"""Live health in pages cached per catalog. An entity page, the diagram and the home's sections
are rendered once per loaded catalog; the health of what they name changes by the second. They
carry slots (``<!--health:service:www-->`` in a table, ``<!--node-health:REF:X:Y-->`` in a
diagram, written by ``docs.html`` and ``docs.diagram`` for the server's pages only) that are
filled here, as the page is served, from the glance every console page reads (at most a few
seconds old). Only refs (slugs) go in a slot and only our own markup comes out of one."""

from __future__ import annotations

import re

from markupsafe import Markup

from infradex.docs.html import state_class
from infradex.web.glance import Glance

__all__ = ["fill_health", "has_slots"]

_REF = r"([a-z0-9]+:[a-z0-9]+(?:[-_.][a-z0-9]+)*)"
_TABLE_SLOT = re.compile(rf"<!--health:{_REF}-->")
_NODE_SLOT = re.compile(rf"<!--node-health:{_REF}:(\d+):(\d+)-->")


def has_slots(body: str) -> bool:
    return "<!--health:" in body or "<!--node-health:" in body


def fill_health(body: str, seen: Glance) -> Markup:
    """``body`` with every slot filled: a table's with the entity's state (or "no checks"), a
    diagram node's with a dot in its state's colour, titled with the state (nothing for an
    entity without checks, or when nothing is monitored)."""

    def cell(match: re.Match[str]) -> str:
        state = seen.health.get(match[1])
        if state is None:
            return "no checks"
        return f'<span class="health {state_class(state)}">{Markup.escape(state)}</span>'

    def node(match: re.Match[str]) -> str:
        state = seen.health.get(match[1])
        if state is None or not seen.on:
            return ""
        return (
            f'<circle class="node-health {state_class(state)}" cx="{match[2]}" cy="{match[3]}" '
            f'r="6"><title>{Markup.escape(state)}</title></circle>'
        )

    return Markup(_NODE_SLOT.sub(node, _TABLE_SLOT.sub(cell, body)))
