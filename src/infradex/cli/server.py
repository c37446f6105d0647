"""Server commands: ``serve``, ``reload``, ``db upgrade``, ``token create|list|revoke``,
``user create|list|disable|delete``."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import json
import logging
import os
import urllib.error
import urllib.request
from typing import Annotated

import typer
from rich.table import Table

from infradex.catalog.specs import spec_checks
from infradex.cli.app import app, load_catalog, settings_of
from infradex.cli.base_url import listener_base_url
from infradex.cli.output import console, err_console
from infradex.clock import utcnow
from infradex.errors import InfradexError, UsageError
from infradex.monitor.locations import unknown_location
from infradex.settings import VARIABLES
from infradex.store import Database
from infradex.store.audit import audit
from infradex.store.reload_plans import PlanRecord
from infradex.store.tokens import (
    Token,
    create_token,
    list_tokens,
    location_problem,
    revoke_token,
)
from infradex.store.users import Account, create_user, delete_user, disable_user, list_users
from infradex.web.schemas import ReloadAnswer

db_app = typer.Typer(help="The store: SQLite by default, PostgreSQL with INFRADEX_DATABASE_URL.")
token_app = typer.Typer(help="API tokens for scripts and agents (shown once, stored hashed).")
user_app = typer.Typer(help="People who sign in to the web UI.")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")

ENVIRONMENT = "\n".join(f"  {name}: {meaning}" for name, meaning in VARIABLES.items())


@app.command(epilog="Environment:\n\n" + ENVIRONMENT.replace("\n", "\n\n"))
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    log_format: Annotated[str, typer.Option(help="text or json")] = "text",
    monitor: Annotated[
        bool | None,
        typer.Option(
            "--monitor/--no-monitor",
            help="Run the catalog's checks (default: INFRADEX_MONITOR; auto runs them for your "
            "own catalog, not for the embedded example, whose checks aim at real sites).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the web UI and the REST API (SIGHUP or `infradex reload` re-reads the catalog)."""
    import uvicorn

    from infradex.runtime.single_server import hold_if_sqlite
    from infradex.web.app import create_app
    from infradex.web.edge import protocol_with_header_timeout
    from infradex.web.logs import configure_logging

    if log_format not in ("text", "json"):
        raise UsageError(f"--log-format {log_format!r}: use text or json")
    settings = settings_of(ctx)
    if monitor is not None:
        settings = dataclasses.replace(settings, monitor=monitor)
    catalog = load_catalog(ctx)  # refuse to start on an invalid catalog, listing every error
    _check_can_listen(host, port)
    settings.resolved_secret_key()
    _check_store(Database(settings.database_url))
    configure_logging(log_format)
    given = settings.base_url if settings.base_url_given else None
    base_url, warning = listener_base_url(given, host, port)
    settings = dataclasses.replace(settings, base_url=base_url)
    if warning:
        logging.getLogger("infradex").warning(warning)
    source = "the embedded PSF example" if settings.catalog_is_embedded else str(settings.catalog)
    console.print(
        f"infradex: {len(catalog)} entities from {source}; store "
        f"{Database(settings.database_url).display_url}; "
        f"http://{host}:{port}/",
        style="green",
        markup=False,
    )
    checks = sum(len(spec_checks(e)) for e in catalog.entities.values())
    # held until the process ends: a second server on one SQLite file is refused
    server_lock = hold_if_sqlite(settings.database_url) if settings.monitor_enabled else None
    if settings.monitor_enabled:
        console.print(f"infradex: monitoring {checks} checks", style="green")
    elif checks:
        why = (
            "the embedded example's checks aim at real sites"
            if settings.catalog_is_embedded
            else "INFRADEX_MONITOR=false"
        )
        console.print(f"infradex: {checks} checks not monitored ({why}; --monitor runs them)")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # X-Forwarded-For is believed only from INFRADEX_TRUSTED_PROXIES, by the app itself
        # (uvicorn's own default believes it from 127.0.0.1, where anyone local can send it)
        proxy_headers=False,
        http=protocol_with_header_timeout(settings.header_timeout),
        timeout_keep_alive=5,
        limit_concurrency=1000,
        h11_max_incomplete_event_size=64 * 1024,
    )
    if server_lock is not None:
        server_lock.release()


@app.command()
def reload(
    url: Annotated[str, typer.Option(help="The server's address.")] = "http://127.0.0.1:8000",
    token: Annotated[
        str | None,
        typer.Option(envvar="INFRADEX_TOKEN", help="A write token (or $INFRADEX_TOKEN)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Go ahead with a reload held for confirmation (needs an admin token).",
        ),
    ] = False,
) -> None:
    """Ask a running server to re-read its catalog; prints the problems if it refuses (exit
    1), or the plan if it holds the reload for confirmation (exit 3: it removes too much or
    would close open incidents; confirm with --force)."""
    if not token:
        err_console.print(
            "error: reload needs a write token: --token or INFRADEX_TOKEN "
            "(create one with `infradex token create --name ops --scope write`)",
            style="red",
        )
        raise typer.Exit(2)
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/v1/catalog/reload" + ("?force=true" if force else ""),
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = ReloadAnswer.model_validate(json.load(response))
    except urllib.error.HTTPError as exc:
        body = exc.read() or b"{}"
        if exc.code in (409, 422) and b'"accepted"' in body:
            # refused or held: the errors or the plan follow
            answer = ReloadAnswer.model_validate_json(body)
        else:
            detail = json.loads(body).get("error", exc.reason)
            err_console.print(
                f"error: the server answered {exc.code}: {detail}", style="red", markup=False
            )
            raise typer.Exit(1) from None
    except OSError as exc:
        err_console.print(
            f"error: cannot reach {url}: {exc}; is `infradex serve` running?", style="red"
        )
        raise typer.Exit(1) from None
    if answer.accepted:
        diff = answer.diff
        console.print(
            f"reloaded: {len(diff.get('added', []))} added, {len(diff.get('removed', []))} "
            f"removed, {len(diff.get('changed', []))} changed",
            style="green",
        )
        return
    if answer.held and answer.plan is not None:
        _print_held(answer.plan)
        raise typer.Exit(3)
    for problem in answer.errors:
        err_console.print(
            f"{problem.file}:{problem.line}: {problem.message}", style="red", markup=False
        )
    err_console.print("refused: the server keeps serving its last good catalog", style="red")
    raise typer.Exit(1)


def _print_held(plan: PlanRecord) -> None:
    err_console.print(
        "held: the server keeps serving its catalog until someone confirms", style="yellow"
    )
    for reason in plan.reasons:
        err_console.print(f"  {reason}", style="yellow", markup=False)
    for title, items in (
        ("entities removed", plan.removed_entities),
        ("checks removed", plan.removed_checks),
        ("incidents closed", [f"#{i.id} {i.title}" for i in plan.closes_incidents]),
    ):
        if items:
            err_console.print(f"  {title}: {', '.join(items)}", markup=False)
    err_console.print(
        "if that is what you meant: `infradex reload --force` with an admin token", style="yellow"
    )


def _check_can_listen(host: str, port: int) -> None:
    """Fail before anything starts if the address cannot be bound, saying what to do."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r} is not an address here: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = (
                "another program uses it: stop it, or pass --port 8001 (`make run PORT=8001`)"
                if exc.errno == errno.EADDRINUSE
                else "ports below 1024 need privileges: pass --port 8000"
                if exc.errno == errno.EACCES
                else "pass another --host or --port"
            )
            raise InfradexError(f"cannot listen on {host}:{port}: {exc.strerror}; {hint}") from None


def _check_store(db: Database) -> None:
    """Migrate the store now, so an unreachable database is one clear line, not a traceback."""

    async def run() -> None:
        try:
            await db.upgrade()
        finally:
            await db.close()

    asyncio.run(run())


def _database(ctx: typer.Context) -> Database:
    return Database(settings_of(ctx).database_url)


@db_app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply the store's migrations (`infradex serve` does this at start too)."""
    db = _database(ctx)

    async def run() -> None:
        try:
            await db.upgrade()
        finally:
            await db.close()

    asyncio.run(run())
    console.print(f"store {db.display_url} is up to date", style="green")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. deploy-bot.")],
    scope: Annotated[list[str], typer.Option(help="read, write, admin or agent; repeatable.")],
    location: Annotated[
        str | None,
        typer.Option(help="The data center an agent token reports for (scope agent only)."),
    ] = None,
) -> None:
    """Create an API token. It is printed once; only its hash is kept."""
    problem = location_problem(scope, location)
    if problem is None and location:
        problem = unknown_location(load_catalog(ctx), location)
    if problem is not None:
        err_console.print(f"error: {problem}", style="red", markup=False)
        raise typer.Exit(2)
    db = _database(ctx)

    async def run() -> str:
        try:
            await db.upgrade()
            secret = await create_token(
                db, name, scope, utcnow(), created_by=_whoami(), location=location
            )
            await audit(
                db,
                at=utcnow(),
                actor=_whoami(),
                action="token.create",
                target=name,
                detail={"scopes": sorted(scope)} | ({"location": location} if location else {}),
            )
            return secret
        finally:
            await db.close()

    secret = asyncio.run(run())
    console.print(
        f"token {name!r} ({', '.join(sorted(scope))}); store it now, it is not shown again:",
        style="green",
    )
    typer.echo(secret)


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """Every token: scopes, creation, last use, revocation."""
    db = _database(ctx)

    async def run() -> list[Token]:
        try:
            await db.upgrade()
            return await list_tokens(db)
        finally:
            await db.close()

    table = Table(title="API tokens", title_justify="left")
    for heading in ("name", "scopes", "location", "created", "last used", "revoked"):
        table.add_column(heading)
    for token in asyncio.run(run()):
        table.add_row(
            token.name,
            " ".join(sorted(token.scopes)),
            token.location or "",
            f"{token.created_at:%Y-%m-%d %H:%M}",
            f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never",
            f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "",
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Revoke a token at once; requests with it are refused from now on."""
    db = _database(ctx)

    async def run() -> None:
        try:
            await db.upgrade()
            await revoke_token(db, name, utcnow())
            await audit(db, at=utcnow(), actor=_whoami(), action="token.revoke", target=name)
        finally:
            await db.close()

    asyncio.run(run())
    console.print(f"token {name!r} revoked", style="green")


def _whoami() -> str:
    return f"cli:{os.environ.get('USER', 'unknown')}"


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(metavar="USERNAME", help="The sign-in name.")],
    admin: Annotated[bool, typer.Option(help="May manage tokens and users.")] = False,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (for scripts).")
    ] = False,
) -> None:
    """Create a web UI account. The password is asked for twice (or read from stdin)."""
    import getpass
    import sys

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            err_console.print("error: the passwords differ; nothing was created", style="red")
            raise typer.Exit(1)
    db = _database(ctx)

    async def run() -> None:
        try:
            await db.upgrade()
            await create_user(db, username, password, utcnow(), admin=admin)
            await audit(
                db,
                at=utcnow(),
                actor=_whoami(),
                action="user.create",
                target=username,
                detail={"admin": admin},
            )
        finally:
            await db.close()

    asyncio.run(run())
    console.print(f"user {username!r} created{' (admin)' if admin else ''}", style="green")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """Every account: admin or not, created, last sign-in, disabled."""
    db = _database(ctx)

    async def run() -> list[Account]:
        try:
            await db.upgrade()
            return await list_users(db)
        finally:
            await db.close()

    table = Table(title="Users", title_justify="left")
    for heading in ("username", "admin", "created", "last sign-in", "disabled"):
        table.add_column(heading)
    for user in asyncio.run(run()):
        table.add_row(
            user.username,
            "yes" if user.is_admin else "",
            f"{user.created_at:%Y-%m-%d %H:%M}",
            f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never",
            f"{user.disabled_at:%Y-%m-%d %H:%M}" if user.disabled_at else "",
        )
    console.print(table)


def _end_user(ctx: typer.Context, username: str, action: str) -> int:
    db = _database(ctx)
    change = disable_user if action == "user.disable" else delete_user

    async def run() -> int:
        try:
            await db.upgrade()
            revoked = await change(db, username, utcnow())
            await audit(db, at=utcnow(), actor=_whoami(), action=action, target=username,
                        detail={"revoked": revoked})  # fmt: skip
            return revoked
        finally:
            await db.close()

    return asyncio.run(run())


@user_app.command("disable")
def user_disable(ctx: typer.Context, username: Annotated[str, typer.Argument()]) -> None:
    """Disable an account: no sign-in, and its sessions and tokens stop working at once."""
    revoked = _end_user(ctx, username, "user.disable")
    console.print(f"user {username!r} disabled; {revoked} session(s) and token(s) revoked",
                  style="green")  # fmt: skip


@user_app.command("delete")
def user_delete(ctx: typer.Context, username: Annotated[str, typer.Argument()]) -> None:
    """Delete an account; its sessions end and its tokens are revoked at once."""
    revoked = _end_user(ctx, username, "user.delete")
    console.print(f"user {username!r} deleted; {revoked} session(s) and token(s) revoked",
                  style="green")  # fmt: skip
