"""What the generated overview says: every page, as blocks, from the catalog alone.

The overview page follows the PSF's hand-written one (team, how to reach it, providers, data
centers, every service with hosting, CDN, software, owners, contacts and links); the other pages
go one level deeper (one per service, provider, data center, host, person and team, plus the
ownership report and the dependency diagram). Order is fixed everywhere, so the same catalog
gives the same pages byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from infradex.catalog import Catalog, Entity, Problem, Ref
from infradex.catalog.entities import has_spec
from infradex.catalog.impact import soft_dependencies
from infradex.catalog.models import (
    DatacenterSpec,
    HostSpec,
    PersonSpec,
    ProviderSpec,
    ServiceSpec,
    TeamSpec,
)
from infradex.catalog.queries import (
    Graph,
    channels_of,
    fallback_team,
    graph,
    impact,
    ownership_report,
    who,
)
from infradex.catalog.secrets import redact_url
from infradex.catalog.specs import spec_checks
from infradex.catalog.zones import record_name
from infradex.conditions import conditions_or_default
from infradex.docs.blocks import (
    Block,
    Bullets,
    Cell,
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
)
from infradex.docs.diagram import to_svg

__all__ = [
    "PAGE_DIRS",
    "SERVICES_PER_PAGE",
    "build_page",
    "build_pages",
    "impact_section",
    "page_id",
    "pager",
    "service_cells",
    "who_rows",
]

#: kinds that get a page of their own, and the directory their pages live in
PAGE_DIRS = {
    "service": "services",
    "provider": "providers",
    "datacenter": "datacenters",
    "host": "hosts",
    "person": "people",
    "team": "teams",
}


def page_id(ref: Ref) -> str | None:
    directory = PAGE_DIRS.get(ref.kind)
    return f"{directory}/{ref.name}" if directory else None


class _Writer:
    """Helpers that turn catalog facts into inline text, shared by every page."""

    def __init__(self, catalog: Catalog, live: bool = False) -> None:
        self.catalog = catalog
        self.live = live  # for the server's pages, which show the monitor's state themselves

    def link(self, ref: Ref) -> Inline:
        target = page_id(ref)
        title = self.catalog.title(ref)
        return Link(title, page=target) if target else Text(title)

    def links(self, refs: Iterable[Ref], empty: str = "—") -> list[Inline]:
        out: list[Inline] = []
        for ref in refs:
            if out:
                out.append(Text(", "))
            out.append(self.link(ref))
        return out or [Text(empty)]

    def hosting(self, service: Entity) -> list[Inline]:
        """``docs0.nyc1.psf.io (DigitalOcean NYC3)``: each host with where it lives."""
        out: list[Inline] = []
        for ref in self.catalog.related(service.ref, "hostedOn"):
            if out:
                out.append(Text(", "))
            out.append(self.link(ref))
            where = self.location(ref)
            if where:
                out.append(Text(f" ({where})"))
        return out or [Text("—")]

    def location(self, ref: Ref) -> str:
        if ref.kind == "host":
            return ", ".join(self.location(d) for d in self.catalog.related(ref, "locatedIn"))
        if ref.kind == "datacenter":
            spec = self.catalog.typed(ref, DatacenterSpec).spec
            providers = [self.catalog.title(p) for p in self.catalog.related(ref, "providedBy")]
            return f"{ref.name}: {', '.join(providers)}" + (
                f", {spec.region}" if spec.region else ""
            )
        return ""

    def owners(self, service: Entity[ServiceSpec]) -> list[Inline]:
        out: list[Inline] = []
        for owner in service.spec.owners:
            ref = _find(self.catalog, owner.ref, ("person", "team"))
            if ref is None:
                continue
            if out:
                out.append(Text(", "))
            out.append(self.link(ref))
            if owner.role not in ("owner",):
                out.append(Text(f" ({owner.role})"))
        return out or [Text("nobody listed")]

    def channels(self, entity: Entity) -> list[Inline]:
        out: list[Inline] = []
        for channel in channels_of(entity):
            if out:
                out.append(Text(", "))
            out.extend(_channel(channel.type, channel.address, channel.network))
        return out or [Text("—")]


def _channel(kind: str, address: str, network: str | None) -> list[Inline]:
    if kind == "email":
        return [Link(address, url=f"mailto:{address}")]
    if kind == "url":
        return [Link(address, url=address)]
    if kind == "github":
        return [Link(f"@{address}", url=f"https://github.com/{address}")]
    where = f" on {network}" if network else ""
    return [Text(f"{kind} {address}{where}")]


def _find(catalog: Catalog, text: str, kinds: tuple[str, ...]) -> Ref | None:
    from infradex.catalog.refs import RefError, parse_ref

    try:
        ref = parse_ref(text, kinds)
    except RefError:
        return None
    return ref if ref in catalog else None


def build_pages(catalog: Catalog, problems: Sequence[Problem] = ()) -> list[Page]:
    """Every page of the site, overview first."""
    w = _Writer(catalog)
    full = _drawable(catalog, graph(catalog))
    pages = [_overview(w, full), _ownership(w, problems), _diagram_page(w, full)]
    for kind in PAGE_DIRS:
        pages.extend(_entity_page(w, entity) for entity in catalog.of_kind(kind))
    return pages


def build_page(
    catalog: Catalog, page: str, problems: Sequence[Problem] = (), live: bool = False
) -> Page | None:
    """One page by its id (``index``, ``services/docs``), or None if there is no such page.
    ``live``: for the server, whose home shows the title, the state and the services itself
    (so its ``index`` holds only the catalog's other sections), and whose pages show the
    checks' state (so they do not send readers elsewhere for it)."""
    w = _Writer(catalog, live)
    if page in ("index", "dependencies"):
        full = _drawable(catalog, graph(catalog))
        if page == "dependencies":
            return _diagram_page(w, full)
        return _overview_sections(w, full) if live else _overview(w, full)
    if page == "ownership":
        return _ownership(w, problems)
    if page in SECTION_PAGES:
        return _section_page(w, page) if live else None
    directory, _, name = page.partition("/")
    kind = next((k for k, d in PAGE_DIRS.items() if d == directory), None)
    if kind is None or Ref(kind, name) not in catalog:
        return None
    return _entity_page(w, catalog.get(Ref(kind, name)))


# ==================================================================================== overview
#: more boxes than this make an unreadable picture; larger graphs are summarised
MAX_DIAGRAM_NODES = 250


def _drawable(catalog: Catalog, picture: Graph) -> Graph:
    """The picture itself if it is small enough to read, else its providers and data centers
    (each service's page still draws its own part)."""
    if len(picture.nodes) <= MAX_DIAGRAM_NODES:
        return picture
    keep = {n for n in picture.nodes if n.kind in ("provider", "datacenter")}
    edges = tuple(e for e in picture.edges if e[0] in keep and e[2] in keep)
    return Graph(tuple(n for n in picture.nodes if n in keep), edges, picture.focus)


#: services listed per page of the overview (a static site lists them all)
SERVICES_PER_PAGE = 100


def _overview(w: _Writer, full: Graph) -> Page:
    """The static site's overview: the team, providers, data centers, the diagram, then every
    service described, DNS and on call."""
    c = w.catalog
    page = Page("index", "Infrastructure overview")
    page.add(
        Heading(1, "Infrastructure overview"),
        Para(
            [
                Text(
                    "Every service, where it runs, and who to contact about it. This page is "
                    "generated from the catalog: to change it, change the catalog."
                )
            ]
        ),
    )
    page.add(*_team_section(w))
    page.add(Heading(2, "Providers", "providers"), _providers_table(w))
    page.add(Heading(2, "Data centers", "datacenters"), _datacenters_table(w))
    page.add(*_dependencies_section(w, full))
    services = sorted(c.of_kind("service"), key=lambda e: (e.title.lower(), e.name))
    page.add(Heading(2, "Services", "services"), _services_table(w, services))
    for service in services:
        page.add(*_service_summary(w, service))
    page.add(*_dns_section(w))
    page.add(*_oncall_section(w))
    return page


#: rows a table on the server's home shows; a longer one is whole on a page of its own
HOME_SECTION_ROWS = 25
#: a diagram with more boxes than this is linked from the server's home, not drawn on it
HOME_DIAGRAM_NODES = 120
#: services named per zone on the server's pages; the zone's impact page lists them all
ZONE_SERVICES_SHOWN = 8
#: the server's pages of one whole section each: page id -> (title, noun)
SECTION_PAGES = {
    "providers": ("Providers", "providers"),
    "datacenters": ("Data centers", "data centers"),
    "dns": ("DNS zones", "zones"),
}


def _overview_sections(w: _Writer, full: Graph) -> Page:
    """The server's home below its live part (the state and the services, which the server
    writes per request): providers, data centers, the team, the diagram, DNS and on call.
    Kept light at any size: a long table shows its first rows and links to its own page, a
    large diagram is linked, not drawn."""
    page = Page("index", "Infrastructure overview")
    page.add(Heading(2, "Providers", "providers"), *_capped(_providers_table(w), "providers"))
    page.add(
        Heading(2, "Data centers", "datacenters"), *_capped(_datacenters_table(w), "datacenters")
    )
    page.add(*_team_section(w))
    if len(full.nodes) <= HOME_DIAGRAM_NODES:
        page.add(*_dependencies_section(w, full))
    else:
        page.add(
            Heading(2, "Dependencies", "dependencies"),
            Para(
                [
                    Text(f"The diagram has {len(full.nodes)} boxes, too many for this page: "),
                    Link("open it on its own page", page="dependencies"),
                    Text("."),
                ]
            ),
        )
    dns = _dns_section(w)
    if dns:
        heading, table = dns
        assert isinstance(table, Table)
        page.add(heading, *_capped(table, "dns"))
    page.add(*_oncall_section(w))
    return page


def _capped(table: Table, section: str) -> list[Block]:
    """``table``, or its first rows and a link to the section's own page."""
    if len(table.rows) <= HOME_SECTION_ROWS:
        return [table]
    _, noun = SECTION_PAGES[section]
    return [
        Table(table.headers, table.rows[:HOME_SECTION_ROWS]),
        Para(
            [
                Text(f"The first {HOME_SECTION_ROWS} of {len(table.rows)} {noun}: "),
                Link(f"all {len(table.rows)} {noun}", page=section),
                Text("."),
            ]
        ),
    ]


def _section_page(w: _Writer, section: str) -> Page:
    """One of the home's long sections, whole (the server's pages only)."""
    title, _ = SECTION_PAGES[section]
    page = Page(section, title).add(Heading(1, title))
    if section == "providers":
        page.add(_providers_table(w))
    elif section == "datacenters":
        page.add(_datacenters_table(w))
    else:
        page.add(*_dns_section(w)[1:])
    return page


def _team_section(w: _Writer) -> list[Block]:
    c = w.catalog
    fallback = fallback_team(c)
    if fallback is None:
        return []
    team = c.get(fallback)
    blocks: list[Block] = [Heading(2, team.title, "team")]
    if team.metadata.description:
        blocks.append(Para([Text(team.metadata.description)]))
    members = []
    for ref in c.related(team.ref, "hasMember"):
        person = c.typed(ref, PersonSpec)
        note = [Text(" — " + person.metadata.description)] if person.metadata.description else []
        kind = [Text(" (staff)")] if person.spec.staff else []
        members.append([w.link(ref), *kind, *note])
    if members:
        blocks += [Para([Text("Members:")]), Bullets(members)]
    blocks.append(Heading(3, "How to reach the team", "contact"))
    blocks.append(Bullets([_channel(ch.type, ch.address, ch.network) for ch in channels_of(team)]))
    return blocks


def _dependencies_section(w: _Writer, full: Graph) -> list[Block]:
    c = w.catalog
    return [
        Heading(2, "Dependencies", "dependencies"),
        Para(
            [
                Text("Arrows point from what needs to what is needed. "),
                Link("Open the diagram on its own page", page="dependencies"),
                Text("."),
            ]
        ),
        Diagram(
            "dependencies",
            "Dependency diagram: services, hosts, data centers, providers",
            lambda href: to_svg(c, full, href, w.live),
        ),
    ]


def service_cells(catalog: Catalog, service: Entity[ServiceSpec]) -> tuple[Cell, Cell, Cell]:
    """A service's owners, where it runs and its CDN, as the overview's table shows them."""
    w = _Writer(catalog)
    return w.owners(service), w.hosting(service), w.links(catalog.related(service.ref, "frontedBy"))


def _providers_table(w: _Writer) -> Table:
    rows: list[list[Cell]] = []
    for provider in w.catalog.of_kind("provider"):
        affected = impact(w.catalog, provider.ref).affected
        services = [a for a in affected if a.ref.kind == "service"]  # as `infradex impact` says
        used_for = provider.metadata.description or ""
        zones = w.catalog.related(provider.ref, "registrarOf")
        if zones:  # a registrar needs no service to run, so say what it registers
            registers = "Registrar of " + ", ".join(w.catalog.title(z) for z in zones) + "."
            used_for = f"{used_for} {registers}".strip()
        rows.append(
            [
                [w.link(provider.ref)],
                [Text(provider.spec.type + (" (donated)" if provider.spec.donated else ""))],
                [Text(used_for)],
                [Text(str(len(services)))],
            ]
        )
    return Table(["Provider", "Type", "What it is used for", "Services that need it"], rows)


def _datacenters_table(w: _Writer) -> Table:
    rows: list[list[Cell]] = []
    for dc in w.catalog.of_kind("datacenter"):
        hosts = w.catalog.related(dc.ref, "contains")
        rows.append(
            [
                [Link(dc.name, page=page_id(dc.ref))],
                w.links(w.catalog.related(dc.ref, "providedBy")),
                [Text(dc.spec.region or "—")],
                [Text(str(len(hosts)))],
            ]
        )
    return Table(["Name", "Provider", "Provider's region", "Hosts"], rows)


def pager(number: int, pages: int) -> Para:
    """``Page 2 of 52 · previous · next``, linking to ``?page=N#services``."""
    parts: list[Inline] = [Text(f"Page {number} of {pages}")]
    if number > 1:
        parts += [Text(" · "), Link("previous", url=f"?page={number - 1}#services")]
    if number < pages:
        parts += [Text(" · "), Link("next", url=f"?page={number + 1}#services")]
    return Para(parts)


def _services_table(w: _Writer, services: Sequence[Entity[ServiceSpec]]) -> Table:
    rows: list[list[Cell]] = []
    for service in services:
        owners, hosting, cdn = service_cells(w.catalog, service)
        rows.append([[w.link(service.ref)], hosting, cdn, owners])
    return Table(["Service", "Runs on", "CDN", "Owners"], rows)


def _service_summary(w: _Writer, service: Entity[ServiceSpec]) -> list[Block]:
    spec = service.spec
    blocks: list[Block] = [Heading(3, service.title, f"service-{service.name}")]
    if service.metadata.description:
        blocks.append(Para([Text(service.metadata.description)]))
    items: list[list[Inline]] = []
    if spec.domains:
        items.append(
            [Strong("Domains: "), *_join([Link(d, url=f"https://{d}") for d in spec.domains])]
        )
    items.append([Strong("Hosting: "), *w.hosting(service)])
    fronts = w.catalog.related(service.ref, "frontedBy")
    if fronts:
        items.append([Strong("CDN: "), *w.links(fronts)])
    if spec.software:
        items.append([Strong("Software: "), Text(spec.software)])
    items.append([Strong("Owners: "), *w.owners(service)])
    if spec.contacts:
        items.append([Strong("Contacts: "), *w.channels(service)])
    items.extend(_service_links(service))
    items.append([Link("Details, who to contact and what it affects", page=page_id(service.ref))])
    blocks.append(Bullets(items))
    return blocks


def _service_links(service: Entity[ServiceSpec]) -> list[list[Inline]]:
    spec = service.spec
    items: list[list[Inline]] = []
    if spec.source:
        items.append([Strong("Source: "), Link(spec.source, url=spec.source)])
    if spec.issue_tracker:
        items.append([Strong("Issues: "), Link(spec.issue_tracker, url=spec.issue_tracker)])
    if spec.config_management:
        cm = spec.config_management
        repo: list[Inline] = [Text(" — "), Link(cm.repo, url=cm.repo)] if cm.repo else []
        items.append([Strong("Configured with: "), Text(cm.tool), *repo])
    for link in service.metadata.links:
        items.append([Link(link.title or link.url, url=link.url)])
    return items


def _join(inlines: list[Inline], separator: str = ", ") -> list[Inline]:
    out: list[Inline] = []
    for inline in inlines:
        if out:
            out.append(Text(separator))
        out.append(inline)
    return out


def _dns_section(w: _Writer) -> list[Block]:
    zones = w.catalog.of_kind("zone")
    if not zones:
        return []
    rows: list[list[Cell]] = []
    for zone in zones:
        services = w.catalog.related(zone.ref, "servesZone")
        named: Cell = w.links(services)
        if w.live and len(services) > ZONE_SERVICES_SHOWN:
            # the server's impact page names every service that needs the zone
            more = len(services) - ZONE_SERVICES_SHOWN
            target = "./impact?target=" + quote(str(zone.ref), safe=":")
            named = [
                *w.links(services[:ZONE_SERVICES_SHOWN]),
                Text(" and "),
                Link(f"{more} more", url=target),
            ]
        rows.append(
            [
                [Text(zone.name)],
                [w.link(r) for r in w.catalog.related(zone.ref, "hostedOn")] or [Text("—")],
                [w.link(r) for r in w.catalog.related(zone.ref, "registeredWith")] or [Text("—")],
                named,
            ]
        )
    return [Heading(2, "DNS", "dns"), Table(["Zone", "DNS host", "Registrar", "Services"], rows)]


def _oncall_section(w: _Writer) -> list[Block]:
    c = w.catalog
    schedules, policies = c.of_kind("schedule"), c.of_kind("escalationpolicy")
    if not schedules and not policies:
        return []
    blocks: list[Block] = [Heading(2, "On call", "oncall")]
    for policy in policies:
        blocks.append(Heading(3, f"Escalation: {policy.title}", f"escalation-{policy.name}"))
        if policy.metadata.description:
            blocks.append(Para([Text(policy.metadata.description)]))
        steps = []
        for step in policy.spec.steps:
            targets = [_find(c, t, ("schedule", "person", "team")) for t in step.notify]
            steps.append([Strong(f"after {step.after}: "), *w.links(t for t in targets if t)])
        if policy.spec.repeat:
            steps.append([Text(f"then repeat {policy.spec.repeat} more time(s)")])
        blocks.append(Bullets(steps))
    for schedule in schedules:
        blocks.append(Heading(3, f"Schedule: {schedule.title}", f"schedule-{schedule.name}"))
        rows: list[list[Cell]] = []
        for layer in schedule.spec.layers:
            members = [_find(c, m, ("person",)) for m in layer.members]
            hours = (
                "; ".join(f"{','.join(r.days)} {r.start}–{r.end}" for r in layer.restrictions)
                or "all week"
            )
            rows.append(
                [
                    [Text(layer.name)],
                    w.links(m for m in members if m),
                    [Text(f"{layer.rotation}, hand-off {layer.handoff}")],
                    [Text(hours)],
                ]
            )
        blocks.append(Para([Text(f"Time zone {schedule.spec.timezone}; later layers win.")]))
        blocks.append(Table(["Layer", "Members (in turn)", "Rotation", "Covers"], rows))
    return blocks


# ==================================================================================== pages
def _header(page: Page, entity: Entity, kind_label: str) -> None:
    page.add(Heading(1, entity.title))
    subtitle: list[Inline] = [Text(f"{kind_label} "), Strong(str(entity.ref))]
    if entity.metadata.tags:
        subtitle.append(Text(" · tags: " + ", ".join(entity.metadata.tags)))
    subtitle.append(Text(f" · defined in {entity.file}:{entity.line}"))
    page.add(Para(subtitle))
    if entity.metadata.description:
        page.add(Para([Text(entity.metadata.description)]))


def who_rows(catalog: Catalog, ref: Ref) -> list[tuple[Ref, Cell, str]]:
    """Whom to contact about ``ref``, in the order to try them: (who, how to reach, why)."""
    rows: list[tuple[Ref, Cell, str]] = []
    for entry in who(catalog, ref).contacts:
        channels: list[Inline] = []
        for channel in entry.channels:
            if channel is not entry.channels[0]:
                channels.append(Text(", "))
            channels.extend(_channel(channel.type, channel.address, channel.network))
        rows.append((entry.ref, channels or [Text("—")], entry.reason))
    return rows


def _who_table(w: _Writer, ref: Ref) -> list[Block]:
    rows: list[list[Cell]] = [
        [[Text(str(number))], [w.link(who_ref)], channels, [Text(reason)]]
        for number, (who_ref, channels, reason) in enumerate(who_rows(w.catalog, ref), 1)
    ]
    return [Heading(2, "Who to contact", "who"), Table(["#", "Who", "How to reach", "Why"], rows)]


def impact_section(
    catalog: Catalog, ref: Ref, health: dict[str, str] | None = None, live: bool = False
) -> list[Block]:
    """What breaks if ``ref`` fails: down or degraded, and the path that carries it. With
    ``health`` (entity ref → state, the server's), each line shows that entity's health now;
    ``live`` (a page the server caches): each line has a slot for it, filled when served."""
    w = _Writer(catalog)
    result = impact(catalog, ref)
    heading = Heading(2, f"What breaks if {catalog.title(ref)} fails", "impact")
    notes = [Para([Text(note)]) for note in result.notes]
    if not result.affected:
        return [heading, Para([Text("Nothing in the catalog needs it.")]), *notes]
    rows: list[list[Cell]] = []
    for item in result.affected:
        path: list[Inline] = _join([w.link(r) for r in item.path], " → ")
        row: list[Cell] = [[w.link(item.ref)], [Strong(item.effect)], path]
        if health is not None:
            state = health.get(str(item.ref))
            row.insert(0, [State(state)] if state else [Text("no checks")])
        elif live:
            row.insert(0, [LiveHealth(str(item.ref))])
        rows.append(row)
    down = sum(a.effect == "down" for a in result.affected)
    headers = ["Affected", "Effect", "Because"]
    return [
        heading,
        Para([Text(f"{down} down, {len(result.affected) - down} degraded.")]),
        Table(["Health now", *headers] if health is not None or live else headers, rows),
        *notes,
    ]


def _focus_diagram(w: _Writer, ref: Ref) -> list[Block]:
    picture = graph(w.catalog, ref)
    if len(picture.nodes) < 2:
        return []
    if len(picture.nodes) > MAX_DIAGRAM_NODES:
        return [
            Heading(2, "Dependencies", "dependencies"),
            Para(
                [
                    Text(
                        f"{len(picture.nodes)} entities are connected to "
                        f"{w.catalog.title(ref)}: too many to draw. The table below lists "
                        "what it affects."
                    )
                ]
            ),
        ]
    return [
        Heading(2, "Dependencies", "dependencies"),
        Diagram(
            f"{ref.kind}-{ref.name}",
            f"What {w.catalog.title(ref)} needs and what needs it",
            lambda href: to_svg(w.catalog, picture, href, w.live),
        ),
    ]


def _service(w: _Writer, service: Entity[ServiceSpec]) -> Page:
    c, spec = w.catalog, service.spec
    page = Page(page_id(service.ref) or "", service.title)
    _header(page, service, "Service")
    facts: list[list[Inline]] = [[Strong("Lifecycle: "), Text(spec.lifecycle)]]
    if spec.domains:
        facts.append(
            [Strong("Domains: "), *_join([Link(d, url=f"https://{d}") for d in spec.domains])]
        )
    facts.append([Strong("Runs on: "), *w.hosting(service)])
    fronts = c.related(service.ref, "frontedBy")
    if fronts:
        facts.append([Strong("Behind: "), *w.links(fronts)])
    needs = c.related(service.ref, "dependsOn")
    if needs:
        soft = soft_dependencies(service)
        listed: list[Inline] = []
        for need in needs:
            listed += [Text(", ")] if listed else []
            listed.append(w.link(need))
            if need in soft:
                listed.append(Text(" (degraded without it)"))
        facts.append([Strong("Depends on: "), *listed])
    needed = c.related(service.ref, "dependencyOf")
    if needed:
        facts.append([Strong("Needed by: "), *w.links(needed)])
    if spec.software:
        facts.append([Strong("Software: "), Text(spec.software)])
    facts.append([Strong("Owners: "), *w.owners(service)])
    facts.extend(_service_links(service))
    page.add(Bullets(facts))
    page.add(*_who_table(w, service.ref))
    page.add(*_dns_rows(w, service))
    page.add(*_checks(w, service))
    page.add(*_focus_diagram(w, service.ref))
    page.add(*impact_section(c, service.ref, live=w.live))
    return page


def _dns_rows(w: _Writer, service: Entity[ServiceSpec]) -> list[Block]:
    rows: list[list[Cell]] = []
    for domain in service.spec.domains:
        domain = domain.lower().rstrip(".")
        zone = next(
            (
                z
                for z in w.catalog.related(service.ref, "zoneOf")
                if domain == z.name or domain.endswith("." + z.name)
            ),
            None,
        )
        records = w.catalog.zone_records.get(zone.name, {}) if zone else {}
        found = records.get(record_name(zone.name, domain)) if zone else None
        for record in found if isinstance(found, list) else [found] if found else []:
            values = record.get("values", [record.get("value")])
            shown = ", ".join(_record_value(v) for v in values)
            rows.append(
                [
                    [Text(domain)],
                    [Text(zone.name if zone else "—")],
                    [Text(str(record.get("type", "")))],
                    [Text(shown)],
                ]
            )
        if not found:
            rows.append(
                [
                    [Text(domain)],
                    [Text(zone.name if zone else "no zone")],
                    [Text("—")],
                    [Text("no record in the catalog")],
                ]
            )
    if not rows:
        return []
    return [Heading(2, "Domains and DNS", "dns"), Table(["Name", "Zone", "Type", "Value"], rows)]


def _record_value(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    return str(value)


def _checks(w: _Writer, entity: Entity) -> list[Block]:
    checks = spec_checks(entity)
    if not checks:
        return []
    rows: list[list[Cell]] = []
    for check in checks:
        shown = redact_url(check.url)  # published pages: never the URL's credentials
        rows.append(
            [
                [Text(check.name)],
                [Link(shown, url=shown) if shown.startswith("http") else Text(shown)],
                [Text(f"every {check.interval}, timeout {check.timeout}")],
                [Text("; ".join(conditions_or_default(check.url, check.conditions)))],
            ]
        )
    table = Table(["Check", "Target", "Schedule", "Conditions"], rows)
    if w.live:  # the server shows their state above (Health): no need to send readers there
        return [Heading(2, "Checks", "checks"), table]
    return [
        Heading(2, "Checks", "checks"),
        Para(
            [
                Text(
                    "Declared in the catalog. `infradex serve --monitor` (or `infradex "
                    "monitor`) runs them; the server's page for this entity shows their state, "
                    "uptime and latency."
                )
            ]
        ),
        table,
    ]


def _provider(w: _Writer, provider: Entity[ProviderSpec]) -> Page:
    c, spec = w.catalog, provider.spec
    page = Page(page_id(provider.ref) or "", provider.title)
    _header(page, provider, "Provider")
    facts: list[list[Inline]] = [[Strong("Type: "), Text(spec.type)]]
    facts.append([Strong("Donated: "), Text("yes" if spec.donated else "no")])
    facts.append([Strong("Status: "), Text(spec.status)])
    if spec.website:
        facts.append([Strong("Website: "), Link(spec.website, url=spec.website)])
    if spec.contacts:
        facts.append([Strong("Contacts: "), *w.channels(provider)])
    for label, relation in (
        ("Data centers: ", "provides"),
        ("Hosts directly: ", "hosts"),
        ("In front of: ", "fronts"),
        ("Registrar for: ", "registrarOf"),
    ):
        refs = c.related(provider.ref, relation)
        if refs:
            facts.append([Strong(label), *w.links(refs)])
    page.add(Bullets(facts), *_checks(w, provider), *_focus_diagram(w, provider.ref))
    page.add(*impact_section(c, provider.ref, live=w.live))
    return page


def _datacenter(w: _Writer, dc: Entity[DatacenterSpec]) -> Page:
    page = Page(page_id(dc.ref) or "", dc.title)
    _header(page, dc, "Data center")
    page.add(
        Bullets(
            [
                [Strong("Provider: "), *w.links(w.catalog.related(dc.ref, "providedBy"))],
                [Strong("Provider's region: "), Text(dc.spec.region or "—")],
                [Strong("Hosts: "), *w.links(w.catalog.related(dc.ref, "contains"))],
            ]
        )
    )
    page.add(*impact_section(w.catalog, dc.ref, live=w.live))
    return page


def _host(w: _Writer, host: Entity[HostSpec]) -> Page:
    spec = host.spec
    page = Page(page_id(host.ref) or "", host.title)
    _header(page, host, "Host")
    page.add(
        Bullets(
            [
                [
                    Strong("Data center: "),
                    *w.links(w.catalog.related(host.ref, "locatedIn")),
                    Text(f" ({w.location(host.ref)})"),
                ],
                [Strong("Role: "), Text(spec.role or "—")],
                [Strong("Operating system: "), Text(spec.os or "—")],
                [Strong("Managed by: "), Text(spec.managed_by or "—")],
                [Strong("Addresses: "), Text(", ".join(spec.addresses) or "—")],
                [Strong("Runs: "), *w.links(w.catalog.related(host.ref, "hosts"))],
            ]
        )
    )
    page.add(*_who_table(w, host.ref), *impact_section(w.catalog, host.ref, live=w.live))
    return page


def _person(w: _Writer, person: Entity[PersonSpec]) -> Page:
    c, spec = w.catalog, person.spec
    page = Page(page_id(person.ref) or "", person.title)
    _header(page, person, "Person")
    page.add(
        Bullets(
            [
                [
                    Strong("Role: "),
                    Text("staff" if spec.staff else "volunteer"),
                    Text(" (emeritus)" if spec.status == "emeritus" else ""),
                ],
                [Strong("Time zone: "), Text(spec.timezone or "not given")],
                [Strong("Reach: "), *w.channels(person)],
                [Strong("Teams: "), *w.links(c.related(person.ref, "memberOf"))],
                [Strong("Owns: "), *w.links(c.related(person.ref, "ownerOf"), "nothing directly")],
                [Strong("On call in: "), *_schedule_names(c, c.related(person.ref, "inRotation"))],
            ]
        )
    )
    return page


def _schedule_names(catalog: Catalog, refs: list[Ref]) -> list[Inline]:
    if not refs:
        return [Text("no schedule")]
    return _join([Link(catalog.title(r), page="index", anchor=f"schedule-{r.name}") for r in refs])


def _team(w: _Writer, team: Entity[TeamSpec]) -> Page:
    c = w.catalog
    page = Page(page_id(team.ref) or "", team.title)
    _header(page, team, "Team")
    page.add(
        Bullets(
            [
                [Strong("Reach: "), *w.channels(team)],
                [Strong("Members: "), *w.links(c.related(team.ref, "hasMember"), "none listed")],
                [Strong("Owns: "), *w.links(c.related(team.ref, "ownerOf"), "nothing directly")],
            ]
        )
    )
    return page


def _ownership(w: _Writer, problems: Sequence[Problem]) -> Page:
    page = Page("ownership", "Ownership report")
    page.add(
        Heading(1, "Ownership report"),
        Para(
            [
                Text(
                    "Who stands behind each service. Flags: unowned; no-people (owned only by "
                    "teams that list no members); single-owner; all-volunteers; one-timezone; "
                    "stale (an owner is emeritus, or an owning team has neither members nor "
                    "contacts)."
                )
            ]
        ),
    )
    rows: list[list[Cell]] = []
    for row in sorted(ownership_report(w.catalog), key=lambda r: (r.title.lower(), r.service)):
        rows.append(
            [
                [w.link(row.service)],
                [Text(row.lifecycle)],
                w.links(row.owners),
                [Text(str(len(row.people)))],
                [Text(str(row.staff))],
                [Text(", ".join(row.timezones) or "—")],
                [Strong(", ".join(row.flags))] if row.flags else [Text("ok")],
            ]
        )
    page.add(
        Table(["Service", "Lifecycle", "Owners", "People", "Staff", "Time zones", "Flags"], rows)
    )
    warnings = [p for p in problems if p.severity == "warning"]
    page.add(Heading(2, f"Catalog warnings ({len(warnings)})", "warnings"))
    if warnings:
        page.add(
            Table(
                ["Where", "Entity", "Warning", "What to do"],
                [
                    [[Text(p.location)], [Text(p.entity or "")], [Text(p.message)], [Text(p.hint)]]
                    for p in warnings
                ],
            )
        )
    else:
        page.add(Para([Text("None.")]))
    return page


def _diagram_page(w: _Writer, full: Graph) -> Page:
    page = Page("dependencies", "Dependency diagram")
    page.add(
        Heading(1, "Dependency diagram"),
        Para(
            [
                Text(
                    "Providers on the left, then data centers, hosts and services. An arrow "
                    "points from what needs to what is needed: solid for hosting, dashed for a "
                    "CDN in front, blue for dependsOn. Each page of a service, provider or data "
                    "center shows its own part."
                )
            ]
        ),
        Diagram(
            "dependencies",
            "Dependency diagram",
            lambda href: to_svg(w.catalog, full, href, w.live),
        ),
    )
    return page


def _entity_page(w: _Writer, entity: Entity) -> Page:
    """The page of an entity whose kind has one (:data:`PAGE_DIRS`)."""
    if has_spec(entity, ServiceSpec):
        return _service(w, entity)
    if has_spec(entity, ProviderSpec):
        return _provider(w, entity)
    if has_spec(entity, DatacenterSpec):
        return _datacenter(w, entity)
    if has_spec(entity, HostSpec):
        return _host(w, entity)
    if has_spec(entity, PersonSpec):
        return _person(w, entity)
    if has_spec(entity, TeamSpec):
        return _team(w, entity)
    raise ValueError(f"{entity.ref}: a {entity.kind} has no page of its own")
