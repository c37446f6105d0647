"""The alerting state machines: every legal move is allowed, every other one refused with a
clear error, and the values are the strings the store and the API have always held."""

from __future__ import annotations

import itertools

import pytest

from infradex.alerting.model import (
    INCIDENT_MOVES,
    NOTICE_MOVES,
    EventKind,
    IllegalTransition,
    IncidentStatus,
    NoticeStatus,
    incident_move,
    notice_move,
)
from infradex.alerting.timeline import describe

LEGAL_INCIDENT_MOVES = {
    ("open", "acknowledged"),  # acknowledge, snooze
    ("open", "resolved"),  # recovered, resolved by hand, merged
    ("acknowledged", "acknowledged"),  # snooze again, acknowledge a snoozed one
    ("acknowledged", "open"),  # unacknowledge, a snooze ended
    ("acknowledged", "resolved"),
    ("resolved", "open"),  # reopened within the reopen window
}
LEGAL_NOTICE_MOVES = {
    ("pending", "sending"),  # claimed
    ("pending", "cancelled"),  # its incident resolved first
    ("pending", "failed"),  # a test message is not retried
    ("sending", "sending"),  # a lease ran out: claimed again
    ("sending", "sent"),
    ("sending", "pending"),  # retried later
    ("sending", "failed"),
}


def test_the_stored_strings_are_unchanged() -> None:
    assert [s.value for s in IncidentStatus] == ["open", "acknowledged", "resolved"]
    assert [s.value for s in NoticeStatus] == ["pending", "sending", "sent", "failed", "cancelled"]
    assert {k.value for k in EventKind} == {
        "opened", "reopened", "check_down", "check_up", "impacted", "merged", "detached",
        "resolved", "upstream_confirmed", "acknowledged", "unacknowledged", "snoozed", "note",
        "escalated",
        "caught_up", "snooze_ended", "paging_held", "unrouted", "notified", "notify_retry",
        "notify_failed",
    }  # fmt: skip
    # a StrEnum is its string: equal to it, formatted as it, hashed as it
    assert IncidentStatus.OPEN == "open" and f"{IncidentStatus.OPEN}" == "open"
    assert {"open": 1}[IncidentStatus.OPEN] == 1


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_INCIDENT_MOVES))
def test_every_legal_incident_move_is_allowed(current: str, target: str) -> None:
    assert incident_move(current, IncidentStatus(target)) is IncidentStatus(target)


@pytest.mark.parametrize(
    ("current", "target"),
    sorted(set(itertools.product(IncidentStatus, IncidentStatus)) - LEGAL_INCIDENT_MOVES),
)
def test_every_other_incident_move_is_refused(current: str, target: IncidentStatus) -> None:
    with pytest.raises(IllegalTransition) as refused:
        incident_move(current, target)
    assert f"from {current} to {target}" in str(refused.value)
    assert "it may move to" in str(refused.value)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL_NOTICE_MOVES))
def test_every_legal_notice_move_is_allowed(current: str, target: str) -> None:
    assert notice_move(current, NoticeStatus(target)) is NoticeStatus(target)


@pytest.mark.parametrize(
    ("current", "target"),
    sorted(set(itertools.product(NoticeStatus, NoticeStatus)) - LEGAL_NOTICE_MOVES),
)
def test_every_other_notice_move_is_refused(current: str, target: NoticeStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {target}"):
        notice_move(current, target)


def test_the_tables_are_exactly_the_legal_moves() -> None:
    assert {(a, b) for a, targets in INCIDENT_MOVES.items() for b in targets} == (
        LEGAL_INCIDENT_MOVES
    )
    assert {(a, b) for a, targets in NOTICE_MOVES.items() for b in targets} == LEGAL_NOTICE_MOVES


def test_a_final_status_says_so_and_an_unknown_one_is_named() -> None:
    with pytest.raises(IllegalTransition, match="none: it is final"):
        notice_move("sent", NoticeStatus.PENDING)
    with pytest.raises(IllegalTransition, match="'closed' is unknown; the statuses are open"):
        incident_move("closed", IncidentStatus.OPEN)


def test_every_event_kind_is_put_in_words() -> None:
    """A kind with its own sentence does not fall through to the generic last line."""
    generic = {EventKind.SNOOZE_ENDED, EventKind.PAGING_HELD, EventKind.UNROUTED,
               EventKind.ACKNOWLEDGED, EventKind.UNACKNOWLEDGED}  # fmt: skip
    data = {"check": "service:solo/home", "entity": "service:solo", "into": "provider:cdn",
            "kind": "trigger", "recipient": "person:sam", "channel": "email", "text": "t",
            "reason": "why"}  # fmt: skip
    for kind in EventKind:
        said = describe(kind, data)
        assert said, kind
        if kind not in generic:
            assert said != "why", kind
