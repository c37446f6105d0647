"""The signed one-time links in subscriber mail: ``confirm`` (double opt-in, expires) and
``unsubscribe`` (in every notice, valid until used). Pure.

A token is ``purpose.subscriber.expires.nonce.signature``: the signature is an HMAC-SHA256
under a key derived from the server's secret key, so a forged or altered link is refused
before the store is read; the nonce is also kept in the subscriber's row, and the store
clears it (or the row) when the link is used, so a link works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Claims", "LinkError", "make_token", "read_token"]

PURPOSES = ("confirm", "unsubscribe")
#: purpose, subscriber id, expiry (Unix seconds; 0: none), nonce, signature
_SHAPE = re.compile(
    r"^(confirm|unsubscribe)\.([1-9][0-9]{0,18})\.([0-9]{1,12})\.([A-Za-z0-9_-]{8,64})"
    r"\.([A-Za-z0-9_-]{43})$"
)


class LinkError(Exception):
    """A link that does nothing; ``reason`` is ``forged``, ``expired`` or ``used``, and the
    message says what the person can do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Claims:
    purpose: str
    subscriber_id: int
    nonce: str
    expires: datetime | None


def _key(secret_key: str) -> bytes:
    """Its own key: a session cookie's signature can never pass as a link's."""
    return hashlib.sha256(b"infradex-subscriber-links:" + secret_key.encode()).digest()


def _signature(secret_key: str, body: str) -> str:
    digest = hmac.new(_key(secret_key), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(
    secret_key: str, purpose: str, subscriber_id: int, nonce: str, expires: datetime | None
) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    stamp = 0 if expires is None else int(expires.timestamp())
    body = f"{purpose}.{subscriber_id}.{stamp}.{nonce}"
    return f"{body}.{_signature(secret_key, body)}"


def read_token(secret_key: str, token: str, purpose: str, now: datetime) -> Claims:
    """The link's claims, or :class:`LinkError` (``forged``: damaged, altered or for another
    purpose; ``expired``). Whether it was used already is the store's to say."""
    found = _SHAPE.match(token.strip())
    if found is None or found[1] != purpose:
        raise LinkError(
            "forged",
            "This link is not valid: it may have been cut short or altered. Open it again "
            "from the email, whole, or sign up again on the status page.",
        )
    body, signature = token.strip().rsplit(".", 1)
    if not hmac.compare_digest(signature, _signature(secret_key, body)):
        raise LinkError(
            "forged",
            "This link is not valid: it was not made by this status page. Open it again from "
            "the email, whole, or sign up again on the status page.",
        )
    stamp = int(found[3])
    expires = None if stamp == 0 else datetime.fromtimestamp(stamp, UTC)
    if expires is not None and now >= expires:
        raise LinkError(
            "expired",
            "This link has expired: confirmation links last 48 hours. Sign up again on the "
            "status page to get a new one.",
        )
    return Claims(found[1], int(found[2]), found[4], expires)
