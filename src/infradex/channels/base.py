"""The protocol every notifier implements, and the message they all send.

A :class:`Message` is rendered once, when its outbox row is queued, and stored with the row:
a retry an hour later says exactly what the first attempt said. A notifier turns it into its
transport's form (an email, a JSON body, a PagerDuty event) and either returns what the other
side answered or raises :class:`NotifyError`, saying whether trying again could help.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol

from infradex.secretrefs import MissingSecret, resolve

__all__ = ["Message", "Notifier", "NotifyError", "Target", "expand_secret"]


@dataclass(frozen=True, slots=True)
class Message:
    """What one notification says. ``kind`` is ``trigger`` (a page), ``acknowledge``,
    ``resolve``, ``reopen`` or ``test``; ``incident`` is the incident as JSON (id, key, title,
    status, root, impacted, url) or None for a test; ``links`` holds ``incident`` and, for
    pages, one-click ``acknowledge`` and ``resolve`` URLs."""

    kind: str
    subject: str
    text: str
    html: str | None = None
    incident: dict[str, Any] | None = None
    links: dict[str, str] = field(default_factory=dict)
    urgent: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class Target:
    """Where one notification goes: an email address, a URL or a PagerDuty routing key,
    plus the channel's options (a webhook's signing secret). Values written ``env:NAME`` are
    read from the environment when sending, never stored."""

    address: str
    options: dict[str, str] = field(default_factory=dict)


class NotifyError(Exception):
    """Sending failed. ``permanent``: trying again cannot help (a refused address, a 4xx
    from a webhook other than 408/429); otherwise the outbox retries with backoff."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the other side asked us to wait (429)


class Notifier(Protocol):
    """Sends one message to one target; returns the other side's answer in a few words.

    ``delivery`` is the outbox row's id, the same on every attempt: receivers use it to drop
    the duplicate a crash between their acceptance and our commit can cause
    (``X-Infradex-Delivery``, the email's Message-ID, PagerDuty's ``dedup_key`` per incident).
    """

    channel: ClassVar[str]

    async def send(self, target: Target, message: Message, delivery: str) -> str: ...


def expand_secret(value: str, what: str) -> str:
    """``env:NAME`` or ``file:PATH`` → the secret (:mod:`infradex.secretrefs`); anything
    else as written. A missing one is a transient failure: set it and the row is retried."""
    try:
        return resolve(value, what)
    except MissingSecret as exc:
        raise NotifyError(f"{exc}, and the notification is retried") from None
