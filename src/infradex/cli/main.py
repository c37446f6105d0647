"""The ``infradex`` command: global options, error handling, and the command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infradex import __version__
from infradex.catalog import Catalog, LoadedCatalog, load
from infradex.cli.output import err_console
from infradex.errors import InfradexError
from infradex.settings import Settings

__all__ = ["app", "load_catalog", "main"]

app = typer.Typer(
    name="infradex",
    help="The living overview of your infrastructure: catalog, queries, generated docs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    catalog: Annotated[
        Path | None,
        typer.Option(
            "--catalog",
            "-c",
            help="Catalog directory or file (else $INFRADEX_CATALOG, else the embedded PSF "
            "example).",
        ),
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        typer.echo(f"infradex {__version__}")
        raise typer.Exit()
    ctx.obj = Settings.from_env(catalog=catalog)


def settings_of(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings.from_env()


def load_catalog(ctx: typer.Context, path: Path | None = None) -> Catalog:
    """Load the catalog the user chose; on errors list them all and exit 1."""
    loaded = load_checked(ctx, path)
    if loaded.catalog is None:
        for problem in loaded.errors:
            err_console.print(str(problem), style="red", markup=False)
        err_console.print(
            f"{len(loaded.errors)} error(s) in the catalog; fix them, then try again "
            "(`infradex validate` lists warnings too)",
            style="bold red",
        )
        raise typer.Exit(1)
    return loaded.catalog


def load_checked(ctx: typer.Context, path: Path | None = None) -> LoadedCatalog:
    settings = settings_of(ctx)
    return load(path or settings.catalog)


def main() -> None:
    from infradex.cli import catalog as _catalog  # noqa: F401  (registers commands)
    from infradex.cli import docs as _docs  # noqa: F401

    try:
        app()
    except InfradexError as exc:
        err_console.print(f"error: {exc}", style="red", markup=False)
        raise SystemExit(exc.exit_code) from None
