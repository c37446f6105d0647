"""Location problems paged as a policy asks (issue 16, docs/agents.md).

A *location problem* is a check run from several locations that one location (or fewer than
its quorum) sees down while the check itself is up: one bad network path, not an outage. It
opens no incident. An escalation policy may ask to hear of it (``locationProblems:
{channels: [...], severity: low}``): the policies that would page for the check's owner
(:func:`~infradex.oncall.routing.route`) and set ``locationProblems`` get **one** message per
channel per problem: per check, location and the moment that location went down
(``location_states.since``), whatever the number of results since, the number of alerter
turns, or of servers (the outbox's ``dedup_key`` decides). ``severity: low`` sends it as a
warning (not urgent: PagerDuty's ``warning``), ``high`` as urgent.

:func:`location_pages` is pure; :func:`page_location_problems` reads the problems and queues
the messages in the caller's transaction (the alerter's, under its leader lease).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting import outbox
from infradex.alerting.incidents import ref_of
from infradex.catalog.entities import Catalog
from infradex.channels.base import Message
from infradex.channels.config import ChannelSpec
from infradex.inert import one_line
from infradex.monitor.reads import LocationProblem, location_problems
from infradex.oncall.routing import route

__all__ = [
    "LOCATION_PROBLEMS_EVERY",
    "LocationPage",
    "location_pages",
    "page_location_problems",
    "render_location_problem",
]

#: how often the alerter looks for location problems (a scan of the locations seeing a check
#: down); a location problem is not urgent, a quarter of a minute late is fine
LOCATION_PROBLEMS_EVERY = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class LocationPage:
    """One message to send: a problem, the policy that asks for it, on one of its channels."""

    problem: LocationProblem
    policy: str  # escalationpolicy:NAME
    channel: ChannelSpec
    urgent: bool

    @property
    def dedup_key(self) -> str:
        """The same for every turn and every server that sees this problem: sent once."""
        p = self.problem
        facts = "\n".join(
            (p.check_id, p.location, p.since.isoformat(), self.policy, self.channel.type,
             self.channel.address)
        )  # fmt: skip
        return "location-problem:" + hashlib.sha256(facts.encode()).hexdigest()


def location_pages(catalog: Catalog, problems: Iterable[LocationProblem]) -> Iterator[LocationPage]:
    """The messages the problems call for: for each, every channel of ``locationProblems`` of
    each policy the check's owner routes to (none without ``locationProblems``)."""
    for problem in problems:
        for policy in route(catalog, ref_of(problem.check_id)).policies:
            asked = policy.spec.location_problems
            if asked is None:
                continue
            for written in asked.channels:
                channel = written.spec(None)
                if channel is not None:
                    yield LocationPage(problem, str(policy.ref), channel, asked.severity == "high")


def render_location_problem(page: LocationPage, now: datetime) -> Message:
    """What the message says (catalog text and the agent's message made one inert line)."""
    p = page.problem
    check, location = one_line(p.check_id), one_line(p.location)
    subject = f"[infradex] Location problem: {check} down from {location} only"
    lines = [
        f"{check} fails from {location} since {p.since:%Y-%m-%d %H:%M} UTC, but not from",
        "enough locations to be an outage (its quorum): a network path or the probe agent's",
        "data center, more likely than the service itself. No incident is open.",
        "",
        f"What {location} saw last: {one_line(p.message)[:300]}",
        f"Sent at {now:%Y-%m-%d %H:%M} UTC, once for this problem, as {page.policy} asks",
        "(locationProblems).",
    ]
    text = "\n".join(lines) + "\n"
    html = Markup("<!doctype html><html><body>{}</body></html>").format(
        Markup("").join(Markup("<p>{}</p>").format(line) for line in lines if line)
    )
    return Message(
        kind="trigger",
        subject=subject,
        text=text,
        html=str(html),
        incident={
            # no incident: an id of its own, so a channel threads (email) or deduplicates
            # (PagerDuty) this problem's messages apart from any incident's
            "id": page.dedup_key.removeprefix("location-problem:")[:16],
            "key": p.check_id,
            "title": f"location problem: {p.check_id} down from {p.location} only",
            "status": "location-problem",
            "root": str(ref_of(p.check_id)),
            "location": p.location,
            "since": p.since.isoformat(),
            "impacted": [],
            "url": "",
        },
        links={},
        urgent=page.urgent,
    )


async def page_location_problems(
    connection: AsyncConnection, catalog: Catalog, now: datetime
) -> int:
    """Queue a message for each location problem not yet told; returns how many."""
    problems = await location_problems(connection, catalog, now)
    queued = 0
    for page in location_pages(catalog, problems):
        queued += await outbox.enqueue_once(
            connection,
            page.dedup_key,
            channel=page.channel.type,
            kind="trigger",
            recipient=page.policy,
            address=page.channel.address,
            options=dict(page.channel.options),
            message=render_location_problem(page, now),
            now=now,
        )
    return queued
