"""``infradex dns``: plan, apply, drift and import of the catalog's zones through octoDNS."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from infradex.catalog import Catalog, Entity
from infradex.catalog.models import ProviderSpec
from infradex.cli.app import app, load_catalog, settings_of
from infradex.cli.output import console, err_console, print_json
from infradex.clock import utcnow
from infradex.dns.annotate import annotate_all
from infradex.dns.apply import apply_plan
from infradex.dns.plan import DnsPlan, plan_zones
from infradex.dns.providers import provider_factory
from infradex.dns.render import plan_json, plan_markdown, record_text, services_text
from infradex.monitor.maintenance import Window

if TYPE_CHECKING:
    from infradex.store.db import Database

dns_app = typer.Typer(help="DNS as code: plan, apply and check the catalog's zones (octoDNS).")
app.add_typer(dns_app, name="dns")

#: `dns drift`'s exit code when a live zone differs from the catalog (0: in sync, 1: error)
DRIFT_EXIT = 3


class PlanFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


ZoneOption = Annotated[
    list[str] | None, typer.Option("--zone", "-z", help="Only this zone (repeatable).")
]
_RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}


def _builder(ctx: typer.Context) -> Callable[[Entity[ProviderSpec]], Any]:
    return provider_factory(settings_of(ctx))


def _plan(ctx: typer.Context, zones: list[str] | None) -> tuple[Catalog, DnsPlan]:
    catalog = load_catalog(ctx)
    count = len(zones) if zones else len(catalog.of_kind("zone"))
    with err_console.status(f"reading {count} live zone(s)"):
        return catalog, plan_zones(catalog, zones or (), settings_of(ctx))


def _show(catalog: Catalog, plan: DnsPlan) -> None:
    annotated = annotate_all(catalog, plan.changes, utcnow())
    for zone in plan.zones:
        if zone.unsafe:
            console.print(f"{zone.zone} is unsafe: {zone.unsafe}", style="bold red", markup=False)
    if not annotated:
        console.print("No changes: the live zones match the catalog.", style="green")
        return
    table = Table(title=f"DNS plan: {len(annotated)} change(s)", title_justify="left")
    for heading in ("", "record", "before", "after", "services", "risk"):
        table.add_column(heading, overflow="fold")
    sign = {"create": "+", "update": "~", "delete": "-"}
    for item in annotated:
        change = item.change
        # rich reads markup in every cell: catalog text goes in escaped
        table.add_row(
            sign[change.action],
            escape(f"{change.fqdn} {change.type}"),
            escape(record_text(change.before)),
            escape(record_text(change.after)),
            escape(services_text(item)),
            f"[{_RISK_STYLE[item.risk.grade]}]{item.risk.grade}[/]: "
            + escape("\n".join(item.risk.reasons)),
        )
    console.print(table)


@dns_app.command("plan")
def plan_(
    ctx: typer.Context,
    zone: ZoneOption = None,
    fmt: Annotated[
        PlanFormat, typer.Option("--format", "-f", help="text, markdown (a PR comment) or json")
    ] = PlanFormat.text,
) -> None:
    """What applying the catalog's zones would change, each change with the services,
    owners and on-call people it touches and a risk grade; ends with the checksum to apply."""
    catalog, plan = _plan(ctx, zone)
    if fmt is PlanFormat.json:
        print_json(plan_json(plan, annotate_all(catalog, plan.changes, utcnow())))
        return
    if fmt is PlanFormat.markdown:
        typer.echo(plan_markdown(plan, annotate_all(catalog, plan.changes, utcnow())), nl=False)
        return
    _show(catalog, plan)
    if plan.changes:
        console.print(
            f"checksum {plan.checksum}: apply exactly this plan with "
            f"`infradex dns apply --checksum {plan.checksum}`",
            markup=False,
        )


@dns_app.command("apply")
def apply_(
    ctx: typer.Context,
    checksum: Annotated[
        str, typer.Option("--checksum", help="The checksum `infradex dns plan` printed.")
    ],
    zone: ZoneOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Apply even when octoDNS's safety thresholds object.")
    ] = False,
    maintenance: Annotated[
        bool,
        typer.Option(
            "--maintenance",
            help="Put the touched services' checks in maintenance for the apply and the old TTL.",
        ),
    ] = False,
) -> None:
    """Apply the reviewed plan: planned again now, applied only if its checksum is the one
    given (the live zones and the catalog unchanged since review); recorded in the audit log."""
    catalog, plan = _plan(ctx, zone)
    windows: list[Window] = []
    if maintenance and plan.checksum == checksum.strip().lower() and plan.changes:
        from infradex.runtime.dns_changes import maintenance_windows

        annotated = annotate_all(catalog, plan.changes, utcnow())
        windows = maintenance_windows(annotated, utcnow(), plan.checksum)
    applied = apply_plan(plan, checksum, force=force, before=lambda: _record(ctx, windows))
    _audit(ctx, plan, applied.zones, force)
    for window in windows:
        console.print(
            f"maintenance for {window.target} until {window.ends_at:%H:%M:%S} UTC",
            markup=False,
        )
    if not applied.zones:
        console.print("No changes: the live zones already match the catalog.", style="green")
        return
    console.print(
        f"applied {applied.changes} change(s) to {', '.join(applied.zones)}",
        style="green",
        markup=False,
    )


def _record(ctx: typer.Context, windows: list[Window]) -> None:
    """Write the maintenance windows before anything is applied."""
    from infradex.runtime.dns_changes import record_windows

    if windows:
        _with_store(ctx, lambda db: record_windows(db, windows, _actor(), utcnow()))


def _audit(ctx: typer.Context, plan: DnsPlan, zones: tuple[str, ...], force: bool) -> None:
    from infradex.runtime.dns_changes import record_apply

    _with_store(
        ctx, lambda db: record_apply(db, plan, zones, force=force, actor=_actor(), now=utcnow())
    )


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _with_store(ctx: typer.Context, work: Callable[[Database], Awaitable[None]]) -> None:
    from infradex.store.db import Database

    settings = settings_of(ctx)

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            await work(db)
        finally:
            await db.close()

    asyncio.run(run())


@dns_app.command("drift")
def drift(
    ctx: typer.Context,
    zone: ZoneOption = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f")] = PlanFormat.text,
) -> None:
    """Compare every zone's live records with the catalog; exits 3 when they differ (0 in
    sync, 1 on an error), for cron or CI."""
    catalog, plan = _plan(ctx, zone)
    if fmt is PlanFormat.json:
        print_json(plan_json(plan, annotate_all(catalog, plan.changes, utcnow())))
    elif fmt is PlanFormat.markdown:
        typer.echo(plan_markdown(plan, annotate_all(catalog, plan.changes, utcnow())), nl=False)
    else:
        _show(catalog, plan)
    if plan.changes:
        drifted = sorted({c.zone for c in plan.changes})
        err_console.print(
            f"drift in {', '.join(drifted)}: the live zones differ from the catalog "
            "(someone edited the provider, or the catalog has changes not yet applied)",
            style="yellow",
            markup=False,
        )
        raise typer.Exit(DRIFT_EXIT)


@dns_app.command("import")
def import_(
    ctx: typer.Context,
    provider: Annotated[str, typer.Option("--provider", "-p", help="The DNS provider's ref.")],
    zone: Annotated[str, typer.Option("--zone", "-z", help="The zone to read, e.g. python.org")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write (default: zones/<zone>.yaml in the catalog)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the file if it exists.")
    ] = False,
) -> None:
    """Write a live zone as an octoDNS YAML zone file for the catalog (sorted as octoDNS
    requires), and say what did not map and how to add the Zone to the catalog."""
    from infradex.catalog.refs import parse_ref
    from infradex.dns.importer import import_zone

    catalog = load_catalog(ctx)
    entity = catalog.typed(parse_ref(provider, ("provider",)), ProviderSpec)
    root = settings_of(ctx).catalog
    base = root if root.is_dir() else root.parent
    target = out or base / "zones" / f"{zone.rstrip('.')}.yaml"
    if target.exists() and not replace:
        err_console.print(
            f"error: {target} exists; pass --replace to overwrite it, or --out elsewhere",
            style="red",
            markup=False,
        )
        raise typer.Exit(1)
    with err_console.status(f"reading {zone} from {entity.ref}"):
        result = import_zone(_builder(ctx)(entity), str(entity.ref), zone, target)
    console.print(f"wrote {result.records} record set(s) to {result.path}", markup=False)
    for line in result.skipped:
        err_console.print(f"not imported: {line}", style="yellow", markup=False)
    relative = target.relative_to(base) if target.is_relative_to(base) else target
    console.print(
        "add it to the catalog with:\n"
        f"kind: Zone\nmetadata: {{name: {zone.rstrip('.')}}}\n"
        f"spec: {{provider: {entity.ref}, file: {relative}}}",
        markup=False,
    )
