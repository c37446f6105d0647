"""One escalation step as a pure function: the actions for an incident at an instant, without
a database. The fixture organisation's default policy: step 1 (0m) the staff schedule (Sam),
step 2 (15m) the volunteers (Val), one repeat."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from infradex.alerting.escalate import (
    MAINTENANCE_RECHECK,
    EndSnooze,
    Escalation,
    Page,
    Record,
    Reschedule,
    TellPolicyChannels,
    WaitForSnooze,
    escalation_step,
)
from infradex.alerting.model import EventKind, IncidentStatus
from infradex.catalog import Catalog
from infradex.catalog.refs import Ref
from infradex.channels.config import ChannelSpec
from infradex.oncall.escalation import PolicySnapshot, policy_for

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
SOLO = "service:solo/home"
SAM = "person:sam-staff"
VAL = "person:val-volunteer"


def opened(org: Catalog, **changes: object) -> Escalation:
    policy = PolicySnapshot.of(org, policy_for(org, Ref("service", "solo"))).to_dict()
    incident = Escalation(
        key="service:solo",
        status=IncidentStatus.OPEN,
        position=0,
        started=T0,
        snoozed_until=None,
        policy=policy,
        failing=(SOLO,),
    )
    return replace(incident, **changes)  # type: ignore[arg-type]


def pages(actions: list[object]) -> list[tuple[str, str]]:
    return [(a.recipient, a.channel.type) for a in actions if isinstance(a, Page)]


def test_a_new_incident_pages_step_1_and_waits_15_minutes_for_step_2(org: Catalog) -> None:
    actions = escalation_step(opened(org), org, T0, in_maintenance=())
    assert pages(actions) == [(SAM, "email")]
    page = next(a for a in actions if isinstance(a, Page))
    assert page.channel == ChannelSpec("email", "sam@example.org")
    assert "step 1 of Staff first, volunteers as backup." in page.reason
    assert isinstance(actions[0], TellPolicyChannels) and actions[0].kind == "trigger"
    [escalated] = [a for a in actions if isinstance(a, Record)]
    assert escalated.kind == EventKind.ESCALATED and escalated.data["step"] == 1
    assert actions[-1] == Reschedule(1, T0, T0 + timedelta(minutes=15))


def test_nothing_is_due_before_the_next_step(org: Catalog) -> None:
    incident = opened(org, position=1)
    actions = escalation_step(incident, org, T0 + timedelta(minutes=14), in_maintenance=())
    assert actions == [Reschedule(1, T0, T0 + timedelta(minutes=15))]
    actions = escalation_step(incident, org, T0 + timedelta(minutes=15), in_maintenance=())
    assert pages(actions) == [(VAL, "email")]
    assert isinstance(actions[-1], Reschedule) and actions[-1].position == 2


def test_the_second_round_says_so_and_the_last_step_ends_the_escalation(org: Catalog) -> None:
    snapshot = PolicySnapshot.from_dict(opened(org).policy)
    last = snapshot.positions - 1
    due = snapshot.due_at(T0, last)
    assert due is not None
    actions = escalation_step(opened(org, position=last), org, due, in_maintenance=())
    [page] = [a for a in actions if isinstance(a, Page)]
    assert "(round 2)." in page.reason
    assert actions[-1] == Reschedule(snapshot.positions, T0, None)


def test_an_acknowledged_incident_waits_for_its_snooze(org: Catalog) -> None:
    acked = opened(org, status=IncidentStatus.ACKNOWLEDGED, position=1)
    assert escalation_step(acked, org, T0, ()) == [WaitForSnooze(None)]
    until = T0 + timedelta(hours=1)
    snoozed = replace(acked, snoozed_until=until)
    assert escalation_step(snoozed, org, T0 + timedelta(minutes=59), ()) == [WaitForSnooze(until)]


def test_a_snooze_that_ended_starts_over_from_step_1(org: Catalog) -> None:
    at = T0 + timedelta(hours=1)
    snoozed = opened(org, status=IncidentStatus.ACKNOWLEDGED, position=1, snoozed_until=at)
    actions = escalation_step(snoozed, org, at, in_maintenance=())
    assert actions[:2] == [EndSnooze(), Record(EventKind.SNOOZE_ENDED)]
    assert pages(actions) == [(SAM, "email")]
    assert actions[-1] == Reschedule(1, at, at + timedelta(minutes=15))


def test_maintenance_over_every_failing_check_holds_the_step(org: Catalog) -> None:
    actions = escalation_step(opened(org), org, T0, in_maintenance={SOLO})
    recheck = T0 + MAINTENANCE_RECHECK
    assert actions == [
        Record(
            EventKind.PAGING_HELD,
            {"reason": "in a maintenance window: recorded, nobody paged"},
            once=True,
        ),
        Reschedule(0, T0 + MAINTENANCE_RECHECK, recheck),  # step 1 now falls due at recheck
    ]
    # one failing check outside the window: paging goes ahead
    both = opened(org, failing=(SOLO, "service:solo/api"))
    assert pages(escalation_step(both, org, T0, in_maintenance={SOLO})) == [(SAM, "email")]


def test_after_a_pause_only_the_latest_overdue_step_is_sent(org: Catalog) -> None:
    late = T0 + timedelta(minutes=20)
    actions = escalation_step(opened(org), org, late, in_maintenance=())
    [caught] = [a for a in actions if isinstance(a, Record) and a.kind == EventKind.CAUGHT_UP]
    assert caught.data == {"skipped": [1]}
    assert pages(actions) == [(VAL, "email")]


def test_an_incident_no_policy_reaches_says_why_and_pages_nobody(org: Catalog) -> None:
    actions = escalation_step(opened(org, policy=None), org, T0, in_maintenance=())
    [unrouted] = [a for a in actions if isinstance(a, Record)]
    assert unrouted.kind == EventKind.UNROUTED and unrouted.data["reason"]
    assert pages(actions) == []
    assert actions[-1] == Reschedule(0, T0, None)
