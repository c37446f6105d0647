"""The channel registry: every channel kind the catalog may name (``type:`` in a person's
``alerting.channels`` or a policy's ``channels``), mapped to its module's
:class:`~infradex.channels.config.ChannelConfig` subclass. Nothing else names a channel kind:

- the catalog validates each channel entry with its kind's model (:data:`NotifyChannel`,
  looked up here when a document is validated);
- ``lint`` and the redaction ask the kind for its secret and public fields;
- the escalation turns an entry into a :class:`~infradex.channels.config.ChannelSpec`;
- the alerter asks whether a kind acknowledges by itself (:func:`acknowledges_itself`);
- a server builds one notifier per kind (:func:`notifiers_for`).

Adding a channel (Matrix, Zulip) is one module ``channels/<kind>.py`` and one entry in
:data:`CHANNELS` (docs/notifiers.md, "Adding a channel").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from infradex.channels.config import ChannelConfig
from infradex.channels.email import EmailChannel
from infradex.channels.irc import IrcChannel
from infradex.channels.pagerduty import PagerDutyChannel
from infradex.channels.slack import SlackChannel
from infradex.channels.webhook import SubscriberWebhookNotifier, WebhookChannel

if TYPE_CHECKING:
    from infradex.channels.base import Notifier
    from infradex.settings import Settings

__all__ = ["CHANNELS", "NotifyChannel", "acknowledges_itself", "channel_kind", "notifiers_for"]

#: channel kind (``type:`` as the catalog writes it) → the model that owns it
CHANNELS: dict[str, type[ChannelConfig]] = {
    "email": EmailChannel,
    "webhook": WebhookChannel,
    "slack": SlackChannel,
    "pagerduty": PagerDutyChannel,
    "irc": IrcChannel,
}


def channel_kind(kind: str) -> type[ChannelConfig] | None:
    """The model of channel ``kind``, or None for a kind this version does not know."""
    return CHANNELS.get(kind)


def acknowledges_itself(kind: str) -> bool:
    """The channel has its own acknowledge (PagerDuty): its pages carry no one-click links.
    An unknown kind (a row written by a newer version) gets the links."""
    found = CHANNELS.get(kind)
    return found is not None and found.acknowledges_itself


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """Every channel's notifier, built from the server's settings, and the status page's
    subscribers' webhooks (the same outbox carries their rows)."""
    found = {kind: channel.notifier(settings) for kind, channel in CHANNELS.items()}
    found[SubscriberWebhookNotifier.channel] = SubscriberWebhookNotifier(
        ca_file=settings.ca_file, policy=settings.subscriber_policy
    )
    return found


def _expected() -> str:
    """The kinds as pydantic's ``literal_error`` lists them: 'a', 'b' or 'c'."""
    quoted = [repr(kind) for kind in CHANNELS]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _error(kind: str, value: Any, loc: tuple[str, ...] = ("type",), **ctx: Any) -> ValidationError:
    """One error, told as the catalog tells a field's error (at the entry's ``type``)."""
    detail: dict[str, Any] = {"type": kind, "loc": loc, "input": value}
    if ctx:
        detail["ctx"] = ctx
    return ValidationError.from_exception_data("NotifyChannel", [detail])  # type: ignore[list-item]


def _validate(value: Any) -> ChannelConfig:
    """One channel entry, validated by the model its ``type`` names. The registry is read
    now, not when the catalog's models were built: a kind registered later (a plugin, a
    test) is accepted without rebuilding them. The entry's own errors keep their fields'
    places (``channels[0].url``)."""
    if isinstance(value, ChannelConfig):
        return value
    if not isinstance(value, dict):
        raise _error("model_type", value, (), class_name="NotifyChannel")
    if "type" not in value:
        raise _error("missing", value)
    model = CHANNELS.get(value["type"]) if isinstance(value["type"], str) else None
    if model is None:
        raise _error("literal_error", value["type"], expected=_expected())
    return model.model_validate(value)


class _NotifyChannel:
    """The pydantic type of one channel entry (see :func:`_validate`)."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(_validate)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"oneOf": [handler(model.__pydantic_core_schema__) for model in CHANNELS.values()]}


#: the catalog's type of one channel entry: a :class:`ChannelConfig` of the kind it names
NotifyChannel = Annotated[ChannelConfig, _NotifyChannel]
