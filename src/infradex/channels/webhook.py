"""Generic webhook: one signed JSON POST per notification, for receivers you write yourself.

The target's address is the URL (or ``env:NAME``, read when sending). The body::

    {"version": 1, "kind": "trigger", "subject": "…", "text": "…",
     "incident": {"id": 7, "key": "…", "title": "…", "status": "open", …} or null,
     "links": {"incident": "…", "acknowledge": "…", "resolve": "…"}, "delivery": "42"}

Headers: ``X-Infradex-Event`` (the kind), ``X-Infradex-Delivery`` (the same on every attempt
of one notification: drop duplicates by it), ``X-Infradex-Timestamp`` (Unix seconds of this
attempt) and, when the target's options have a ``secret`` (or ``env:NAME``),
``X-Infradex-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + body`` under
the secret. Signing the timestamp with the body lets a receiver refuse replays: check the
signature with :func:`verify_signature`, which also refuses timestamps more than five minutes
from its clock (the scheme Stripe uses for its webhooks).

Answers are sorted as in :mod:`infradex.channels.http`: 2xx delivered; 408, 429,
5xx and no answer retried; 3xx and other 4xx permanent (docs/notifiers.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import model_validator

from infradex.channels.base import Message, Notifier, NotifyError, Target, expand_secret
from infradex.channels.config import ChannelConfig, ChannelSpec, WrittenSecret, check_url_field
from infradex.channels.http import HTTP_SCHEMES, HttpNotifier, check_url, http_error, post_json
from infradex.secretrefs import url_has_credential

if TYPE_CHECKING:
    from infradex.settings import Settings

__all__ = [
    "SIGNATURE_TOLERANCE",
    "SubscriberWebhookNotifier",
    "WebhookChannel",
    "WebhookNotifier",
    "sign",
    "verify_signature",
    "webhook_body",
]

SIGNATURE_TOLERANCE = 300  # seconds a signed timestamp may be away from the receiver's clock
_SCHEME = "sha256="
_REFUSED_HINT = (
    "if the receiver checks X-Infradex-Signature, give it the same secret as the channel and "
    "keep both clocks synchronised (a timestamp more than 5 minutes off is refused)"
)


def webhook_body(message: Message, delivery: str) -> str:
    """The JSON text POSTed for ``message`` (ASCII, so its bytes are the same everywhere)."""
    return json.dumps(
        {
            "version": 1,
            "kind": message.kind,
            "subject": message.subject,
            "text": message.text,
            "incident": message.incident,
            "links": message.links,
            "delivery": delivery,
        },
        separators=(",", ":"),
        default=str,
    )


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``: the X-Infradex-Signature."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: bytes,
    header: str | None,
    now: float,
    tolerance: float = SIGNATURE_TOLERANCE,
) -> bool:
    """For receivers: is ``header`` (X-Infradex-Signature) the signature of ``body`` (the raw
    bytes received) at ``timestamp`` (X-Infradex-Timestamp), and is that timestamp within
    ``tolerance`` seconds of ``now`` (Unix seconds)? Compares in constant time."""
    if not header or timestamp is None:
        return False
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    expected = sign(secret, stamp, body)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


class WebhookChannel(ChannelConfig):
    """``type: webhook``: ``url``, and ``secret`` to sign every body (HMAC-SHA256)."""

    type: Literal["webhook"]
    url: str | None = None
    secret: str | None = None

    #: the URL is redacted too (it may carry a token), but is a secret only when it does
    secrets: ClassVar[frozenset[str]] = frozenset({"secret"})

    @model_validator(mode="after")
    def _has_url(self) -> WebhookChannel:
        check_url_field("webhook", self.url, HTTP_SCHEMES)
        return self

    def spec(self, default_email: str | None) -> ChannelSpec:
        options = (("secret", self.secret),) if self.secret else ()
        return ChannelSpec("webhook", self.url or "", options)

    @classmethod
    def notifier(cls, settings: Settings) -> Notifier:
        return WebhookNotifier(ca_file=settings.ca_file)

    def written_secrets(self) -> Iterator[WrittenSecret]:
        yield from super().written_secrets()
        if self.url and url_has_credential(self.url):
            yield WrittenSecret(
                "url",
                "the webhook channel's `url` carries a credential (a password or a token in "
                "its query), and the catalog is in git",
                "write `url: env:NAME` and set NAME in the server's environment",
            )


class WebhookNotifier(HttpNotifier):
    channel: ClassVar[str] = "webhook"

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        url = expand_secret(target.address, "the webhook URL")
        check_url(url, "webhook URL")
        secret = target.options.get("secret")
        if secret is not None:
            secret = expand_secret(secret, "the webhook's signing secret")
            if not secret:
                raise NotifyError(
                    "the webhook's secret option is empty; set a secret (or env:NAME) or "
                    "remove the option to send unsigned",
                    permanent=True,
                )
        now = self.clock()
        timestamp = int(now.timestamp())
        body = webhook_body(message, delivery)
        headers = [
            ("X-Infradex-Event", message.kind),
            ("X-Infradex-Delivery", delivery),
            ("X-Infradex-Timestamp", str(timestamp)),
        ]
        if secret:
            headers.append(("X-Infradex-Signature", sign(secret, timestamp, body.encode())))
        answer = await post_json(
            url, body, tuple(headers), timeout=self.timeout, ca_file=self.ca_file,
            policy=self.policy,
        )  # fmt: skip
        if answer.ok:
            return f"HTTP {answer.status} from {answer.where}"
        hint = _REFUSED_HINT if answer.status in (401, 403) and secret else ""
        raise http_error(answer, "the webhook", now, hint)


class SubscriberWebhookNotifier(WebhookNotifier):
    """The status page's subscribers' webhooks (docs/status-page.md, "Subscribers"): the same
    signed POST, to URLs strangers gave, so built with the subscriber address policy
    (``Settings.subscriber_policy``: no internal address unless allowed). Not a catalog
    channel kind: its rows are written by the status page only."""

    channel: ClassVar[str] = "subscriber-webhook"
