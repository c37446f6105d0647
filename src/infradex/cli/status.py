"""``infradex status export DIR``: the public status page and its JSON as static files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from infradex.cli.app import app, load_catalog, settings_of
from infradex.cli.output import console
from infradex.clock import utcnow
from infradex.statuspage.board import StatusBoard, page_info
from infradex.statuspage.export import write_export
from infradex.store import Database

status_app = typer.Typer(help="The public status page (docs/status-page.md).")
app.add_typer(status_app, name="status")


@status_app.command("export")
def status_export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Where to write the files.")],
) -> None:
    """Write the status page, its stylesheet and its Statuspage v2 JSON as static files,
    derived from the store as the server would show them now."""
    settings = settings_of(ctx)
    catalog = load_catalog(ctx, warnings=False)  # the export shows none
    loaded_at = utcnow()
    db = Database(settings.database_url)

    async def render() -> list[tuple[str, int]]:
        try:
            await db.upgrade()
            board = StatusBoard(
                db,
                lambda: (catalog, loaded_at),
                page_info(settings),
                stale_after=settings.status_stale_after,
                uptime=True,
                monitored=False,  # says so only while no monitor has ever reported
                compress=False,  # a static host compresses as it is told
            )
            return write_export(await board.current(), directory)
        finally:
            await db.close()

    written = asyncio.run(render())
    # a line per file (our own names), written at once: a table of a thousand rows took
    # rich a tenth of a second
    width = max((len(f"{size:,}") for _, size in written), default=0)
    typer.echo("".join(f"{size:>{width},}  {relative}\n" for relative, size in written), nl=False)
    console.print(f"{len(written)} files in {directory}", markup=False)
