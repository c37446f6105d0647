"""What subscribers are sent, and where their links lead (docs/status-page.md,
"Subscribers"). Pure.

Every notice carries a one-click unsubscribe link (the email also as ``List-Unsubscribe``
with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, RFC 8058); the confirmation mail
carries only the link that confirms. Mail is plain text: the words people wrote for the
page, with no markup to escape. Links lead to the status page's own address:
``INFRADEX_STATUS_URL``, else its host (``INFRADEX_STATUS_HOST``), else
``INFRADEX_BASE_URL``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from infradex.channels.base import Message
from infradex.statuspage.subscriber_tokens import make_token

if TYPE_CHECKING:
    from infradex.settings import Settings

__all__ = [
    "CONFIRM_FOR",
    "CONFIRM_PATH",
    "EVENT_KINDS",
    "SUBSCRIBE_PATH",
    "UNSUBSCRIBE_PATH",
    "StatusEvent",
    "SubscriberLinks",
    "confirmation_message",
    "notice_message",
    "public_root",
]

SUBSCRIBE_PATH = "/status/subscribe"
CONFIRM_PATH = "/status/confirm"
UNSUBSCRIBE_PATH = "/status/unsubscribe"
CONFIRM_FOR = timedelta(hours=48)  # how long a confirmation link works

#: the first words of a notice's subject, by event kind (the kinds there are)
_HEADLINE = {
    "incident.published": "Incident",
    "incident.updated": "Update",
    "incident.resolved": "Resolved",
    "incident.postmortem": "Postmortem",
    "maintenance.scheduled": "Scheduled maintenance",
    "maintenance.reminder": "Maintenance soon",
    "maintenance.started": "Maintenance in progress",
    "maintenance.completed": "Maintenance completed",
}
EVENT_KINDS = tuple(_HEADLINE)


def public_root(settings: Settings) -> str | None:
    """The status page's public address as configured: ``INFRADEX_STATUS_URL``, else
    ``https://`` + ``INFRADEX_STATUS_HOST``, else ``INFRADEX_BASE_URL`` when it was set (not
    the listener's address ``serve`` fills in); None when none is."""
    if settings.status_url:
        return settings.status_url.rstrip("/")
    if settings.status_host:
        return f"https://{settings.status_host}"
    if settings.base_url_given:
        return settings.base_url.rstrip("/")
    return None


def _line(text: str) -> str:
    """One line (a subject, a title): mail headers take no line breaks."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class SubscriberLinks:
    """The status page's public address and name, and the key that signs the links."""

    root: str  # https://status.python.org, or INFRADEX_BASE_URL; no trailing slash
    page_name: str
    secret_key: str

    @classmethod
    def from_settings(cls, settings: Settings, secret_key: str) -> SubscriberLinks:
        """Links to the page's public address, else the server's (a person publishing
        through the server reaches it there)."""
        root = public_root(settings) or settings.base_url.rstrip("/")
        return cls(root, settings.status_name, secret_key)

    @classmethod
    def configured(cls, settings: Settings, secret_key: str) -> SubscriberLinks | None:
        """Links to an address someone configured (:func:`public_root`); None when nobody
        did: what the server publishes by itself must not send a link that leads nowhere."""
        root = public_root(settings)
        return None if root is None else cls(root, settings.status_name, secret_key)

    @property
    def page(self) -> str:
        return self.root + "/status"

    def _link(self, path: str, token: str) -> str:
        return f"{self.root}{path}?token={quote(token, safe='')}"

    def confirm(self, subscriber_id: int, nonce: str, expires: datetime) -> str:
        token = make_token(self.secret_key, "confirm", subscriber_id, nonce, expires)
        return self._link(CONFIRM_PATH, token)

    def unsubscribe(self, subscriber_id: int, nonce: str) -> str:
        token = make_token(self.secret_key, "unsubscribe", subscriber_id, nonce, None)
        return self._link(UNSUBSCRIBE_PATH, token)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One public event subscribers are told of: an incident published, updated or
    resolved, its postmortem published, or a maintenance scheduled, started or completed
    (:data:`EVENT_KINDS`)."""

    kind: str
    subject_id: int  # the public incident's id, or the maintenance window's
    update_id: str  # the incident update's id; a maintenance: its occurrence and step
    component_ids: tuple[str, ...]  # the public components it touches (none: tell everyone)
    title: str  # public words only
    body: str
    status: str  # investigating, …, resolved; scheduled, in_progress, completed
    at: datetime
    component_names: tuple[str, ...] = ()  # for the mail's text

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown status event {self.kind!r}; one of {EVENT_KINDS}")

    @property
    def subject(self) -> str:
        return self.kind.split(".", 1)[0]

    @property
    def key(self) -> str:
        """The same for every call about the same update: with the subscriber, the
        outbox's idempotency key."""
        return f"{self.subject}:{self.subject_id}:{self.update_id}"


def confirmation_message(
    links: SubscriberLinks, subscriber_id: int, nonce: str, expires: datetime,
    components: Sequence[str],
) -> Message:  # fmt: skip
    """The one mail an unconfirmed address gets: the link that confirms."""
    which = ", ".join(components) if components else "every component"
    text = (
        f"Someone, probably you, asked to be told by email about incidents and maintenance "
        f"on {links.page_name} ({links.page}), for: {which}.\n\n"
        f"Confirm: {links.confirm(subscriber_id, nonce, expires)}\n\n"
        "The link works once, for 48 hours. If you did not ask, ignore this mail: nothing "
        "more will be sent to this address.\n"
    )
    return Message(
        kind="subscription.confirm",
        subject=_line(f"Confirm your subscription to {links.page_name}"),
        text=text,
        links={"confirm": links.confirm(subscriber_id, nonce, expires)},
        urgent=False,
    )


def notice_message(
    links: SubscriberLinks, notice: StatusEvent, subscriber_id: int, nonce: str
) -> Message:
    """A notice of ``notice`` for one subscriber, with its own unsubscribe link."""
    unsubscribe = links.unsubscribe(subscriber_id, nonce)
    headline = _HEADLINE.get(notice.kind, "Update")
    named = notice.component_names
    affected = ", ".join(named) if named else "see the status page"
    text = (
        f"{_line(notice.title)}\n"
        f"{headline} ({notice.status}), {notice.at.strftime('%Y-%m-%d %H:%M UTC')}\n\n"
        f"{notice.body.strip()}\n\n"
        f"Affected: {affected}\n"
        f"Status page: {links.page}\n\n"
        f"You get this because you subscribed to {links.page_name}.\n"
        f"Unsubscribe: {unsubscribe}\n"
    )
    event: dict[str, Any] = {
        "id": f"{notice.subject}-{notice.subject_id}",
        "type": notice.subject,
        "event": notice.kind,
        "status": notice.status,
        "name": notice.title,
        "body": notice.body,
        "components": list(notice.component_ids),
        "updateId": notice.update_id,
        "at": notice.at.isoformat(),
    }
    return Message(
        kind=notice.kind,
        subject=_line(f"[{links.page_name}] {headline}: {notice.title}"),
        text=text,
        incident=event,
        links={"status": links.page, "unsubscribe": unsubscribe},
        urgent=False,
    )
