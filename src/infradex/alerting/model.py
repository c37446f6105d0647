"""The alerting vocabulary: an incident's status, its timeline's event kinds and an outbox
row's status, each a ``StrEnum`` whose values are the strings stored in the database and shown
in the API (so typing them changed no stored row and no JSON), with each state machine's legal
moves written once as a table.

Every writer of a status asks :func:`incident_move` or :func:`notice_move` before it writes:
an illegal move is a bug, refused with :class:`IllegalTransition` naming the move and the
legal ones, rather than a row in a state nothing else expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

__all__ = [
    "INCIDENT_MOVES",
    "NOTICE_MOVES",
    "EventKind",
    "IllegalTransition",
    "IncidentStatus",
    "NoticeStatus",
    "incident_move",
    "notice_move",
]


class IncidentStatus(StrEnum):
    OPEN = "open"  # escalating (or held, or waiting for its next step)
    ACKNOWLEDGED = "acknowledged"  # someone took it; a snooze is an acknowledgement with an end
    RESOLVED = "resolved"  # its checks recovered, or someone resolved it by hand

    @property
    def is_open(self) -> bool:
        """Not resolved: open or acknowledged (what ``?status=open`` lists)."""
        return self is not IncidentStatus.RESOLVED


class EventKind(StrEnum):
    """The kinds of an incident's timeline events (``incident_events.kind``); each is put in
    words by :func:`infradex.alerting.timeline.describe`."""

    # the correlator: checks and incidents
    OPENED = "opened"
    REOPENED = "reopened"
    CHECK_DOWN = "check_down"
    CHECK_UP = "check_up"
    IMPACTED = "impacted"
    MERGED = "merged"
    DETACHED = "detached"
    RESOLVED = "resolved"  # by recovery or by hand (``data.by``)
    UPSTREAM_CONFIRMED = "upstream_confirmed"  # the provider's own status page reports it
    # people
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    SNOOZED = "snoozed"
    NOTE = "note"
    # escalation
    ESCALATED = "escalated"
    CAUGHT_UP = "caught_up"
    SNOOZE_ENDED = "snooze_ended"
    PAGING_HELD = "paging_held"
    UNROUTED = "unrouted"
    # delivery (the dispatcher)
    NOTIFIED = "notified"
    NOTIFY_RETRY = "notify_retry"
    NOTIFY_FAILED = "notify_failed"


class NoticeStatus(StrEnum):
    """An outbox row (``notifications.status``)."""

    PENDING = "pending"  # waiting for its time (first try, a retry, or quiet hours)
    SENDING = "sending"  # claimed by a dispatcher under a lease
    SENT = "sent"  # the transport confirmed it
    FAILED = "failed"  # permanently, or out of attempts
    CANCELLED = "cancelled"  # a page still waiting when its incident resolved


_I = IncidentStatus
#: status → the statuses it may move to. Acknowledged → acknowledged: a snooze or a new
#: acknowledgement replaces a snooze. Resolved → open: a reopening within the reopen window.
INCIDENT_MOVES: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    _I.OPEN: frozenset({_I.ACKNOWLEDGED, _I.RESOLVED}),
    _I.ACKNOWLEDGED: frozenset({_I.ACKNOWLEDGED, _I.OPEN, _I.RESOLVED}),
    _I.RESOLVED: frozenset({_I.OPEN}),
}

_N = NoticeStatus
#: Sending → sending: a row whose lease ran out is claimed again by another dispatcher.
#: Sending → pending: a retry later. Pending → failed: a retry given up (``infradex alert
#: test`` never retries). Sent, failed and cancelled are final.
NOTICE_MOVES: Mapping[NoticeStatus, frozenset[NoticeStatus]] = {
    _N.PENDING: frozenset({_N.SENDING, _N.CANCELLED, _N.FAILED}),
    _N.SENDING: frozenset({_N.SENDING, _N.SENT, _N.PENDING, _N.FAILED}),
    _N.SENT: frozenset(),
    _N.FAILED: frozenset(),
    _N.CANCELLED: frozenset(),
}


S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ValueError):
    """A status move its state machine does not allow (a bug in the caller, not bad input)."""


def _move(what: str, moves: Mapping[S, frozenset[S]], kind: type[S], current: str, target: S) -> S:
    try:
        source = kind(current)
    except ValueError:
        raise IllegalTransition(
            f"{what} status {current!r} is unknown; the statuses are "
            + ", ".join(s.value for s in kind)
        ) from None
    allowed = moves[source]
    if target not in allowed:
        legal = ", ".join(sorted(s.value for s in allowed)) or "none: it is final"
        raise IllegalTransition(
            f"{what} cannot move from {source.value} to {target.value}; from {source.value} "
            f"it may move to {legal}"
        )
    return target


def incident_move(current: str, target: IncidentStatus) -> IncidentStatus:
    """``target`` if an incident may move there from ``current``; else
    :class:`IllegalTransition`."""
    return _move("an incident", INCIDENT_MOVES, IncidentStatus, current, target)


def notice_move(current: str, target: NoticeStatus) -> NoticeStatus:
    """``target`` if an outbox row may move there from ``current``; else
    :class:`IllegalTransition`."""
    return _move("a notification", NOTICE_MOVES, NoticeStatus, current, target)
