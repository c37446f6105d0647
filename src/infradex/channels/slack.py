"""Slack-compatible incoming webhooks: Slack, and Mattermost or Rocket.Chat, which accept the
same body.

The target's address is the incoming webhook's URL (or ``env:NAME``: the URL is the secret).
The body has a ``text`` (the subject and a link to the incident: what notifications,
Mattermost and Rocket.Chat show) and Block Kit ``blocks`` for Slack: one section with the
subject in bold, one with the message text, one with the acknowledge, resolve and incident
links. Every section's text is Slack ``mrkdwn`` with ``&``, ``<`` and ``>`` escaped, cut to
Slack's 3000 characters per section text at a character boundary, never inside an escape or
a link.

Slack answers ``200 ok``. Its errors (api.slack.com changelog 2016-05-17, "Improving error
conditions for Incoming Webhooks") are permanent: 400 ``invalid_payload``, 403
``action_prohibited``, 404 ``no_service``/``channel_not_found``, 410 ``channel_is_archived``.
429, 5xx and no answer are retried (:mod:`infradex.channels.http`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import model_validator

from infradex.channels.base import Message, Notifier, Target, expand_secret
from infradex.channels.config import ChannelConfig, ChannelSpec, check_url_field
from infradex.channels.http import HTTP_SCHEMES, HttpNotifier, check_url, http_error, post_json

if TYPE_CHECKING:
    from infradex.settings import Settings

__all__ = ["SECTION_TEXT_LIMIT", "SlackChannel", "SlackNotifier", "mrkdwn_escape", "slack_body"]

SECTION_TEXT_LIMIT = 3000  # Block Kit: characters in a section block's text
_LINKS = (("acknowledge", "Acknowledge"), ("resolve", "Resolve"), ("incident", "Open incident"))
_SEPARATOR = "  ·  "
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HINTS = {
    400: "Slack cannot read the message; this is a bug in infradex, please report it with "
    "this error",
    403: "the workspace does not allow this webhook to post there; ask a workspace admin",
    404: "the webhook URL is wrong or was revoked; create a new incoming webhook and put its "
    "URL in the target",
    410: "the channel is archived; unarchive it or create a webhook for another channel",
}


def mrkdwn_escape(text: str) -> str:
    """Text as Slack mrkdwn shows it literally: ``&``, ``<`` and ``>`` escaped."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def _fit(text: str, limit: int) -> str:
    """``text`` escaped, at most ``limit`` characters long; cut text ends with "…"."""
    escaped = mrkdwn_escape(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    used = 0
    for char in text:  # cut by source character, so no escape is split
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > limit - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


def _link(url: str, label: str) -> str:
    # "|" and ">" end the URL part of <url|label>; percent-encoding keeps the URL the same
    target = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{target.replace('&', '&amp;')}|{mrkdwn_escape(label)}>"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_body(message: Message) -> dict[str, Any]:
    """The incoming-webhook body for ``message``."""
    incident = message.links.get("incident")
    title = message.subject.strip() or "infradex notification"  # Slack refuses an empty text
    subject = _fit(title, SECTION_TEXT_LIMIT - 2)  # room for the bold stars
    text = subject + (f" {_link(incident, 'Open incident')}" if incident else "")
    blocks = [_section(f"*{subject}*")]
    if message.text.strip():
        blocks.append(_section(_fit(message.text, SECTION_TEXT_LIMIT)))
    links: list[str] = []
    used = 0
    for key, label in _LINKS:
        url = message.links.get(key)
        if not url:
            continue
        link = _link(url, label)
        if used + len(_SEPARATOR) + len(link) > SECTION_TEXT_LIMIT:
            break  # a link cannot be cut, and one this long is not worth sending
        links.append(link)
        used += len(_SEPARATOR) + len(link)
    if links:
        blocks.append(_section(_SEPARATOR.join(links)))
    return {"text": text, "blocks": blocks}


class SlackChannel(ChannelConfig):
    """``type: slack``: ``url``, the incoming webhook's URL (whoever has it can post)."""

    type: Literal["slack"]
    url: str | None = None

    secrets: ClassVar[frozenset[str]] = frozenset({"url"})

    @model_validator(mode="after")
    def _has_url(self) -> SlackChannel:
        check_url_field("slack", self.url, HTTP_SCHEMES)
        return self

    def spec(self, default_email: str | None) -> ChannelSpec:
        return ChannelSpec("slack", self.url or "")

    @classmethod
    def notifier(cls, settings: Settings) -> Notifier:
        return SlackNotifier(ca_file=settings.ca_file)


class SlackNotifier(HttpNotifier):
    channel: ClassVar[str] = "slack"

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        url = expand_secret(target.address, "the Slack webhook URL")
        check_url(url, "Slack webhook URL")
        body = json.dumps(slack_body(message), separators=(",", ":"))
        answer = await post_json(url, body, (), timeout=self.timeout, ca_file=self.ca_file)
        if answer.ok:
            return f"HTTP {answer.status} {answer.quote(40)} from {answer.where}"
        raise http_error(answer, "the Slack webhook", self.clock(), _HINTS.get(answer.status, ""))
