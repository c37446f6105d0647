"""Monitor commands: run a check now, list checks with their state, run the monitor alone,
and manage maintenance windows."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from infradex.catalog.problems import CatalogInvalid
from infradex.catalog.refs import RefError
from infradex.cli.app import app, load_catalog, settings_of
from infradex.cli.output import console, err_console, print_json
from infradex.clock import utcnow
from infradex.durations import DurationError, parse_duration
from infradex.errors import NotFoundError, UsageError
from infradex.monitor import history
from infradex.monitor.checks import CheckDef, CheckResult, adhoc_check, checks_of, run_check
from infradex.monitor.maintenance import Window, coverage, parse_rrule, remind_before_from
from infradex.monitor.report import check_summary
from infradex.store import Database
from infradex.store.audit import audit

check_app = typer.Typer(help="Checks: run one now, or list them with their state.")
maintenance_app = typer.Typer(help="Maintenance windows: results recorded, state 'maintenance'.")
app.add_typer(check_app, name="check")
app.add_typer(maintenance_app, name="maintenance")

PHASES = ("dns", "connect", "tls", "processing", "transfer", "total")


def _select(ctx: typer.Context, target: str, conditions: list[str], timeout: str) -> list[CheckDef]:
    """Checks named by a URL, a check id (service:docs/home) or an entity (service:docs)."""
    if "://" in target:
        try:
            return [adhoc_check(target, conditions, timeout)]
        except ValueError as exc:
            raise UsageError(_first_error(exc)) from None
    settings = settings_of(ctx)
    catalog = load_catalog(ctx)
    checks = checks_of(
        catalog, settings.ca_file, settings.monitor_policy, settings.dns_provider_classes
    )
    if "/" in target:
        chosen = [c for c in checks if c.id == target]
    else:
        try:
            ref = catalog.resolve(target)
        except (RefError, NotFoundError) as exc:
            raise UsageError(str(exc)) from None
        chosen = [c for c in checks if c.owner == str(ref)]
    if not chosen:
        known = ", ".join(c.id for c in checks[:8]) + (", ..." if len(checks) > 8 else "")
        raise UsageError(f"no check matches {target!r}; checks: {known}")
    return chosen


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in errors())
    return str(exc)


def _result_json(check: CheckDef, result: CheckResult) -> dict[str, Any]:
    obs = result.observation
    return {
        "check": check.id,
        "url": check.request.url,
        "success": result.success,
        "errorKind": result.error_kind,
        "message": result.message,
        "conditions": [
            {"condition": c.condition, "success": c.success, "actual": c.actual}
            for c in result.conditions
        ],
        "phases": {k: round(v * 1000, 3) for k, v in obs.phases.items()},
        "details": obs.details,
    }


def _print_result(check: CheckDef, result: CheckResult) -> None:
    verdict = "[green]ok[/]" if result.success else "[red]FAILED[/]"
    name = "" if check.owner == "adhoc" else f"{check.id}  "
    console.print(f"{escape(name + check.request.url)}  {verdict}", highlight=False)
    if result.observation.error:
        console.print(
            f"  {result.error_kind}: {result.observation.error}", style="red", markup=False
        )
    for c in result.conditions:
        mark = "[green]✓[/]" if c.success else "[red]✗[/]"
        console.print(f"  {mark} ", end="")
        console.print(f"{c.condition}: {'ok' if c.success else 'got'} {c.actual}", markup=False)
    phases = result.observation.phases
    timing = "  ".join(f"{p} {phases[p] * 1000:.1f} ms" for p in PHASES if p in phases)
    if timing:
        console.print(f"  timing: {timing}", style="dim")


@check_app.command("run")
def check_run(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="REF|URL",
            help="A check (service:docs/home), every check of an entity (service:docs), or a URL.",
        ),
    ],
    condition: Annotated[
        list[str] | None,
        typer.Option("--condition", help='With a URL: e.g. "[STATUS] == 200"; repeatable.'),
    ] = None,
    timeout: Annotated[str, typer.Option(help="With a URL: how long to wait.")] = "10s",
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Run checks once, now, and print each condition and each timing phase. Exit 1 if any
    failed. Nothing is stored."""
    chosen = _select(ctx, target, condition or [], timeout)

    async def run_all() -> list[CheckResult]:
        return list(await asyncio.gather(*(run_check(c) for c in chosen)))

    results = asyncio.run(run_all())
    if format == "json":
        print_json([_result_json(c, r) for c, r in zip(chosen, results, strict=True)])
    else:
        for check, result in zip(chosen, results, strict=True):
            _print_result(check, result)
    if not all(r.success for r in results):
        raise typer.Exit(1)


@check_app.command("list")
def check_list(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Every check in the catalog with its state in the store (as the monitor left it)."""
    settings = settings_of(ctx)
    checks = checks_of(load_catalog(ctx), settings.ca_file, settings.monitor_policy)
    db = Database(settings.database_url)

    async def states() -> dict[str, Any]:
        try:
            await db.upgrade()
            return await history.load_states(db, [c.id for c in checks])
        finally:
            await db.close()

    found = asyncio.run(states())
    summaries = [check_summary(c, found.get(c.id), bool(found)) for c in checks]
    if format == "json":
        print_json([s.to_json() for s in summaries])
        return
    table = Table("Check", "State", "Since", "Last result", "Target")
    for s in summaries:
        style = {"up": "green", "down": "red", "flapping": "yellow"}.get(s.state, "")
        table.add_row(
            s.id,
            f"[{style}]{s.state}[/]" if style else s.state,
            s.since.isoformat()[:19] if s.since else "",
            escape(s.last_message or ""),
            escape(s.url),
        )
    console.print(table)


@app.command()
def monitor(ctx: typer.Context) -> None:
    """Run the catalog's checks without the web server (SIGHUP re-reads the catalog)."""
    from infradex.runtime.assembly import assemble
    from infradex.runtime.single_server import hold_if_sqlite
    from infradex.web.logs import configure_logging

    settings = settings_of(ctx)
    configure_logging("text")
    if settings.catalog_is_embedded:
        console.print(
            "infradex: monitoring the embedded PSF example: its checks aim at the real "
            "python.org sites",
            style="yellow",
        )
    server_lock = hold_if_sqlite(settings.database_url)  # one such process per SQLite file
    db = Database(settings.database_url)
    # the same assembly as `infradex serve`: a SIGHUP reload is recorded like the server's
    runtime = assemble(settings, db, monitor=True)

    async def run() -> None:
        try:
            await db.upgrade()
            try:
                await runtime.start()
            except CatalogInvalid as exc:  # every error, as every other command lists them
                for problem in exc.problems:
                    if problem.severity == "error":
                        err_console.print(str(problem), style="red", markup=False)
                raise
            try:
                assert runtime.monitor is not None
                console.print(
                    f"infradex: monitoring {len(runtime.monitor.checks)} checks; Ctrl-C stops",
                    style="green",
                )
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                runtime.reload_on_sighup()
                await stop.wait()
            finally:
                await runtime.stop()
        finally:
            await db.close()

    try:
        asyncio.run(run())
    finally:
        if server_lock is not None:
            server_lock.release()


# ----------------------------------------------------------------------------- maintenance
def _instant(text: str, what: str) -> datetime:
    if text == "now":
        return utcnow()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--{what} {text!r}: write ISO 8601, e.g. 2026-12-01T02:00Z") from None
    if value.tzinfo is None:
        raise UsageError(f"--{what} {text!r}: add a time zone offset, e.g. 2026-12-01T02:00Z")
    return value


@maintenance_app.command("add")
def maintenance_add(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="A check (service:docs/home), service, host or provider.")
    ],
    start: Annotated[str, typer.Option(help="ISO 8601 with an offset, or now.")] = "now",
    end: Annotated[str | None, typer.Option(help="ISO 8601 with an offset.")] = None,
    duration: Annotated[str | None, typer.Option(help="Instead of --end, e.g. 2h.")] = None,
    rrule: Annotated[str | None, typer.Option(help="Repeat, e.g. FREQ=WEEKLY;BYDAY=SU.")] = None,
    timezone: Annotated[str, typer.Option(help="The zone a repeat follows.")] = "UTC",
    reason: Annotated[str | None, typer.Option(help="Shown on pages.")] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Show it on the public status page.")
    ] = False,
    public_name: Annotated[
        str | None,
        typer.Option(help="Its name on the status page (the reason stays internal)."),
    ] = None,
    remind_before: Annotated[
        str | None,
        typer.Option(
            help="Remind subscribers this long before it starts, e.g. 2h "
            "(default 1h; 0: no reminder). Public windows only."
        ),
    ] = None,
) -> None:
    """Add a maintenance window; the monitor picks it up within 15 seconds."""
    settings = settings_of(ctx)
    catalog = load_catalog(ctx)
    starts = _instant(start, "start")
    if (end is None) == (duration is None):
        raise UsageError("give --end or --duration (one of them)")
    if duration is not None:
        try:
            ends = starts + parse_duration(duration)
        except DurationError as exc:
            raise UsageError(f"--duration: {exc}") from None
    else:
        assert end is not None
        ends = _instant(end, "end")
    if ends <= starts:
        raise UsageError("the window must end after it starts")
    ids = [c.id for c in checks_of(catalog, settings.ca_file, settings.monitor_policy)]
    if "/" not in target:
        try:
            target = str(catalog.resolve(target))
        except (RefError, NotFoundError) as exc:
            raise UsageError(str(exc)) from None
    elif target not in ids:
        raise UsageError(f"{target!r} is not a check; `infradex check list` shows them")
    rule = parse_rrule(rrule, starts, timezone) if rrule else None
    if public_name is not None and not public:
        raise UsageError("--public-name names a public window: add --public, or leave it out")
    if public_name is not None and not public_name.strip():
        raise UsageError("--public-name is empty: give the name people will see")
    remind = remind_before_from(remind_before, public=public, name="--remind-before")
    window = Window(target, starts, ends, rule, timezone, reason, public=public,
                    public_name=public_name.strip() if public_name else None,
                    remind_before=remind)  # fmt: skip
    covered = coverage(catalog, target, ids)
    db = Database(settings.database_url)

    async def run() -> int:
        try:
            await db.upgrade()
            actor = f"cli:{__import__('os').environ.get('USER', 'unknown')}"
            window_id = await history.add_window(db, window, actor, utcnow())
            await audit(db, at=utcnow(), actor=actor, action="maintenance.add", target=target,
                        detail={"id": window_id})  # fmt: skip
            return window_id
        finally:
            await db.close()

    window_id = asyncio.run(run())
    console.print(
        f"maintenance window {window_id} on {target}: {starts:%Y-%m-%d %H:%M %Z} to "
        f"{ends:%Y-%m-%d %H:%M %Z}{' repeating ' + rule if rule else ''}; covers "
        f"{len(covered)} check(s)",
        style="green",
        markup=False,
    )


@maintenance_app.command("list")
def maintenance_list(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Every maintenance window, whether it is active now and when it next starts."""
    settings = settings_of(ctx)
    db = Database(settings.database_url)

    async def run() -> list[Window]:
        try:
            await db.upgrade()
            return await history.list_windows(db)
        finally:
            await db.close()

    windows = asyncio.run(run())
    now = utcnow()
    rows = [w.status(now) for w in windows]
    if format == "json":
        print_json([r.to_json() for r in rows])
        return
    table = Table("Id", "Target", "Start", "End", "Repeats", "Active", "Reason")
    for r in rows:
        table.add_row(
            str(r.id), r.target, r.start.isoformat()[:16], r.end.isoformat()[:16],
            f"{r.rrule} ({r.timezone})" if r.rrule else "",
            "yes" if r.active else "", r.reason or "",
        )  # fmt: skip
    console.print(table)


@maintenance_app.command("remove")
def maintenance_remove(
    ctx: typer.Context, window_id: Annotated[int, typer.Argument(metavar="ID")]
) -> None:
    """Remove a maintenance window."""
    db = Database(settings_of(ctx).database_url)

    async def run() -> bool:
        try:
            await db.upgrade()
            return await history.delete_window(db, window_id)
        finally:
            await db.close()

    if not asyncio.run(run()):
        raise NotFoundError(f"no maintenance window {window_id}; `infradex maintenance list`")
    console.print(f"maintenance window {window_id} removed", style="green")
