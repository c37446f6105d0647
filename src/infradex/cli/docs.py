"""``infradex docs``: build the overview site, or serve it on 127.0.0.1."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from infradex.cli.app import app, load_catalog, load_checked, settings_of
from infradex.cli.output import console, err_console
from infradex.web.headers import SECURITY_HEADERS

docs_app = typer.Typer(help="The generated overview: Markdown, reStructuredText or HTML.")
app.add_typer(docs_app, name="docs")

FORMAT_HELP = "markdown, rst (Sphinx fragments) or html (a static site)"


@docs_app.command()
def build(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Directory to write the site into.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "html",
) -> None:
    """Write the overview and a page per service, provider, data center, host, person, team."""
    from infradex.docs import build_site

    catalog = load_catalog(ctx)
    problems = load_checked(ctx).problems
    written = build_site(catalog, out, fmt, problems)
    console.print(f"wrote {len(written)} files to {out}", style="green", markup=False)
    if fmt == "html":
        console.print(f"open {out / 'index.html'}", markup=False)


@docs_app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Build the HTML site and serve it (until Ctrl-C)."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from infradex.docs import build_site

    loaded = load_checked(ctx)
    catalog = load_catalog(ctx)
    with tempfile.TemporaryDirectory(prefix="infradex-site-") as tmp:
        out = Path(tmp) / "site"
        build_site(catalog, out, "html", loaded.problems)

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def end_headers(self) -> None:
                # the server's policy: no script runs even if an escape were missed
                for name, value in SECURITY_HEADERS.items():
                    self.send_header(name, value)
                super().end_headers()

        try:
            server = ThreadingHTTPServer((host, port), partial(Quiet, directory=str(out)))
        except OSError as exc:
            err_console.print(
                f"error: cannot listen on {host}:{port}: {exc.strerror}; "
                "stop what uses the port or pass --port",
                style="red",
            )
            raise typer.Exit(1) from None
        settings = settings_of(ctx)
        source = (
            "the embedded PSF example" if settings.catalog_is_embedded else str(settings.catalog)
        )
        console.print(
            f"serving the overview of {source} on http://{host}:{port}/ "
            f"({len(catalog)} entities; Ctrl-C stops)",
            style="green",
            markup=False,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
