"""A channel kind that exists only in the tests, written as a new kind is (docs/notifiers.md,
"Adding a channel"): its catalog model, validation, secret and public fields, spec and
notifier in this one module. The test registers it (``CHANNELS["recording"]``) and touches
nothing else. Its notifier keeps what it is asked to send, with the token resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import field_validator

from infradex.channels.base import Message, Notifier, Target, expand_secret
from infradex.channels.config import ChannelConfig, ChannelSpec
from infradex.settings import Settings


@dataclass(frozen=True)
class Sent:
    room: str
    token: str | None
    message: Message
    delivery: str


class RecordingChannel(ChannelConfig):
    """``type: recording``: ``room`` (public), ``token`` (a secret)."""

    type: Literal["recording"]
    room: str
    token: str | None = None

    public: ClassVar[frozenset[str]] = frozenset({"type", "room"})
    secrets: ClassVar[frozenset[str]] = frozenset({"token"})

    @field_validator("room")
    @classmethod
    def _room_is_a_name(cls, value: str) -> str:
        if not value.replace("-", "").isalnum():
            raise ValueError(f"room {value!r} must be letters, digits and -, e.g. ops-room")
        return value

    def spec(self, default_email: str | None) -> ChannelSpec:
        options = (("token", self.token),) if self.token else ()
        return ChannelSpec("recording", self.room, options)

    @classmethod
    def notifier(cls, settings: Settings) -> Notifier:
        return RecordingNotifier()


@dataclass
class RecordingNotifier:
    channel: ClassVar[str] = "recording"
    sent: list[Sent] = field(default_factory=list)

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        token = target.options.get("token")
        token = expand_secret(token, "the recording token") if token else None
        self.sent.append(Sent(target.address, token, message, delivery))
        return f"recorded in {target.address}"

    def to(self, room: str) -> list[Sent]:
        return [s for s in self.sent if s.room == room]


class SelfAcknowledgingChannel(RecordingChannel):
    """The same kind, declaring its own acknowledge (as PagerDuty does)."""

    acknowledges_itself: ClassVar[bool] = True
