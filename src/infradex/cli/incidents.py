"""Incident commands (list, show, ack, resolve, snooze, note) and ``alert test``, which sends a
test through the whole alert path and reports each hop."""

from __future__ import annotations

import asyncio
import getpass
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from infradex.alerting import outbox, records
from infradex.alerting.dispatcher import Dispatcher
from infradex.alerting.messages import render_test
from infradex.alerting.model import IncidentStatus
from infradex.alerting.timeline import describe
from infradex.catalog.models import EscalationPolicySpec
from infradex.catalog.refs import RefError
from infradex.channels.registry import notifiers_for
from infradex.cli.app import app, load_catalog, settings_of
from infradex.cli.output import console, err_console, print_json
from infradex.clock import utcnow
from infradex.durations import DurationError, parse_duration
from infradex.errors import InfradexError, NotFoundError, UsageError
from infradex.oncall.escalation import PolicySnapshot, Recipient, recipients
from infradex.settings import Settings
from infradex.store import Database
from infradex.store.audit import audit

incidents_app = typer.Typer(help="Incidents: list, show, acknowledge, resolve, snooze, note.")
alert_app = typer.Typer(help="The alert path: send a test through it.")
app.add_typer(incidents_app, name="incidents")
app.add_typer(alert_app, name="alert")

T = TypeVar("T")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    db = Database(settings.database_url)

    async def run() -> T:
        try:
            await db.upgrade()
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def _when(text: str | None) -> str:
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M") if text else ""


@incidents_app.command("list")
def incidents_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="open (not resolved), acknowledged or resolved; default: all."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Incidents, newest first."""
    if status is not None and status not in tuple(IncidentStatus):
        raise UsageError(f"--status {status!r}: use open, acknowledged or resolved")
    items, total = _with_db(settings_of(ctx), lambda db: records.list_incidents(db, status, limit))
    if format == "json":
        print_json({"items": items, "total": total})
        return
    if not items:
        console.print("no incidents" + (f" with status {status}" if status else ""))
        return
    table = Table("#", "Status", "What", "Impacted", "Opened (UTC)", "Acknowledged by", "Resolved")
    for i in items:
        style = "bold red" if i["status"] == IncidentStatus.OPEN else None
        table.add_row(
            str(i["id"]), i["status"], escape(i["title"]), str(i["impactedCount"]),
            _when(i["openedAt"]), escape(i["acknowledgedBy"] or ""), _when(i["resolvedAt"]),
            style=style,
        )  # fmt: skip
    console.print(table)
    if total > len(items):
        console.print(f"{total - len(items)} more; use --limit", style="dim")


@incidents_app.command("show")
def incidents_show(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="ID")],
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """One incident: its checks, its timeline and its messages."""
    detail = _with_db(settings_of(ctx), lambda db: records.incident_detail(db, incident_id))
    if format == "json":
        print_json(detail)
        return
    console.print(f"[bold]#{detail['id']} {escape(detail['title'])}[/] — {detail['status']}")
    console.print(
        f"opened {_when(detail['openedAt'])} UTC; policy {detail['policy'] or 'none'}"
        + (f"; acknowledged by {detail['acknowledgedBy']}" if detail["acknowledgedBy"] else "")
        + (f"; resolved {_when(detail['resolvedAt'])}" if detail["resolvedAt"] else ""),
        markup=False,
    )
    checks = Table("Check", "Role", "Down since", "Up since", "Message", title="Checks")
    for m in detail["members"]:
        checks.add_row(
            m["check"], m["role"], _when(m["downAt"]), _when(m["upAt"]), escape(m["message"] or "")
        )
    console.print(checks)
    timeline = Table("When (UTC)", "What", "Who", "Detail", title="Timeline")
    for e in detail["timeline"]:
        text = describe(e["kind"], e["data"])
        timeline.add_row(_when(e["at"]), e["kind"], escape(e["actor"] or ""), escape(text))
    console.print(timeline)


def _act(ctx: typer.Context, incident_id: int, action: str, **options: Any) -> None:
    actor = _actor()

    async def work(db: Database) -> dict[str, Any]:
        now = utcnow()
        detail = await records.act(db, incident_id, action, actor, now, **options)
        await audit(db, at=now, actor=actor, action=f"incident.{action}",
                    target=str(incident_id))  # fmt: skip
        return detail

    detail = _with_db(settings_of(ctx), work)
    console.print(
        f"#{incident_id} {detail['title']}: {detail['status']}", style="green", markup=False
    )


@incidents_app.command("ack")
def incidents_ack(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="ID")],
    note: Annotated[str | None, typer.Option(help="Say what you are doing about it.")] = None,
) -> None:
    """Acknowledge: the escalation stops (the server tells PagerDuty and Slack channels)."""
    _act(ctx, incident_id, "acknowledge", note=note)


@incidents_app.command("resolve")
def incidents_resolve(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="ID")],
    note: Annotated[str | None, typer.Option(help="What fixed it.")] = None,
) -> None:
    """Resolve by hand; checks still failing stay quiet until they recover and fail again."""
    _act(ctx, incident_id, "resolve", note=note)


@incidents_app.command("snooze")
def incidents_snooze(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="ID")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 30m or 4h.")] = "1h",
) -> None:
    """Acknowledge until then; if it is still open, the escalation starts over."""
    try:
        snooze = parse_duration(duration)
    except DurationError as exc:
        raise UsageError(f"--for: {exc}") from None
    _act(ctx, incident_id, "snooze", snooze=snooze)


@incidents_app.command("note")
def incidents_note(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(metavar="ID")],
    text: Annotated[str, typer.Argument(help="The note.")],
) -> None:
    """Add a note to the incident's timeline."""
    _act(ctx, incident_id, "note", note=text)


# ----------------------------------------------------------------------------- alert test
def _targets(ctx: typer.Context, to: str) -> tuple[list[Recipient], list[str], list[Any]]:
    """REF → the recipients a test reaches now, the problems, and a policy's own channels."""
    catalog = load_catalog(ctx)
    try:
        ref = catalog.resolve(to)
    except (RefError, NotFoundError) as exc:
        raise UsageError(str(exc)) from None
    now = utcnow()
    if ref.kind == "escalationpolicy":
        snapshot = PolicySnapshot.of(catalog, catalog.typed(ref, EscalationPolicySpec))
        found = recipients(catalog, snapshot.steps[0].notify, now)
        return found.recipients, found.problems, list(snapshot.channels)
    if ref.kind not in ("person", "team", "schedule"):
        raise UsageError(
            f"{ref} cannot be paged; name a person, team, schedule or escalation policy"
        )
    found = recipients(catalog, (str(ref),), now)
    return found.recipients, found.problems, []


@alert_app.command("test")
def alert_test(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="A person, team, schedule or escalation policy.")],
) -> None:
    """Send a test message through the whole alert path and report each hop: who REF is now,
    their channels, the outbox row, what the mail server or endpoint answered."""
    settings = settings_of(ctx)
    people, problems, policy_channels = _targets(ctx, to)
    named = ", ".join(f"{r.title} ({r.ref}, via {r.via})" for r in people)
    console.print(f"1. {to} resolves to: {named or 'nobody'}", markup=False)
    for problem in problems:
        err_console.print(f"   ! {problem}", style="yellow", markup=False)
    hops = [(r.ref, c) for r in people for c in r.channels]
    hops += [(to, c) for c in policy_channels]
    if not hops:
        raise UsageError(f"nothing to send: {to} reaches nobody now")
    for recipient, channel in hops:
        console.print(f"2. {recipient}: {channel.type} {channel.address}", markup=False)
    actor = _actor()

    async def work(db: Database) -> list[Any]:
        now = utcnow()
        async with db.begin() as connection:
            for recipient, channel in hops:
                row_id = await outbox.enqueue(
                    connection,
                    channel=channel.type,
                    kind="test",
                    recipient=recipient,
                    address=channel.address,
                    options=dict(channel.options),
                    message=render_test(recipient, channel.type, actor, now),
                    now=now,
                )
                console.print(f"3. queued as notification {row_id}")
        dispatcher = Dispatcher(db, notifiers_for(settings), worker=f"alert-test:{time.time()}")
        outcomes = await dispatcher.run_once(now)
        failed = [o.row.id for o in outcomes if not o.ok]
        if failed:  # a test is not retried later
            async with db.begin() as connection:
                await outbox.give_up(connection, failed)
        await audit(db, at=now, actor=actor, action="alert.test", target=to)
        return outcomes

    started = time.perf_counter()
    try:
        outcomes = _with_db(settings, work)
    except InfradexError:
        raise
    took = time.perf_counter() - started
    bad = 0
    for outcome in outcomes:
        row = outcome.row
        mark = "✓" if outcome.ok else "✗"
        style = "green" if outcome.ok else "red"
        console.print(
            f"4. {mark} {row.channel} to {row.target.address}: {outcome.answer}",
            style=style,
            markup=False,
        )
        bad += not outcome.ok
    console.print(f"{len(outcomes) - bad} of {len(outcomes)} delivered in {took:.1f} s")
    if bad:
        raise typer.Exit(1)
