"""The server's home, read at a glance: a status strip first (all up, or how many checks are
down, degraded or in maintenance, and the open incidents, linked), then the services with a
health dot and their owners, worst first, then the catalog's own sections (providers, data
centers, the team, DNS, on call), which are rendered once per catalog."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from infradex.alerting import records
from infradex.alerting.read_models import IncidentListItem
from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.models import ServiceSpec
from infradex.clock import utcnow
from infradex.docs import html
from infradex.docs.blocks import Cell, Heading, Link, Page, State, Table, Text
from infradex.docs.content import SERVICES_PER_PAGE, page_id, pager, service_cells
from infradex.docs.html import CheckedBody, checked
from infradex.durations import format_age
from infradex.monitor.report import DEGRADED_STATES, state_rank
from infradex.web.glance import glance, kept
from infradex.web.health import checks_by_owner, not_monitored_notice
from infradex.web.live_health import fill_health
from infradex.web.pages import rendered_page
from infradex.web.render import page_response

__all__ = ["router", "status_strip"]

router = APIRouter(include_in_schema=False)

#: open incidents named in the strip; the rest are a link away
STRIP_INCIDENTS = 5


@functools.lru_cache(maxsize=4)
def _services_by_title(catalog: Catalog) -> tuple[tuple[str, Entity], ...]:
    """The services in title order with their refs as text (cached per catalog: a catalog
    never changes, and sorting 10,000 titles on every glance cost more than the rest)."""
    services = sorted(catalog.of_kind("service"), key=lambda e: (e.title.lower(), e.name))
    return tuple((str(e.ref), e) for e in services)


def _tile(count: int, label: str, css: str) -> Markup:
    return Markup('<li class="tile {}"><span class="count">{}</span> {}</li>').format(
        css, count, label
    )


def status_strip(
    counts: Counter[str], on: bool, incidents: list[IncidentListItem], more: int, now: datetime,
    not_monitored: Markup,
) -> Markup:  # fmt: skip
    """The strip: the checks by state (or, when nothing is monitored, that said once) and the
    open incidents with their age."""
    parts = [Markup('<section class="strip" aria-label="State at a glance">')]
    if on:
        down = counts["down"]
        degraded = sum(counts[s] for s in DEGRADED_STATES)
        tiles = []
        if down:
            tiles.append(_tile(down, "down", "state-down"))
        if degraded:
            tiles.append(_tile(degraded, "degraded", "state-flapping"))
        if counts["maintenance"]:
            tiles.append(_tile(counts["maintenance"], "in maintenance", "state-maintenance"))
        if counts["pending"]:
            tiles.append(_tile(counts["pending"], "pending", "state-pending"))
        if not down and not degraded:
            tiles.insert(0, _tile(counts["up"], "up: all up", "state-up"))
        else:
            tiles.append(_tile(counts["up"], "up", "state-up"))
        parts.append(Markup('<ul class="tiles">{}</ul>').format(Markup("").join(tiles)))
    else:
        parts.append(Markup('<p class="quiet">{}</p>').format(not_monitored))
    if incidents:
        items = Markup("").join(
            Markup(
                '<li><a href="incidents/{}"><strong>#{}</strong> {}</a> '
                '<span class="incident-status status-{}">{}</span> for {}</li>'
            ).format(
                i.id, i.id, i.title, i.status, i.status,
                format_age(now - i.opened_at),
            )
            for i in incidents
        )  # fmt: skip
        rest = (
            Markup('<li><a href="incidents?status=open">{} more open</a></li>').format(more)
            if more
            else Markup("")
        )
        parts.append(
            Markup('<h2 class="strip-title">Open incidents</h2>'
                   '<ul class="open-incidents">{}{}</ul>').format(items, rest)
        )  # fmt: skip
    else:
        parts.append(Markup('<p class="quiet">No open incidents.</p>'))
    parts.append(Markup("</section>"))
    return Markup("").join(parts)


def _services(catalog: Catalog, health: dict[str, str], on: bool, number: int) -> Page:
    """The services, worst first when something is monitored, a page at a time."""
    ordered = _services_by_title(catalog)
    if on:  # worst first, by title within a state: a bucket per state keeps it linear
        buckets: dict[str, list[tuple[str, Entity]]] = {}
        for item in ordered:
            buckets.setdefault(health.get(item[0], "none"), []).append(item)
        ordered = tuple(i for state in sorted(buckets, key=state_rank) for i in buckets[state])
    services = [entity for _, entity in ordered]
    pages = max(1, -(-len(services) // SERVICES_PER_PAGE))
    number = min(number, pages)
    shown = services[(number - 1) * SERVICES_PER_PAGE : number * SERVICES_PER_PAGE]
    rows: list[list[Cell]] = []
    for service in shown:
        owners, hosting, _ = service_cells(catalog, catalog.typed(service.ref, ServiceSpec))
        name: Cell = [Link(service.title, page=page_id(service.ref))]
        row = [name, owners, hosting]
        if on:
            found = health.get(str(service.ref))
            row.insert(0, [State(found)] if found else [Text("no checks")])
        rows.append(row)
    headers = ["Service", "Owners", "Runs on"]
    if on:
        headers.insert(0, "Health")
    live = Page("index", "Infrastructure overview")
    live.add(Heading(2, f"Services ({len(services)})", "services"))
    if pages > 1:
        live.add(pager(number, pages))
    live.add(Table(headers, rows))
    if pages > 1:
        live.add(pager(number, pages))
    return live


@router.get("/")
async def home(request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    catalog = request.app.state.catalog.catalog
    title = Page("index", "Infrastructure overview").add(Heading(1, "Infrastructure overview"))

    async def glance_body() -> CheckedBody:
        # the states and the open incidents are read at most every few seconds, and the
        # body made of them once for everyone meanwhile: a glance, not queries per request
        grouped = checks_by_owner(request)
        seen = await glance(request)
        services = _services(catalog, seen.health, seen.on, page)
        incidents, total = await records.list_incidents(
            request.app.state.db, "open", STRIP_INCIDENTS, 0
        )
        sections = rendered_page(request, "index")
        assert sections is not None  # the overview always exists
        return checked(Markup("\n").join([
            html.render_body(title, suffix=""),
            status_strip(
                seen.counts, seen.on, incidents, total - len(incidents), utcnow(),
                not_monitored_notice(request) if grouped else Markup("No checks are declared."),
            ),
            html.render_body(services, ""),
            fill_health(sections[1], seen),  # the diagram's nodes
        ]))  # fmt: skip

    body = await kept(request, f"home:{id(catalog)}:{page}", glance_body)
    return page_response(request, title, body=body)
