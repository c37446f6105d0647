"""On-call commands: who is on call now (and until when, and who is next), and a schedule's
shifts over the coming days."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from infradex.catalog import Catalog, Entity, Ref
from infradex.catalog.models import PersonSpec, ScheduleSpec
from infradex.catalog.queries import person_channels
from infradex.catalog.refs import RefError, parse_ref
from infradex.cli.app import app, load_catalog
from infradex.cli.output import Format, console, print_json
from infradex.clock import utcnow
from infradex.errors import NotFoundError, UsageError
from infradex.oncall.answers import OnCallNow, OnCallPerson
from infradex.oncall.ical import person_ref
from infradex.oncall.schedules import HORIZON, OVERRIDE, Shift, shifts, turn_at

oncall_app = typer.Typer(help="On call: who is on call now, and a schedule's coming shifts.")
app.add_typer(oncall_app, name="oncall")

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text or json")]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="ISO-TIME",
        help="Ask about this instant instead of now, e.g. 2026-03-29T09:00+02:00 (without an "
        "offset: in each schedule's time zone).",
    ),
]
EXAMPLE = "2026-03-29T09:00+02:00, 2026-03-29T07:00Z or 2026-03-29T09:00"


# ------------------------------------------------------------------------------ helpers
def find_schedule(catalog: Catalog, text: str) -> Entity[ScheduleSpec]:
    """A schedule by name, ``schedule:name`` or title; else an error listing them all."""
    schedules = catalog.of_kind("schedule")
    names = [s.name for s in schedules]
    wanted = text.strip()
    if ":" in wanted:
        try:
            ref = parse_ref(wanted)
        except RefError as exc:
            raise UsageError(str(exc)) from None
        if ref.kind != "schedule":
            raise UsageError(f"{wanted!r} is a {ref.kind}, not a schedule; {_known(names)}")
        wanted = ref.name
    for schedule in schedules:
        if wanted in (schedule.name, schedule.metadata.title):
            return schedule
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise NotFoundError(f"no schedule {wanted!r} in the catalog; {hint}{_known(names)}")


def _known(names: list[str]) -> str:
    if not names:
        return "the catalog has no schedules (see docs/catalog.md, Schedule)"
    return "schedules: " + ", ".join(names)


def parse_at(text: str | None, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """``--at`` as an instant (``now`` without one); without an offset it is read in ``zone``,
    like the times written in a schedule."""
    if text is None:
        return now or utcnow()
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time; write e.g. {EXAMPLE}") from None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _check_at(text: str | None) -> None:
    """Refuse a bad ``--at`` before anything is printed."""
    parse_at(text, ZoneInfo("UTC"))


def _person(catalog: Catalog, written: str | None) -> OnCallPerson | None:
    if written is None:
        return None
    ref = person_ref(written) or Ref("person", written)
    person = catalog.find(ref, PersonSpec)
    channels = person_channels(person) if person is not None else ()
    return OnCallPerson(
        ref=str(ref),
        name=catalog.title(ref),
        channels=[c.record() for c in channels],
        contact=[str(c) for c in channels],
    )


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(value: datetime, zone: ZoneInfo) -> str:
    """``Fri 27 Mar 17:00 CET`` (the table's title gives the year)."""
    return value.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def _json(person: OnCallPerson | None) -> dict[str, Any] | None:
    return person.to_json() if person is not None else None


def _in(delta: timedelta) -> str:
    """``in 2 d 3 h``, ``in 45 min``: how long until a change, roughly."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"in {days} d {hours} h" if hours else f"in {days} d"
    if hours:
        return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    return f"in {minutes} min"


def _source(source: str) -> str:
    """A layer's name, ``override``, or ``gap``."""
    return source or "gap"


def _length(shift: Shift) -> str:
    hours = shift.duration.total_seconds() / 3600
    days, rest = divmod(hours, 24)
    if not days:
        return f"{hours:g}h"
    return f"{days:g}d {rest:g}h" if rest else f"{days:g}d"


# ------------------------------------------------------------------------------ now
def now_answer(
    catalog: Catalog, schedule: Entity[ScheduleSpec], at: str | None, now: datetime
) -> OnCallNow:
    """One schedule's answer to "who is on call" at ``--at`` (or ``now``)."""
    zone = ZoneInfo(schedule.spec.timezone)
    when = parse_at(at, zone, now)
    turn = turn_at(schedule.spec, when)
    return OnCallNow(
        schedule=str(schedule.ref),
        title=schedule.title,
        timezone=schedule.spec.timezone,
        at=when.astimezone(zone),
        on_call=_person(catalog, turn.person),
        source=turn.source or None,
        until=turn.until,
        next=_person(catalog, turn.next) if turn.until is not None else None,
        next_until=turn.next_until,
    )


@oncall_app.command("now")
def now(
    ctx: typer.Context,
    schedule: Annotated[
        str | None,
        typer.Argument(metavar="[SCHEDULE]", help="One schedule (default: every schedule)."),
    ] = None,
    at: AtOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Who is on call now, how to reach them, until when, and who is next."""
    _check_at(at)
    catalog = load_catalog(ctx)
    chosen = [find_schedule(catalog, schedule)] if schedule else catalog.of_kind("schedule")
    moment = utcnow()
    answers = [now_answer(catalog, s, at, moment) for s in chosen]
    if fmt is Format.json:
        print_json([answer.to_json() for answer in answers])
        return
    if not answers:
        console.print("The catalog has no schedules (see docs/catalog.md, Schedule).")
        return
    if at is None:
        title = f"On call now ({_utc(moment)})"
    elif len(chosen) == 1:
        zone = ZoneInfo(chosen[0].spec.timezone)
        title = f"On call at {_local(answers[0].at, zone)}"
    else:
        title = f"On call at {at}"
    table = Table(title=title, title_justify="left")
    for heading in ("schedule", "on call", "contact", "until", "next"):
        table.add_column(heading)
    for entity, answer in zip(chosen, answers, strict=True):
        zone = ZoneInfo(entity.spec.timezone)
        instant = answer.at
        person = answer.on_call
        source = answer.source
        via = source if source == OVERRIDE else f"layer {source}"
        who = (
            f"[bold]{escape(person.name)}[/bold]\n[dim]{escape(via)}[/dim]"
            if person
            else "[red]nobody on call[/red]"
        )
        contact = escape("\n".join(person.contact)) if person else ""
        if person and not person.contact:
            contact = "[dim]no contact method[/dim]"
        if answer.until is None:
            until = f"[dim]no change within {HORIZON.days} days[/dim]"
            following = ""
        else:
            change = answer.until
            until = f"{_local(change, zone)}\n[dim]{_in(change - instant)}[/dim]"
            upcoming = answer.next
            following = escape(upcoming.name) if upcoming else "[red]nobody (gap)[/red]"
            if answer.next_until:
                end = answer.next_until
                following += f"\n[dim]until {escape(_local(end, zone))}[/dim]"
        table.add_row(
            f"{escape(entity.title)}\n[dim]{entity.name}[/dim]", who, contact, until, following
        )
    console.print(table)


# ------------------------------------------------------------------------------ show
def shift_rows(
    catalog: Catalog, schedule: Entity[ScheduleSpec], start: datetime, days: int
) -> list[dict[str, Any]]:
    """The final schedule from ``start`` for ``days`` days, as JSON rows."""
    zone = ZoneInfo(schedule.spec.timezone)
    rows = []
    for shift in shifts(schedule.spec, start, start + timedelta(days=days)):
        rows.append(
            {
                "start": shift.start.isoformat(),
                "end": shift.end.isoformat(),
                "startUtc": shift.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "endUtc": shift.end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "hours": shift.duration.total_seconds() / 3600,
                "person": _json(_person(catalog, shift.person)),
                "source": shift.source or None,
                "timezone": zone.key,
            }
        )
    return rows


@oncall_app.command("show")
def show(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument(metavar="SCHEDULE", help="The schedule's name.")],
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days to show.")] = 14,
    at: AtOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """A schedule's shifts over the coming days, gaps included, in its time zone and UTC."""
    _check_at(at)
    catalog = load_catalog(ctx)
    entity = find_schedule(catalog, schedule)
    zone = ZoneInfo(entity.spec.timezone)
    start = parse_at(at, zone)
    found = shifts(entity.spec, start, start + timedelta(days=days))
    if fmt is Format.json:
        print_json(
            {
                "schedule": str(entity.ref),
                "title": entity.title,
                "timezone": entity.spec.timezone,
                "start": start.astimezone(zone).isoformat(),
                "days": days,
                "shifts": shift_rows(catalog, entity, start, days),
            }
        )
        return
    table = Table(
        title=f"{escape(entity.title)} ({entity.ref}): {days} days from {_local(start, zone)}; "
        f"times in {zone.key}",
        title_justify="left",
    )
    for heading in ("start", "end", "in UTC", "length"):
        table.add_column(heading, no_wrap=True)
    table.add_column("on call", min_width=8)
    table.add_column("from", min_width=8)
    for shift in found:
        if shift.person is None:
            who = "[red]nobody on call[/red]"
        else:
            who = escape(catalog.title(person_ref(shift.person) or Ref("person", shift.person)))
        table.add_row(
            _short(shift.start, zone),
            _short(shift.end, zone),
            f"{shift.start.astimezone(UTC):%d %b %H:%M}–{shift.end.astimezone(UTC):%d %b %H:%M}",
            _length(shift),
            who,
            escape(_source(shift.source)),
        )
    console.print(table)
