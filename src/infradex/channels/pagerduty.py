"""PagerDuty, through its Events API v2: infradex pages and PagerDuty escalates.

The target's address is the routing key: the "Integration Key" of an Events API v2
integration on a PagerDuty service (or ``env:NAME``). Every message of one incident carries
the same ``dedup_key`` (``infradex-incident-<id>``), so PagerDuty keeps one alert per
incident: ``trigger``, ``reopen`` and ``test`` messages send ``event_action: trigger``,
``acknowledge`` and ``resolve`` send those actions. A trigger after PagerDuty resolved the
alert opens a new one, which is what a reopen should do. A test message has no incident and
gets ``infradex-test-<delivery>``.

A trigger's ``payload``: ``summary`` (the subject, at most 1024 characters), ``source`` (the
incident's root, e.g. ``provider:fastly``), ``severity`` (``critical`` for an urgent message,
else ``warning``), ``timestamp`` (ISO 8601, when sent), ``group`` and ``component`` (the
root's kind and name), ``class`` and ``custom_details`` (the incident as JSON); beside it
``links``, ``client: infradex`` and ``client_url`` (the incident page). Acknowledge and
resolve events carry only ``routing_key``, ``event_action`` and ``dedup_key``.

Answers: 202 ``{"status": "success", "dedup_key": …}``; 400 is permanent and its ``errors``
are quoted; 429, 5xx and no answer are retried. Checked against PagerDuty's own reference:
developer-docs ``docs/events-API-v2/02-Trigger-Events.md`` (fields, the 32-character
routing key, 255-character dedup_key, 1024-character summary, severities) and api-schema
``reference/events-v2/openapiv3.json`` (required fields, response codes and retry advice).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import model_validator

from infradex.channels.base import Message, Notifier, NotifyError, Target, expand_secret
from infradex.channels.config import ChannelConfig, ChannelSpec
from infradex.channels.http import (
    HttpAnswer,
    HttpNotifier,
    check_url,
    http_error,
    post_json,
)
from infradex.clock import utcnow

if TYPE_CHECKING:
    from infradex.settings import Settings

__all__ = [
    "EVENTS_URL",
    "PagerDutyChannel",
    "PagerDutyNotifier",
    "dedup_key",
    "event_action",
    "pagerduty_event",
]

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_LIMIT = 1024  # characters of payload.summary
_ACTIONS = {
    "trigger": "trigger",
    "reopen": "trigger",
    "test": "trigger",
    "acknowledge": "acknowledge",
    "resolve": "resolve",
}
_LINK_TEXT = {"incident": "Open incident", "acknowledge": "Acknowledge", "resolve": "Resolve"}


def event_action(message: Message) -> str:
    """The Events API action for a message kind; a permanent error for an unknown kind."""
    try:
        return _ACTIONS[message.kind]
    except KeyError:
        raise NotifyError(
            f"PagerDuty has no event for a {message.kind!r} message; the kinds are "
            + ", ".join(sorted(_ACTIONS)),
            permanent=True,
        ) from None


def dedup_key(message: Message, delivery: str) -> str:
    """The same for every message of one incident."""
    if message.incident is None:
        return f"infradex-test-{delivery}"
    return f"infradex-incident-{message.incident['id']}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pagerduty_event(
    message: Message, routing_key: str, delivery: str, now: datetime
) -> dict[str, Any]:
    """The Events API v2 body for ``message``."""
    action = event_action(message)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(message, delivery),
    }
    if action != "trigger":
        return event
    incident = message.incident
    payload: dict[str, Any] = {
        "summary": _cut(message.subject.strip() or "infradex notification", SUMMARY_LIMIT),
        "source": "infradex",
        "severity": "critical" if message.urgent else "warning",
        "timestamp": now.isoformat(timespec="seconds"),
        "class": "test" if incident is None else "incident",
        "custom_details": incident if incident is not None else {"text": message.text},
    }
    root = incident.get("root") if incident is not None else None
    if root:
        kind, _, name = str(root).partition(":")
        payload["source"] = str(root)
        payload["group"] = kind
        payload["component"] = name or kind
    event["payload"] = payload
    event["client"] = "infradex"
    if message.links.get("incident"):
        event["client_url"] = message.links["incident"]
    event["links"] = [
        {"href": url, "text": _LINK_TEXT.get(name, name)}
        for name, url in message.links.items()
        if url
    ]
    return event


def _refusal(answer: HttpAnswer) -> NotifyError:
    """PagerDuty's 400: the event is invalid; say what it said."""
    data = answer.json()
    said = answer.quote()
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            said = "; ".join(str(error) for error in errors)
        elif data.get("message"):
            said = str(data["message"])
    return NotifyError(
        f"PagerDuty refused the event (HTTP 400): {said}; check the target's routing key (the "
        "32-character Integration Key of an Events API v2 integration on the service)",
        permanent=True,
    )


class PagerDutyChannel(ChannelConfig):
    """``type: pagerduty``: ``routingKey``, the Events API v2 integration key."""

    type: Literal["pagerduty"]
    routing_key: str | None = None

    secrets: ClassVar[frozenset[str]] = frozenset({"routingKey"})
    #: PagerDuty's own acknowledge and resolve: its pages carry no one-click links
    acknowledges_itself: ClassVar[bool] = True

    @model_validator(mode="after")
    def _has_key(self) -> PagerDutyChannel:
        if not self.routing_key:
            raise ValueError(
                "a pagerduty channel needs `routingKey:` (the Events API v2 integration key, "
                "or `env:NAME`)"
            )
        return self

    def spec(self, default_email: str | None) -> ChannelSpec:
        return ChannelSpec("pagerduty", self.routing_key or "")

    @classmethod
    def notifier(cls, settings: Settings) -> Notifier:
        return PagerDutyNotifier(settings.pagerduty_events_url, ca_file=settings.ca_file)


class PagerDutyNotifier(HttpNotifier):
    channel: ClassVar[str] = "pagerduty"

    def __init__(
        self,
        events_url: str = EVENTS_URL,
        timeout: float = 10.0,
        ca_file: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(timeout, ca_file, clock)
        self.events_url = events_url

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        routing_key = expand_secret(target.address, "the PagerDuty routing key").strip()
        if not routing_key:
            raise NotifyError(
                "the PagerDuty target has no routing key; set its address to the Integration "
                "Key of an Events API v2 integration (or env:NAME)",
                permanent=True,
            )
        check_url(self.events_url, "PagerDuty events URL")
        now = self.clock()
        event = pagerduty_event(message, routing_key, delivery, now)
        body = json.dumps(event, separators=(",", ":"), default=str)
        answer = await post_json(
            self.events_url, body, (), timeout=self.timeout, ca_file=self.ca_file
        )
        if answer.ok:
            data = answer.json()
            key = data.get("dedup_key") if isinstance(data, dict) else None
            return (
                f"PagerDuty accepted the {event['event_action']} (HTTP {answer.status}, "
                f"dedup_key {key or event['dedup_key']})"
            )
        if answer.status == 400:
            raise _refusal(answer)
        raise http_error(answer, "PagerDuty", now)
