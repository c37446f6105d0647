"""Catalog commands: validate, list, show, who, impact, ownership, graph, catalog schema/export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, assert_never

import typer
from rich.markup import escape
from rich.table import Table

from infradex.catalog import KINDS, Catalog, Entity, Ref
from infradex.catalog.models import (
    DatacenterSpec,
    EscalationPolicySpec,
    HostSpec,
    PersonSpec,
    ProviderSpec,
    ScheduleSpec,
    ServiceSpec,
    TeamSpec,
    ZoneSpec,
)
from infradex.catalog.queries import graph, impact, ownership_report, who
from infradex.catalog.refs import canonical_kind
from infradex.catalog.secrets import denied_targets
from infradex.cli.app import app, load_catalog, load_checked, settings_of
from infradex.cli.output import Format, console, print_json
from infradex.errors import UsageError

catalog_app = typer.Typer(help="The catalog as data: its JSON Schema and a JSON export.")
app.add_typer(catalog_app, name="catalog")

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text or json")]


# ------------------------------------------------------------------------------ validate
@app.command()
def validate(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(metavar="[PATH]", help="Catalog directory or file.")
    ] = None,
    strict: Annotated[bool, typer.Option(help="Warnings fail too (exit 1).")] = False,
    fmt: FormatOption = Format.text,
) -> None:
    """Check the catalog and list every problem (exit 0 clean, 1 errors, 2 usage)."""
    loaded = load_checked(ctx, path)
    # the monitor's address policy comes from the settings; the catalog is given it
    reach = (
        denied_targets(loaded.catalog, settings_of(ctx).monitor_policy) if loaded.catalog else []
    )
    if fmt is Format.json:
        print_json(
            {
                "errors": [p.to_dict() for p in loaded.errors],
                "warnings": [p.to_dict() for p in [*loaded.warnings, *reach]],
            }
        )
    else:
        for problem in [*loaded.problems, *reach]:
            style = "red" if problem.severity == "error" else "yellow"
            console.print(str(problem), style=style, markup=False)
        errors, warnings = len(loaded.errors), len(loaded.warnings) + len(reach)
        entities = len(loaded.catalog) if loaded.catalog else 0
        summary = f"{errors} error(s), {warnings} warning(s)"
        if errors:
            console.print(f"✗ {summary}", style="bold red")
        else:
            console.print(f"✓ {entities} entities valid; {summary}", style="bold green")
    if loaded.errors or (strict and (loaded.warnings or reach)):
        raise typer.Exit(1)


# ------------------------------------------------------------------------------ list / show
#: the columns ``infradex list KIND`` shows after name and title (values: :func:`_cells`)
_HEADINGS: dict[str, tuple[str, ...]] = {
    "provider": ("type", "donated", "used by"),
    "datacenter": ("provider", "region", "hosts"),
    "host": ("datacenter", "role", "os", "managed by"),
    "person": ("staff", "timezone", "teams"),
    "team": ("members", "contacts"),
    "service": ("lifecycle", "domains", "hosted on", "owners"),
    "zone": ("dns", "registrar", "services"),
    "schedule": ("timezone", "layers"),
    "escalationpolicy": ("steps", "repeat"),
}


def _cells(e: Entity, c: Catalog) -> tuple[str | int | None, ...]:
    """The values under :data:`_HEADINGS` for the entity's kind."""
    spec = e.spec
    if isinstance(spec, ProviderSpec):
        return spec.type, "yes" if spec.donated else "", _count(c, e, "fronts", "hosts", "provides")
    if isinstance(spec, DatacenterSpec):
        return spec.provider, spec.region, _count(c, e, "contains")
    if isinstance(spec, HostSpec):
        return spec.datacenter, spec.role, spec.os, spec.managed_by
    if isinstance(spec, PersonSpec):
        staff = "staff" if spec.staff else "volunteer"
        return staff, spec.timezone, _names(c.related(e.ref, "memberOf"))
    if isinstance(spec, TeamSpec):
        members = _names(c.related(e.ref, "hasMember"))
        return members, ", ".join(x.address for x in spec.contacts)
    if isinstance(spec, ServiceSpec):
        hosted_on, owners = c.related(e.ref, "hostedOn"), c.related(e.ref, "ownedBy")
        return spec.lifecycle, ", ".join(spec.domains), _names(hosted_on), _names(owners)
    if isinstance(spec, ZoneSpec):
        return spec.provider, spec.registrar, _count(c, e, "servesZone")
    if isinstance(spec, ScheduleSpec):
        return spec.timezone, ", ".join(layer.name for layer in spec.layers)
    if isinstance(spec, EscalationPolicySpec):
        return len(spec.steps), spec.repeat
    assert_never(spec)


def _names(refs: list[Ref]) -> str:
    return ", ".join(r.name for r in refs)


def _count(catalog: Catalog, entity: Entity, *relations: str) -> int:
    return sum(len(catalog.related(entity.ref, r)) for r in relations)


def _kind(text: str) -> str:
    """A kind as typed: any case, singular or plural (``services``, ``escalationpolicies``)."""
    candidates = [text, text.removesuffix("s"), text.removesuffix("es"), text[:-3] + "y"]
    kind = next((k for k in map(canonical_kind, candidates) if k), None)
    if kind is None:
        raise UsageError(f"{text!r} is not a kind; use one of " + ", ".join(KINDS))
    return kind


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND",
            help="provider, datacenter, host, person, team, "
            "service, zone, schedule or escalationpolicy",
        ),
    ],
    fmt: FormatOption = Format.text,
) -> None:
    """List the entities of one kind."""
    key = _kind(kind)
    catalog = load_catalog(ctx)
    entities = catalog.of_kind(key)
    if fmt is Format.json:
        print_json([catalog.entity_json(e, relations=False) for e in entities])
        return
    table = Table(title=f"{KINDS[key]} ({len(entities)})", title_justify="left")
    # rich reads markup in every cell: catalog text goes in escaped
    table.add_column("name", style="bold")
    table.add_column("title")
    for heading in _HEADINGS[key]:
        table.add_column(heading)
    for entity in entities:
        cells = ["" if value is None else escape(str(value)) for value in _cells(entity, catalog)]
        table.add_row(entity.name, escape(entity.metadata.title or ""), *cells)
    console.print(table)


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="THING", help="kind:name, a domain, or a title.")],
    fmt: FormatOption = Format.text,
) -> None:
    """Show one entity: its document and its relations both ways."""
    catalog = load_catalog(ctx)
    entity = catalog.get(catalog.resolve(ref))
    if fmt is Format.json:
        print_json(catalog.entity_json(entity))
        return
    import yaml

    console.print(
        f"[bold]{entity.ref}[/bold]  {escape(entity.title)}  "
        f"[dim]{escape(str(entity.file))}:{entity.line}[/dim]"
    )
    console.print(
        yaml.safe_dump(entity.document(), sort_keys=False, allow_unicode=True).rstrip(),
        markup=False,
    )
    relations = catalog.relations_of(entity.ref)
    if relations:
        table = Table(title="relations", title_justify="left", show_header=False)
        table.add_column("relation", style="bold")
        table.add_column("entities")
        for name, refs in relations.items():
            table.add_row(name, escape(", ".join(f"{r} ({catalog.title(r)})" for r in refs)))
        console.print(table)


# ------------------------------------------------------------------------------ queries
@app.command("who")
def who_(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="THING",
            help="kind:name, a domain such as docs.python.org, a URL, or a host's name.",
        ),
    ],
    fmt: FormatOption = Format.text,
) -> None:
    """Whom to contact about a service, domain or anything else, in the order to try."""
    catalog = load_catalog(ctx)
    answer = who(catalog, catalog.resolve(target))
    if fmt is Format.json:
        print_json(answer.to_dict())
        return
    table = Table(
        title=f"Who to contact about {escape(catalog.title(answer.target))} ({answer.target})",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("who", style="bold")
    table.add_column("how to reach")
    table.add_column("why")
    for number, entry in enumerate(answer.contacts, 1):
        channels = (
            escape("\n".join(str(c) for c in entry.channels)) or "[dim]no contact method[/dim]"
        )
        table.add_row(str(number), escape(entry.name), channels, escape(entry.reason))
    console.print(table)


@app.command("impact")
def impact_(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="THING", help="What fails: kind:name, a domain or a title.")
    ],
    fmt: FormatOption = Format.text,
) -> None:
    """What breaks, transitively, if this fails: down or degraded, and why."""
    catalog = load_catalog(ctx)
    result = impact(catalog, catalog.resolve(ref))
    if fmt is Format.json:
        print_json(result.to_dict(catalog))
        return
    down = sum(a.effect == "down" for a in result.affected)
    table = Table(
        title=f"If {escape(catalog.title(result.root))} ({result.root}) fails: {down} down, "
        f"{len(result.affected) - down} degraded",
        title_justify="left",
    )
    table.add_column("effect")
    table.add_column("entity", style="bold")
    table.add_column("path")
    for item in result.affected:
        style = "red" if item.effect == "down" else "yellow"
        path = escape(" → ".join(catalog.title(r) for r in item.path))
        table.add_row(
            f"[{style}]{item.effect}[/{style}]",
            f"{escape(catalog.title(item.ref))}\n[dim]{item.ref}[/dim]",
            path,
        )
    if not result.affected:
        console.print(f"Nothing in the catalog needs {result.root}.")
    else:
        console.print(table)
    for note in result.notes:
        console.print(f"Note: {note}", markup=False, highlight=False)


@app.command()
def ownership(ctx: typer.Context, fmt: FormatOption = Format.text) -> None:
    """Who stands behind each service: unowned, bus factor, all volunteers, stale owners."""
    catalog = load_catalog(ctx)
    rows = ownership_report(catalog)
    if fmt is Format.json:
        print_json([row.to_dict() for row in rows])
        return
    table = Table(title="Ownership", title_justify="left")
    for heading in ("service", "lifecycle", "owners", "people", "staff", "time zones", "flags"):
        table.add_column(heading)
    for row in rows:
        flags = ", ".join(row.flags)
        table.add_row(
            escape(row.title),
            row.lifecycle,
            ", ".join(r.name for r in row.owners) or "—",
            str(len(row.people)),
            str(row.staff),
            ", ".join(row.timezones) or "—",
            f"[yellow]{flags}[/yellow]" if flags else "[green]ok[/green]",
        )
    console.print(table)


@app.command("graph")
def graph_(
    ctx: typer.Context,
    focus: Annotated[
        str | None, typer.Option(help="Only what this needs and what needs it.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="mermaid, dot, svg or json")
    ] = "mermaid",
) -> None:
    """The dependency graph as Mermaid, Graphviz DOT, SVG or JSON."""
    from infradex.docs.diagram import to_dot, to_mermaid, to_svg

    catalog = load_catalog(ctx)
    picture = graph(catalog, catalog.resolve(focus) if focus else None)
    renderers = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}
    if fmt == "json":
        print_json(picture.to_dict(catalog))
    elif fmt in renderers:
        typer.echo(renderers[fmt](catalog, picture), nl=False)
    else:
        raise UsageError(f"unknown graph format {fmt!r}; use mermaid, dot, svg or json")


# ------------------------------------------------------------------------------ catalog ...
@catalog_app.command()
def schema(
    fmt: Annotated[str, typer.Option("--format", "-f", help="json")] = "json",
) -> None:
    """The JSON Schema of a catalog document (for editors and CI)."""
    from infradex.catalog.schema import json_schema

    if fmt != "json":
        raise UsageError(f"unknown schema format {fmt!r}; use json")
    print_json(json_schema())


@catalog_app.command()
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="json")] = "json",
) -> None:
    """The whole catalog as JSON: every entity with its relations."""
    if fmt != "json":
        raise UsageError(f"unknown export format {fmt!r}; use json")
    catalog = load_catalog(ctx)
    print_json({"entities": [catalog.entity_json(e) for e in catalog.entities.values()]})
