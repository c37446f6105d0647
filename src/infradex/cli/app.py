"""The root ``infradex`` command: global options, error handling, catalog loading."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core

from infradex import __version__
from infradex.catalog import Catalog, LoadedCatalog, load
from infradex.cli.output import err_console
from infradex.errors import InfradexError
from infradex.settings import Settings

__all__ = ["app", "load_catalog", "load_checked"]


class _Group(typer.core.TyperGroup):
    """Turns our own errors into a message and an exit code, wherever a command raises them."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except InfradexError as exc:
            err_console.print(f"error: {exc}", style="red", markup=False)
            ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=_Group,
    name="infradex",
    help="The living overview of your infrastructure: catalog, queries, generated docs.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
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
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()
    ctx.obj = Settings.from_env(catalog=catalog)


def settings_of(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings.from_env()


def load_catalog(ctx: typer.Context, path: Path | None = None, *, warnings: bool = True) -> Catalog:
    """Load the catalog the user chose; on errors list them all and exit 1 (``warnings``
    False: a command that shows none need not look for them)."""
    loaded = load_checked(ctx, path, warnings=warnings)
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


def load_checked(
    ctx: typer.Context, path: Path | None = None, *, warnings: bool = True
) -> LoadedCatalog:
    """The catalog and all its problems; loaded once per command, however often asked
    (``warnings`` False: its errors only, unless the warnings are already known)."""
    source = path or settings_of(ctx).catalog
    cache = ctx.meta.setdefault("infradex.loaded", {})
    if source not in cache:
        plain = cache.get((source, "errors only"))
        if not warnings:
            if plain is None:
                plain = cache[(source, "errors only")] = load(source)
            found: LoadedCatalog = plain
            return found
        from infradex.lint import with_warnings  # the checks' imports: only when asked

        cache[source] = with_warnings(load(source) if plain is None else plain)
    loaded: LoadedCatalog = cache[source]
    return loaded
