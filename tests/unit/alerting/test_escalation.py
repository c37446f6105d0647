"""Escalation policies against the catalog: which policy, when each step is due, who is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infradex.catalog import Catalog
from infradex.catalog.refs import Ref
from infradex.lint import load
from infradex.oncall.escalation import (
    PolicySnapshot,
    person_recipient,
    policy_for,
    quiet_until,
    recipients,
)

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_default_policy_for_providers_and_services_without_one(org: Catalog) -> None:
    for ref in (Ref("provider", "edgecdn"), Ref("service", "solo")):
        policy = policy_for(org, ref)
        assert policy is not None and policy.name == "staff-first"


def test_service_policy_wins_over_team_policy_which_wins_over_default(
    tmp_path: Path, write_catalog
) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        tmp_path,
        {
            "c.yaml": """\
            apiVersion: infradex/v1
            kind: Team
            metadata: {name: web}
            spec: {escalation: team-policy}
            ---
            apiVersion: infradex/v1
            kind: Service
            metadata: {name: a}
            spec: {owners: [{ref: team:web}], escalation: own-policy}
            ---
            apiVersion: infradex/v1
            kind: Service
            metadata: {name: b}
            spec: {owners: [{ref: team:web}]}
            ---
            apiVersion: infradex/v1
            kind: Service
            metadata: {name: c}
            spec: {}
            ---
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: p}
            spec: {email: p@example.org}
            ---
            apiVersion: infradex/v1
            kind: EscalationPolicy
            metadata: {name: own-policy}
            spec: {steps: [{notify: [person:p]}]}
            ---
            apiVersion: infradex/v1
            kind: EscalationPolicy
            metadata: {name: team-policy}
            spec: {steps: [{notify: [person:p]}]}
            ---
            apiVersion: infradex/v1
            kind: EscalationPolicy
            metadata: {name: fallback}
            spec: {default: true, steps: [{notify: [person:p]}]}
            """
        },
    )
    catalog = load(root).catalog
    assert catalog is not None
    names = {s: policy_for(catalog, Ref("service", s)) for s in "abc"}
    assert {s: p.name for s, p in names.items() if p} == {
        "a": "own-policy",
        "b": "team-policy",
        "c": "fallback",
    }


def test_two_default_policies_are_an_error(tmp_path: Path, write_catalog) -> None:  # type: ignore[no-untyped-def]
    policy = (
        "apiVersion: infradex/v1\nkind: EscalationPolicy\nmetadata: {name: NAME}\n"
        "spec: {default: true, steps: [{notify: [person:p]}]}\n---\n"
    )
    root = write_catalog(
        tmp_path,
        {
            "c.yaml": policy.replace("NAME", "one")
            + policy.replace("NAME", "two")
            + "apiVersion: infradex/v1\nkind: Person\nmetadata: {name: p}\nspec: {}\n"
        },
    )
    loaded = load(root)
    assert loaded.catalog is None
    [problem] = loaded.errors
    assert "default: true" in problem.message and "one, two" in problem.message


def test_steps_out_of_order_are_refused(tmp_path: Path, write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        tmp_path,
        {
            "c.yaml": """\
            apiVersion: infradex/v1
            kind: EscalationPolicy
            metadata: {name: x}
            spec: {steps: [{after: 30m, notify: [person:p]}, {after: 5m, notify: [person:p]}]}
            ---
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: p}
            spec: {}
            """
        },
    )
    [problem] = load(root).errors
    assert "in order of `after`" in problem.message


def test_snapshot_schedule_of_steps_and_repeats(org: Catalog) -> None:
    snap = PolicySnapshot.of(org, policy_for(org, Ref("service", "solo")))
    assert snap.positions == 4  # two steps, repeated once
    assert snap.cycle == timedelta(minutes=30)  # last step 15m + the 15m gap before it
    due = [snap.due_at(T0, p) for p in range(5)]
    assert due == [
        T0,
        T0 + timedelta(minutes=15),
        T0 + timedelta(minutes=30),
        T0 + timedelta(minutes=45),
        None,
    ]
    assert PolicySnapshot.from_dict(snap.to_dict()) == snap


def test_recipients_follow_the_schedule_at_that_instant(org: Catalog) -> None:
    first = recipients(org, ("schedule:staff",), T0)
    assert [r.ref for r in first.recipients] == ["person:sam-staff"]
    assert first.recipients[0].channels[0].address == "sam@example.org"
    team = recipients(org, ("team:ops", "person:sam-staff"), T0)
    assert [r.ref for r in team.recipients] == ["person:sam-staff", "person:val-volunteer"]


def test_a_schedule_gap_is_a_problem_not_a_crash(tmp_path: Path, write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        tmp_path,
        {
            "c.yaml": """\
            apiVersion: infradex/v1
            kind: Schedule
            metadata: {name: weekdays}
            spec:
              layers:
                - name: l
                  members: [person:p]
                  start: "2024-01-01"
                  restrictions: [{days: [Mon, Tue, Wed, Thu, Fri], start: "09:00", end: "17:00"}]
            ---
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: p}
            spec: {email: p@example.org}
            """
        },
    )
    catalog = load(root).catalog
    assert catalog is not None
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    found = recipients(catalog, ("schedule:weekdays",), saturday)
    assert found.recipients == [] and "nobody is on call" in found.problems[0]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Amsterdam is UTC+1 in November: 22:00-07:00 local is 21:00-06:00 UTC
        (datetime(2026, 11, 26, 20, 59, tzinfo=UTC), None),
        (datetime(2026, 11, 26, 21, 0, tzinfo=UTC), datetime(2026, 11, 27, 6, 0, tzinfo=UTC)),
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), datetime(2026, 11, 27, 6, 0, tzinfo=UTC)),
        (datetime(2026, 11, 27, 6, 0, tzinfo=UTC), None),
        # summer time: UTC+2, so quiet until 05:00 UTC
        (datetime(2026, 7, 1, 1, 0, tzinfo=UTC), datetime(2026, 7, 1, 5, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_in_the_persons_own_zone(
    org: Catalog, utc: datetime, expected: datetime | None
) -> None:
    val = person_recipient(org.get(Ref("person", "val-volunteer")), "team:ops")
    found = quiet_until(val, utc)
    assert found == expected


def test_catch_up_sends_the_latest_overdue_step_and_keeps_the_spacing(org: Catalog) -> None:
    from infradex.oncall.escalation import catch_up, held_until

    snap = PolicySnapshot.of(org, policy_for(org, Ref("service", "solo")))  # 0m, 15m; x2
    # on time: nothing to skip
    assert catch_up(snap, T0, 0, T0).skipped == ()
    assert catch_up(snap, T0, 1, T0 + timedelta(minutes=15, seconds=30)).skipped == ()
    # 40 minutes late at position 1: steps at 15m and 30m are overdue; 30m (position 2) is
    # the latest, due now; position 3 keeps its 15 minutes after it
    now = T0 + timedelta(minutes=40)
    caught = catch_up(snap, T0, 1, now)
    assert caught.skipped == (1,) and caught.position == 2
    assert snap.due_at(caught.started, 2) == now
    assert snap.due_at(caught.started, 3) == now + timedelta(minutes=15)
    # a hold moves the round so the held step falls due when the hold ends
    until = T0 + timedelta(hours=1)
    moved = held_until(snap, T0, 1, until)
    assert snap.due_at(moved, 1) == until and snap.due_at(moved, 2) == until + timedelta(minutes=15)


def test_secrets_written_in_the_catalog_are_warned_about(tmp_path: Path, write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        tmp_path,
        {
            "c.yaml": """\
            apiVersion: infradex/v1
            kind: EscalationPolicy
            metadata: {name: p}
            spec:
              steps: [{notify: [person:x]}]
              channels:
                - {type: pagerduty, routingKey: 0123456789abcdef0123456789abcdef}
                - {type: pagerduty, routingKey: "env:PD_KEY"}
                - {type: webhook, url: "https://example.org/hook", secret: "env:HOOK"}
            ---
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: x}
            spec:
              email: x@example.org
              alerting: {channels: [{type: slack, url: "https://hooks.example.org/T/B/x"}]}
            """
        },
    )
    warnings = [p for p in load(root).warnings if p.code == "secret-in-catalog"]
    assert [(w.entity, w.field) for w in warnings] == [
        ("escalationpolicy:p", "spec.channels[0].routingKey"),
        ("person:x", "spec.alerting.channels[0].url"),
    ]
    assert "env:NAME" in warnings[0].hint
