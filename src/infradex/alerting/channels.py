"""The channel registry: every channel type the catalog may name (``NotifyChannel.type``),
mapped to its notifier class and how a server builds it from its settings. The alerter asks
the registry what it needs to know of a channel (does it acknowledge by itself?), the
dispatcher gets one notifier per entry; nothing else names a channel type.

Adding a channel (Matrix, Zulip) is its notifier module under ``alerting/notifiers/`` and one
entry here (and, until the catalog's channel models move next to their notifiers, its type in
``catalog/models.py``'s ``NotifyChannel``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infradex.alerting.notifiers.base import Notifier
from infradex.alerting.notifiers.email import EmailNotifier, SmtpConfig
from infradex.alerting.notifiers.irc import IrcNotifier
from infradex.alerting.notifiers.pagerduty import PagerDutyNotifier
from infradex.alerting.notifiers.slack import SlackNotifier
from infradex.alerting.notifiers.webhook import WebhookNotifier
from infradex.settings import Settings

__all__ = ["CHANNELS", "Channel", "acknowledges_itself", "notifiers_for"]


@dataclass(frozen=True, slots=True)
class Channel:
    notifier: type[Notifier]
    build: Callable[[Settings], Notifier]  # the notifier a server runs with its settings


def _email(settings: Settings) -> Notifier:
    """Email without ``INFRADEX_SMTP_URL`` still exists: its rows wait in the outbox with an
    error saying what to set, so nothing is lost meanwhile."""
    smtp = SmtpConfig.from_url(settings.smtp_url, settings.ca_file) if settings.smtp_url else None
    sender = settings.mail_from or f"infradex@{socket.getfqdn() or 'localhost'}"
    return EmailNotifier(smtp, sender)


#: channel type (as the catalog writes it) → its notifier
CHANNELS: Mapping[str, Channel] = {
    "email": Channel(EmailNotifier, _email),
    "webhook": Channel(WebhookNotifier, lambda s: WebhookNotifier(ca_file=s.ca_file)),
    "slack": Channel(SlackNotifier, lambda s: SlackNotifier(ca_file=s.ca_file)),
    "pagerduty": Channel(
        PagerDutyNotifier,
        lambda s: PagerDutyNotifier(s.pagerduty_events_url, ca_file=s.ca_file),
    ),
    "irc": Channel(IrcNotifier, lambda s: IrcNotifier(ca_file=s.ca_file)),
}


def acknowledges_itself(channel_type: str) -> bool:
    """The channel has its own acknowledge (PagerDuty): its pages carry no one-click links.
    An unknown type (a row written by a newer version) gets the links."""
    found = CHANNELS.get(channel_type)
    return found is not None and found.notifier.acknowledges_itself


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """Every channel's notifier, built from the server's settings."""
    return {name: channel.build(settings) for name, channel in CHANNELS.items()}
