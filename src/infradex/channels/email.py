"""Email over SMTP: STARTTLS or implicit TLS, optional login, text and HTML parts.

``INFRADEX_SMTP_URL`` says where: ``smtp://user:pass@host:587?starttls=true``,
``smtps://host:465``, ``smtp://127.0.0.1:1025`` (no TLS, no login; local relays and tests).
The standard library's client runs in the notifier's own worker threads (not the event loop's
shared pool, which also resolves host names for probes and webhooks: a hung mail server must
not starve those); a mail server that answers 5xx refuses
for good (permanent), anything else (refused connection, timeout, 4xx) is tried again.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import AfterValidator

from infradex.channels.base import Message, Notifier, NotifyError, Target
from infradex.channels.config import ChannelConfig, ChannelSpec
from infradex.errors import UsageError
from infradex.urls import email_address

if TYPE_CHECKING:
    from infradex.settings import Settings

__all__ = ["SMTP_THREADS", "EmailChannel", "EmailNotifier", "SmtpConfig"]

SMTP_THREADS = 20  # mails in flight at once: the dispatcher's places per channel


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    tls: bool = False  # implicit TLS (smtps://)
    timeout: float = 15.0
    ca_file: str | None = None

    @classmethod
    def from_url(cls, url: str, ca_file: str | None = None) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise UsageError(
                f"INFRADEX_SMTP_URL={_redacted(url)!r} is not an SMTP URL; write e.g. "
                "smtp://user:password@mail.example.org:587?starttls=true or smtps://host:465"
            )
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"starttls", "timeout"}
        if unknown:
            raise UsageError(
                f"INFRADEX_SMTP_URL: unknown option(s) {', '.join(sorted(unknown))}; "
                "the options are starttls=true|false and timeout=<seconds>"
            )
        try:
            port = parts.port
            timeout = float(query.get("timeout", "15"))
        except ValueError as exc:
            raise UsageError(f"INFRADEX_SMTP_URL: {exc}") from None
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", "false") in ("1", "true", "yes"),
            tls=tls,
            timeout=timeout,
            ca_file=ca_file,
        )

    def describe(self) -> str:
        security = "TLS" if self.tls else "STARTTLS" if self.starttls else "no TLS"
        login = f", login as {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({security}{login})"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


#: headers up to RFC 5322's 998 characters: a List-Unsubscribe URL (a signed token) is longer
#: than 78 and must stay a literal <URL>, which the default policy would RFC 2047-encode
_LONG_HEADERS = email_policy.default.clone(max_line_length=998)


def build_email(message: Message, sender: str, to: str, delivery: str) -> EmailMessage:
    unsubscribe = message.links.get("unsubscribe")
    email = EmailMessage(policy=_LONG_HEADERS) if unsubscribe else EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = to
    email["Date"] = formatdate(localtime=False)
    # the same on every attempt, so a duplicate after a crash is recognisable
    email["Message-ID"] = f"<delivery-{delivery}@infradex>" if delivery else make_msgid()
    if message.incident is not None:
        # threads an incident's messages together in mail clients
        thread = f"<incident-{message.incident['id']}@infradex>"
        email["References"] = thread
        if message.kind != "trigger":
            email["In-Reply-To"] = thread
    email["X-Infradex-Kind"] = message.kind
    if unsubscribe:
        # RFC 2369 and RFC 8058: the mail client offers "unsubscribe" and POSTs
        # List-Unsubscribe=One-Click to the link, with no page to click through
        email["List-Unsubscribe"] = f"<{unsubscribe}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class EmailChannel(ChannelConfig):
    """``type: email``: ``address`` (default: the person's own ``email``)."""

    type: Literal["email"]
    address: Annotated[str, AfterValidator(email_address)] | None = None

    public: ClassVar[frozenset[str]] = frozenset({"type", "address"})  # on the person's page
    secrets: ClassVar[frozenset[str]] = frozenset()

    def spec(self, default_email: str | None) -> ChannelSpec | None:
        address = self.address or default_email
        return ChannelSpec("email", address) if address else None

    @classmethod
    def notifier(cls, settings: Settings) -> Notifier:
        """Email without ``INFRADEX_SMTP_URL`` still exists: its rows wait in the outbox
        with an error saying what to set, so nothing is lost meanwhile."""
        smtp = (
            SmtpConfig.from_url(settings.smtp_url, settings.ca_file) if settings.smtp_url else None
        )
        sender = settings.mail_from or f"infradex@{socket.getfqdn() or 'localhost'}"
        return EmailNotifier(smtp, sender)


class EmailNotifier:
    channel: ClassVar[str] = "email"

    def __init__(self, config: SmtpConfig | None, sender: str) -> None:
        self.config = config
        self.sender = sender
        self._context: ssl.SSLContext | None = None
        self._threads: ThreadPoolExecutor | None = None

    def _tls(self, config: SmtpConfig) -> ssl.SSLContext:
        """One TLS context for every message: loading the CA store costs ~20 ms of CPU, more
        than the rest of sending a message (bench/alert_dispatch.py)."""
        if self._context is None:
            self._context = ssl.create_default_context(cafile=config.ca_file)
        return self._context

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        if self.config is None:
            raise NotifyError(
                "no mail server is set; set INFRADEX_SMTP_URL (e.g. "
                "smtp://user:password@mail.example.org:587?starttls=true) and restart"
            )
        if self._threads is None:
            self._threads = ThreadPoolExecutor(SMTP_THREADS, thread_name_prefix="infradex-smtp")
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, self._deliver, self.config, message, target, delivery
        )

    def _deliver(self, config: SmtpConfig, message: Message, target: Target, delivery: str) -> str:
        """In a worker thread: build the email (MIME encoding is CPU work) and send it."""
        email = build_email(message, self.sender, target.address, delivery)
        where = f"{config.host}:{config.port}"
        try:
            client: smtplib.SMTP
            if config.tls:
                client = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=config.timeout, context=self._tls(config)
                )
            else:
                client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            with client:
                if config.starttls:
                    client.starttls(context=self._tls(config))
                if config.username:
                    client.login(config.username, config.password or "")
                refused = client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise NotifyError(
                f"{where} refused the recipient: {_answers(exc.recipients)}",
                permanent=all(500 <= code < 600 for code in codes),
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifyError(
                f"{where} refused the login ({exc.smtp_code} {_text(exc.smtp_error)}); check "
                "the user and password in INFRADEX_SMTP_URL"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise NotifyError(
                f"{where} does not offer STARTTLS; use smtps:// or drop starttls=true"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(
                f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=500 <= exc.smtp_code < 600,
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            reason = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(exc)
            raise NotifyError(f"cannot send mail through {where}: {reason}") from None
        if refused:
            raise NotifyError(f"{where} refused: {_answers(refused)}", permanent=True)
        return f"accepted by {where}"


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _answers(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{to}: {code} {_text(text)}" for to, (code, text) in recipients.items())
