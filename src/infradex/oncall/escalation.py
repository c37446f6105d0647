"""Who gets told, and when: escalation policies resolved against the catalog.

Pure functions of (catalog, policy, time):

- :func:`policy_for`: the service's own policy, else its owning team's, else the catalog's
  default (``default: true``), else none;
- :class:`PolicySnapshot`: a policy frozen when an incident opens (stored with it), so editing
  the catalog mid-incident changes nothing for that incident;
- :meth:`PolicySnapshot.due_at`: each step's ``after`` counts from the start of the round; the
  whole cycle repeats ``repeat`` more times, every ``repeatAfter`` (default: the last step's
  ``after`` plus the gap before it);
- :func:`recipients`: a step's ``notify`` refs → people (a schedule's on-call person at that
  instant, a team's active members, a person) with their channels and quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infradex.catalog.entities import Catalog, Entity, has_spec
from infradex.catalog.models import EscalationPolicySpec, PersonSpec, ScheduleSpec, TeamSpec
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.catalog.specs import spec_escalation
from infradex.channels.config import ChannelSpec
from infradex.durations import parse_duration
from infradex.oncall.schedules import on_call_at

__all__ = [
    "CatchUp",
    "PolicySnapshot",
    "Recipient",
    "StepSnapshot",
    "catch_up",
    "held_until",
    "policy_for",
    "quiet_until",
    "quiet_until_of",
    "recipients",
]

DEFAULT_CYCLE = timedelta(minutes=30)  # one step at 0m and no repeatAfter


@dataclass(frozen=True, slots=True)
class StepSnapshot:
    after: timedelta
    notify: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    """An escalation policy as it was when an incident opened (JSON in ``incidents.policy``)."""

    ref: str | None
    title: str
    steps: tuple[StepSnapshot, ...]
    repeat: int = 0
    cycle: timedelta = DEFAULT_CYCLE
    channels: tuple[ChannelSpec, ...] = ()

    @classmethod
    def of(cls, catalog: Catalog, policy: Entity[EscalationPolicySpec] | None) -> PolicySnapshot:
        if policy is None:
            return cls(None, "no escalation policy", ())
        spec = policy.spec
        steps = tuple(StepSnapshot(parse_duration(s.after), tuple(s.notify)) for s in spec.steps)
        if spec.repeat_after is not None:
            cycle = parse_duration(spec.repeat_after)
        elif len(steps) > 1:
            cycle = steps[-1].after + (steps[-1].after - steps[-2].after)
        else:
            cycle = max(DEFAULT_CYCLE, steps[0].after * 2)
        channels = tuple(c for c in (s.spec(None) for s in spec.channels) if c)
        return cls(str(policy.ref), policy.title, steps, spec.repeat, cycle, channels)

    @property
    def positions(self) -> int:
        """Steps over every round: 3 steps repeated twice more are 9 positions."""
        return len(self.steps) * (self.repeat + 1)

    def step(self, position: int) -> StepSnapshot:
        return self.steps[position % len(self.steps)]

    def due_at(self, started: datetime, position: int) -> datetime | None:
        """When the step at ``position`` is due for a round that began at ``started``;
        None past the last one."""
        if position >= self.positions:
            return None
        cycle, index = divmod(position, len(self.steps))
        return started + self.cycle * cycle + self.steps[index].after

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "title": self.title,
            "steps": [
                {"afterSeconds": s.after.total_seconds(), "notify": list(s.notify)}
                for s in self.steps
            ],
            "repeat": self.repeat,
            "cycleSeconds": self.cycle.total_seconds(),
            "channels": [c.to_dict() for c in self.channels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PolicySnapshot:
        if not data:
            return cls(None, "no escalation policy", ())
        return cls(
            data.get("ref"),
            data.get("title", ""),
            tuple(
                StepSnapshot(timedelta(seconds=s["afterSeconds"]), tuple(s["notify"]))
                for s in data.get("steps", [])
            ),
            int(data.get("repeat", 0)),
            timedelta(seconds=data.get("cycleSeconds", DEFAULT_CYCLE.total_seconds())),
            tuple(ChannelSpec.from_dict(c) for c in data.get("channels", [])),
        )


def _policy(catalog: Catalog, text: str | None) -> Entity[EscalationPolicySpec] | None:
    if not text:
        return None
    try:
        ref = parse_ref(text, ("escalationpolicy",))
    except RefError:
        return None
    return catalog.find(ref, EscalationPolicySpec)


def policy_for(catalog: Catalog, ref: Ref) -> Entity[EscalationPolicySpec] | None:
    """The policy for an incident rooted at ``ref``: its own, its owning team's, the
    catalog's default. A provider or host has no policy field: it gets the default."""
    entity = catalog.entities.get(ref)
    if entity is not None:
        own = _policy(catalog, spec_escalation(entity))
        if own is not None:
            return own
        for owner in catalog.related(ref, "ownedBy"):
            if owner.kind == "team":
                team = _policy(catalog, catalog.typed(owner, TeamSpec).spec.escalation)
                if team is not None:
                    return team
    for policy in catalog.of_kind("escalationpolicy"):
        if policy.spec.default:
            return policy
    return None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone (or a team's list) to tell, why (``via``), how, and their quiet hours."""

    ref: str  # person:ee-durbin, or team:x when a team has no members but an address
    title: str
    via: str  # the step's ref that named them: schedule:infra-staff, team:x, person:y
    channels: tuple[ChannelSpec, ...]
    quiet_hours: tuple[time, time, str] | None = None  # start, end, IANA zone
    staff: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "title": self.title,
            "via": self.via,
            "channels": [c.type for c in self.channels],  # not where: that may be secret
        }


@dataclass(slots=True)
class Resolution:
    """A step's recipients at one instant, and what could not be resolved (said on the
    incident's timeline: "schedule:x has nobody on call")."""

    recipients: list[Recipient] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    return time(0) if hours == 24 else time(hours, minutes)


def person_recipient(person: Entity[PersonSpec], via: str) -> Recipient:
    spec = person.spec
    alerting = spec.alerting
    written = alerting.channels if alerting is not None else []
    channels = tuple(c for c in (w.spec(spec.email) for w in written) if c)
    if not written and spec.email:
        channels = (ChannelSpec("email", spec.email),)
    quiet = None
    if alerting is not None and alerting.quiet_hours:
        start, end = alerting.quiet_hours.split("-")
        quiet = (_clock(start), _clock(end), spec.timezone or "UTC")
    return Recipient(str(person.ref), person.title, via, channels, quiet, spec.staff)


def recipients(catalog: Catalog, notify: tuple[str, ...], when: datetime) -> Resolution:
    """A step's ``notify`` refs at ``when``: each person once, in the order named."""
    out = Resolution()
    seen: set[str] = set()

    def add(recipient: Recipient) -> None:
        if recipient.ref in seen:
            return
        seen.add(recipient.ref)
        if not recipient.channels:
            out.problems.append(
                f"{recipient.title} ({recipient.ref}) has no way to be reached: add `email:` "
                "or `alerting.channels` to them in the catalog"
            )
            return
        out.recipients.append(recipient)

    for text in notify:
        try:
            ref = parse_ref(text, ("schedule", "person", "team"))
        except RefError as exc:
            out.problems.append(str(exc))
            continue
        entity = catalog.entities.get(ref)
        if entity is None:
            out.problems.append(f"{ref} is no longer in the catalog")
            continue
        if has_spec(entity, PersonSpec):
            add(person_recipient(entity, str(ref)))
        elif has_spec(entity, ScheduleSpec):
            person = on_call_at(entity.spec, when)
            if person is None:
                out.problems.append(f"nobody is on call on {entity.title} ({ref}) now")
                continue
            add(
                person_recipient(
                    catalog.typed(parse_ref(person, ("person",)), PersonSpec), str(ref)
                )
            )
        elif has_spec(entity, TeamSpec):
            # its active, contactable members, or its own address when it has none
            members = [
                member
                for member in (
                    catalog.typed(m, PersonSpec) for m in catalog.related(ref, "hasMember")
                )
                if member.spec.status == "active" and member.spec.contactable
            ]
            for member in members:
                add(person_recipient(member, str(ref)))
            if not members:
                emails = [c.address for c in entity.spec.contacts if c.type == "email"]
                channels = (ChannelSpec("email", emails[0]),) if emails else ()
                add(Recipient(str(ref), entity.title, str(ref), channels))
        else:  # the validator refuses this; a hand-built catalog gets told, not a crash
            out.problems.append(f"{ref} is a {ref.kind}: a step notifies schedules, people, teams")
    return out


def quiet_until(recipient: Recipient, when: datetime) -> datetime | None:
    """The end of the recipient's quiet hours if ``when`` falls inside them, else None.
    Quiet hours hold non-urgent notices (a resolve), never a page."""
    if recipient.quiet_hours is None:
        return None
    start, end, zone_name = recipient.quiet_hours
    zone = ZoneInfo(zone_name)
    local = when.astimezone(zone)
    now = local.time()
    crosses_midnight = end <= start
    inside = (start <= now or now < end) if crosses_midnight else (start <= now < end)
    if not inside:
        return None
    day = local.date()
    if not crosses_midnight or now >= start:
        day = day + timedelta(days=1) if crosses_midnight else day
    return datetime.combine(day, end, zone)


def quiet_until_of(catalog: Catalog, recipient: str, when: datetime) -> datetime | None:
    """:func:`quiet_until` for a stored recipient (``person:x``; a team has no quiet hours)."""
    try:
        ref = parse_ref(recipient, ("person",))
    except RefError:
        return None
    person = catalog.find(ref, PersonSpec)
    if person is None:
        return None
    return quiet_until(person_recipient(person, recipient), when)


CATCH_UP_GRACE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Where an escalation stands after a pause: its position, its round's (re-based) start,
    and the positions skipped."""

    position: int
    started: datetime
    skipped: tuple[int, ...] = ()


def catch_up(
    snapshot: PolicySnapshot,
    started: datetime,
    position: int,
    now: datetime,
    grace: timedelta = CATCH_UP_GRACE,
) -> CatchUp:
    """After the server was down (or paging was held), the steps overdue by more than
    ``grace`` collapse into the latest of them, sent now; the steps after it keep their
    spacing from now. Steps due within the grace (two steps with the same ``after``, a turn
    a second late) all go out as usual."""
    stale: list[int] = []
    while (due := snapshot.due_at(started, position + len(stale))) is not None and (
        due < now - grace
    ):
        stale.append(position + len(stale))
    if len(stale) <= 1:
        return CatchUp(position, started)
    latest = stale[-1]
    due_latest = snapshot.due_at(started, latest)
    assert due_latest is not None
    return CatchUp(latest, started + (now - due_latest), tuple(stale[:-1]))


def held_until(
    snapshot: PolicySnapshot, started: datetime, position: int, until: datetime
) -> datetime:
    """The round's start moved so that the step at ``position`` falls due at ``until`` (a
    maintenance hold): the steps after it keep their spacing."""
    due = snapshot.due_at(started, position)
    return started if due is None else started + (until - due)
