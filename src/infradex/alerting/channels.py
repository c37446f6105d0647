"""The notifiers a server runs with, built from its settings: one per channel type."""

from __future__ import annotations

import socket

from infradex.alerting.notifiers.base import Notifier
from infradex.alerting.notifiers.email import EmailNotifier, SmtpConfig
from infradex.alerting.notifiers.irc import IrcNotifier
from infradex.alerting.notifiers.pagerduty import PagerDutyNotifier
from infradex.alerting.notifiers.slack import SlackNotifier
from infradex.alerting.notifiers.webhook import WebhookNotifier
from infradex.settings import Settings

__all__ = ["CHANNELS", "notifiers_for"]

CHANNELS = ("email", "webhook", "slack", "pagerduty", "irc")


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """Every channel's notifier. Email without ``INFRADEX_SMTP_URL`` still exists: its rows
    wait in the outbox with an error saying what to set, so nothing is lost meanwhile."""
    smtp = SmtpConfig.from_url(settings.smtp_url, settings.ca_file) if settings.smtp_url else None
    sender = settings.mail_from or f"infradex@{socket.getfqdn() or 'localhost'}"
    return {
        "email": EmailNotifier(smtp, sender),
        "webhook": WebhookNotifier(ca_file=settings.ca_file),
        "slack": SlackNotifier(ca_file=settings.ca_file),
        "pagerduty": PagerDutyNotifier(settings.pagerduty_events_url, ca_file=settings.ca_file),
        "irc": IrcNotifier(ca_file=settings.ca_file),
    }
