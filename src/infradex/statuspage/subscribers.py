"""Status-page subscribers in the store: sign-up (email with double opt-in, or a webhook
with its signing secret), confirmation, unsubscription and the admin's list
(docs/status-page.md, "Subscribers").

Every sign-up is counted per source address and per subscribed address before anything
else (the sign-in limits' counters, :func:`infradex.store.sign_in_limits.count_attempt`);
the row and its confirmation mail are written in one transaction, so nothing is stored half.
An email address gets nothing but the confirmation until its link is used; a link works
once (the nonce it carries is cleared, or the row deleted, by the conditional statement
that uses it). Unsubscribing deletes the row (the address is personal data) and cancels
the notices still waiting for it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting import outbox
from infradex.alerting.model import NoticeStatus
from infradex.channels.webhook import SubscriberWebhookNotifier
from infradex.errors import InfradexError, NotFoundError, UsageError
from infradex.netpolicy import AddressPolicy
from infradex.statuspage.subscriber_messages import (
    CONFIRM_FOR,
    SubscriberLinks,
    confirmation_message,
)
from infradex.statuspage.subscriber_tokens import LinkError, read_token
from infradex.store.db import Database
from infradex.store.sign_in_limits import count_attempt
from infradex.store.tables import notifications, subscribers
from infradex.urls import email_address, web_url

__all__ = [
    "KINDS",
    "SUBSCRIBER_WEBHOOK",
    "SignUp",
    "SignUpRefused",
    "Subscriber",
    "check_address",
    "check_components",
    "confirm",
    "dedup_prefix",
    "list_subscribers",
    "remove_subscriber",
    "sign_up",
    "unsubscribe",
    "webhook_allowed",
]

KINDS = ("email", "webhook")
#: the outbox channel of subscribers' webhooks: the webhook notifier held to the
#: subscriber address policy (internal addresses refused)
SUBSCRIBER_WEBHOOK = SubscriberWebhookNotifier.channel
MAX_URL = 2000


class SignUpRefused(InfradexError):
    """Too many sign-ups from this source or for this address; try after ``wait``."""

    def __init__(self, wait: timedelta) -> None:
        seconds = max(1, int(wait.total_seconds() + 0.999))
        super().__init__(
            f"too many sign-ups from your address or for this subscription; try again in "
            f"{seconds} s"
        )
        self.wait = seconds


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    kind: str
    address: str
    components: tuple[str, ...]  # component ids; empty: every component
    created_at: datetime
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SignUp:
    """What a sign-up did. ``secret``: a new webhook's signing secret, shown once."""

    kind: str
    secret: str | None = None


def _address_key(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()


def check_address(kind: str, text: str) -> str:
    """The address as stored, or a :class:`UsageError` that says how to write it."""
    value = text.strip()
    if kind == "email":
        if len(value) > 254 or any(ord(c) < 33 or c == "\x7f" for c in value):
            raise UsageError(
                f"{value[:60]!r} is not an email address; write one address, e.g. ada@example.org"
            )
        try:
            email_address(value)
        except ValueError:
            raise UsageError(
                f"{value[:60]!r} is not an email address; write one address, e.g. ada@example.org"
            ) from None
        local, domain = value.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    if kind == "webhook":
        problem = None
        try:
            web_url(value)
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError for a bad port)
        except ValueError:
            problem = "is not an http:// or https:// URL"
        else:
            if len(value) > MAX_URL:
                problem = f"is longer than {MAX_URL} characters"
            elif parts.username or parts.password:
                problem = "carries a user name or password (put a secret in the path instead)"
            elif parts.fragment:
                problem = "has a #fragment, which is never sent"
        if problem:
            raise UsageError(
                f"the webhook URL {value[:60]!r} {problem}; write the full URL of your "
                "receiver, e.g. https://hooks.example.org/status"
            )
        return value
    raise UsageError(f"{kind!r} is not a kind of subscription; choose email or webhook")


async def webhook_allowed(url: str, policy: AddressPolicy) -> None:
    """Refuse a webhook whose host is (or resolves to) only addresses the policy denies:
    internal ones, unless INFRADEX_SUBSCRIBER_WEBHOOK_ALLOW names them. Sending checks
    again, on the address it connects to."""
    # deferred: the probes' network code loads only when a webhook is signed up
    from infradex.probes.net import ProbeFailure, Step, resolve

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await resolve(parts.hostname or "", port, None, {}, Step("checking the URL"), policy)
    except ProbeFailure as exc:
        if exc.kind == "denied":
            raise UsageError(
                f"the webhook URL's host {parts.hostname} is an internal address, which this "
                "status page does not send to; give a public address"
            ) from None
        raise UsageError(
            f"the webhook URL's host {parts.hostname} cannot be found; check the name"
        ) from None
    except OSError:
        raise UsageError(
            f"the webhook URL's host {parts.hostname} cannot be found; check the name"
        ) from None


def check_components(chosen: Sequence[str], known: Collection[str]) -> tuple[str, ...]:
    """The chosen component ids, each once, in order; empty means every component."""
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise UsageError(
            f"unknown component {unknown[0][:20]!r}; choose among the components on the "
            "status page (or none, for all)"
        )
    return tuple(dict.fromkeys(chosen))


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        row.id, row.kind, row.address, tuple(row.components), row.created_at, row.confirmed_at
    )


def dedup_prefix(subscriber_id: int) -> str:
    """The start of every outbox key of one subscriber's notices."""
    return f"subscriber:{subscriber_id}:"


async def sign_up(
    db: Database,
    links: SubscriberLinks,
    *,
    kind: str,
    address: str,
    components: Sequence[str],
    known: Mapping[str, str],
    source: str | None,
    now: datetime,
    policy: AddressPolicy,
) -> SignUp:
    """Check the input (a :class:`UsageError` says what is wrong), count the attempt
    (:class:`SignUpRefused`), then store the subscription: an email address unconfirmed,
    with its confirmation mail queued in the same transaction; a webhook at once, with its
    new secret (returned: shown once). ``known``: the public components, id → name;
    ``policy``: where a webhook may point.

    Signing up again with an address still unconfirmed sends a new link (the old one stops
    working); with one confirmed, nothing changes and nothing is sent, and the answer is the
    same (no one learns who subscribes)."""
    address = check_address(kind, address)
    chosen = check_components(components, known)
    key = _address_key(address)
    wait = await count_attempt(
        db, (f"signup-source:{source or 'unknown'}", f"signup-address:{key}"), now
    )
    if wait is not None:
        raise SignUpRefused(wait)
    if kind == "webhook":
        await webhook_allowed(address, policy)
    try:
        return await _store_sign_up(db, links, kind, address, key, chosen, known, now)
    except IntegrityError:
        # the same address signed up at the same moment elsewhere (PostgreSQL: no write
        # lock first): that sign-up stands, and this one is answered as a repeat
        if kind == "webhook":
            raise UsageError(_WEBHOOK_TAKEN) from None
        return SignUp(kind)


_WEBHOOK_TAKEN = (
    "this webhook URL is subscribed already; to start again, unsubscribe with the link in any "
    "delivery to it"
)


async def _store_sign_up(
    db: Database,
    links: SubscriberLinks,
    kind: str,
    address: str,
    key: str,
    chosen: tuple[str, ...],
    known: Mapping[str, str],
    now: datetime,
) -> SignUp:
    async with db.begin(writes=True) as connection:
        # unconfirmed sign-ups whose link has run out are forgotten
        await connection.execute(
            delete(subscribers).where(
                subscribers.c.confirmed_at.is_(None), subscribers.c.created_at < now - CONFIRM_FOR
            )
        )
        row = (
            await connection.execute(select(subscribers).where(subscribers.c.address_key == key))
        ).first()
        if kind == "webhook":
            if row is not None:
                raise UsageError(_WEBHOOK_TAKEN)
            secret = secrets.token_urlsafe(32)
            await _insert(connection, kind, address, key, chosen, now, secret=secret)
            return SignUp(kind, secret)
        nonce = secrets.token_urlsafe(16)
        if row is None:
            subscriber_id = await _insert(
                connection, kind, address, key, chosen, now, confirm_nonce=nonce
            )
        elif row.confirmed_at is None:
            subscriber_id = row.id
            await connection.execute(
                update(subscribers)
                .where(subscribers.c.id == row.id)
                .values(confirm_nonce=nonce, components=list(chosen), created_at=now)
            )
        else:
            return SignUp(kind)
        names = [known[c] for c in chosen]
        message = confirmation_message(links, subscriber_id, nonce, now + CONFIRM_FOR, names)
        await outbox.enqueue(
            connection,
            channel="email",
            kind="subscribe",
            recipient=f"subscriber:{subscriber_id}",
            address=address,
            options=None,
            message=message,
            now=now,
        )
    return SignUp(kind)


async def _insert(
    connection: AsyncConnection,
    kind: str,
    address: str,
    key: str,
    components: Sequence[str],
    now: datetime,
    *,
    secret: str | None = None,
    confirm_nonce: str | None = None,
) -> int:
    result = await connection.execute(
        insert(subscribers).values(
            kind=kind,
            address=address,
            address_key=key,
            components=list(components),
            secret=secret,
            nonce=secrets.token_urlsafe(16),
            confirm_nonce=confirm_nonce,
            created_at=now,
            confirmed_at=now if confirm_nonce is None else None,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


_USED = (
    "This link was used already (or a newer one replaced it), so it does nothing now. "
    "If you still get mail, use the unsubscribe link in the newest one."
)


async def confirm(db: Database, secret_key: str, token: str, now: datetime) -> Subscriber:
    """Use a confirmation link: the subscription starts. :class:`LinkError` when the link
    is forged, expired or used; nothing changes then."""
    claims = read_token(secret_key, token, "confirm", now)
    async with db.begin(writes=True) as connection:
        done = await connection.execute(
            update(subscribers)
            .where(
                and_(
                    subscribers.c.id == claims.subscriber_id,
                    subscribers.c.confirm_nonce == claims.nonce,
                    subscribers.c.confirmed_at.is_(None),
                )
            )
            .values(confirmed_at=now, confirm_nonce=None)
        )
        if done.rowcount != 1:
            raise LinkError("used", _USED.replace("If you still get mail", "If you get none"))
        row = (
            await connection.execute(
                select(subscribers).where(subscribers.c.id == claims.subscriber_id)
            )
        ).one()
    return _subscriber(row)


async def _forget(connection: AsyncConnection, subscriber_id: int) -> None:
    """The notices still waiting for the subscriber are not sent."""
    await connection.execute(
        update(notifications)
        .where(
            notifications.c.dedup_key.startswith(dedup_prefix(subscriber_id), autoescape=True),
            notifications.c.status == NoticeStatus.PENDING,
        )
        .values(status=NoticeStatus.CANCELLED, last_error="the subscriber unsubscribed")
    )


async def unsubscribe(db: Database, secret_key: str, token: str, now: datetime) -> str:
    """Use an unsubscribe link: the subscriber is deleted; its kind is returned.
    :class:`LinkError` when the link is forged or used; nothing changes then."""
    claims = read_token(secret_key, token, "unsubscribe", now)
    async with db.begin(writes=True) as connection:
        gone = (
            await connection.execute(
                delete(subscribers)
                .where(
                    and_(
                        subscribers.c.id == claims.subscriber_id,
                        subscribers.c.nonce == claims.nonce,
                    )
                )
                .returning(subscribers.c.kind)
            )
        ).first()
        if gone is None:
            raise LinkError("used", _USED)
        await _forget(connection, claims.subscriber_id)
    return str(gone.kind)


async def list_subscribers(connection: AsyncConnection) -> list[Subscriber]:
    rows = await connection.execute(select(subscribers).order_by(subscribers.c.id))
    return [_subscriber(r) for r in rows]


async def remove_subscriber(db: Database, subscriber_id: int) -> None:
    async with db.begin(writes=True) as connection:
        gone = await connection.execute(
            delete(subscribers).where(subscribers.c.id == subscriber_id)
        )
        if gone.rowcount != 1:
            raise NotFoundError(
                f"no subscriber {subscriber_id}; list them at /api/v1/status/subscribers"
            )
        await _forget(connection, subscriber_id)
