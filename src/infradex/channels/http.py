"""What the HTTP notifiers share: post one JSON body and sort the answer into success,
"try again" and "give up".

The request goes through the monitor's own HTTP client (:mod:`infradex.probes.http`), one
fresh connection per attempt, redirects not followed. Sorting, for every HTTP notifier:

* 2xx: delivered.
* 408, 429 and 5xx: transient (the outbox retries); a ``Retry-After`` in seconds or as an
  HTTP date becomes :attr:`NotifyError.retry_after`.
* 3xx: permanent. A notification is a POST; following a redirect would turn it into a GET
  or resend a signed body somewhere else. The error names the ``Location`` to configure.
* any other 4xx: permanent, quoting the status and the start of the body.
* no answer (timeout, refused or reset connection, unknown host, TLS failure, a broken
  answer): transient. Names and certificates get fixed; the outbox gives up on its own
  schedule.

A URL that is not ``http(s)://host/…`` is permanent before anything is sent. Error texts
name only ``scheme://host:port``: Slack-style webhook URLs carry their secret in the path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import infradex
from infradex.channels.base import NotifyError
from infradex.clock import utcnow
from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy

__all__ = [
    "BODY_QUOTE",
    "HTTP_SCHEMES",
    "USER_AGENT",
    "HttpAnswer",
    "HttpNotifier",
    "check_url",
    "http_error",
    "parse_retry_after",
    "post_json",
    "where",
]

USER_AGENT = f"infradex/{infradex.__version__}"
HTTP_SCHEMES = ("http://", "https://")  # what an HTTP channel's `url` may start with
BODY_QUOTE = 200  # characters of an error answer quoted in the error
_BODY_LIMIT = 64 * 1024  # bytes of an answer read at most; we quote 200 characters of it
_TRANSIENT = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """What the receiver answered: status, body text and headers (lower-case names)."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    where: str = ""  # scheme://host:port of the receiver, for messages

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def quote(self, limit: int = BODY_QUOTE) -> str:
        """The body's start, on one line, for an error message."""
        text = " ".join(self.body.split())
        if not text:
            return "(empty body)"
        return repr(text[:limit] + ("…" if len(text) > limit else ""))

    def json(self) -> Any:
        """The body as JSON, or None if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class HttpNotifier:
    """What the HTTP notifiers share: a timeout, the CAs to trust, a clock (for the
    webhook's timestamp and Retry-After dates) and the addresses they may reach (checked on
    the address connected to, after resolution)."""

    def __init__(
        self,
        timeout: float = 10.0,
        ca_file: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        policy: AddressPolicy = DEFAULT_POLICY,
    ) -> None:
        self.timeout = timeout
        self.ca_file = ca_file
        self.clock = clock
        self.policy = policy


def where(url: str) -> str:
    """``scheme://host:port`` of a URL, without user, password, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


def check_url(url: str, what: str) -> None:
    """A permanent :class:`NotifyError` unless ``url`` is an http(s) URL with a host."""
    parts = urlsplit(url)
    problem = None
    if parts.scheme.lower() not in ("http", "https"):
        problem = "is not an http:// or https:// URL"
    elif not parts.hostname:
        problem = "has no host"
    else:
        try:
            parts.port  # noqa: B018  (raises ValueError for a bad port)
        except ValueError:
            problem = "has an invalid port"
    if problem:
        shown = url if len(url) <= 40 else url[:40] + "…"
        raise NotifyError(
            f"the {what} {shown!r} {problem}; write the full URL, e.g. "
            "https://hooks.example.org/infradex",
            permanent=True,
        )


async def post_json(
    url: str,
    body: str,
    headers: tuple[tuple[str, str], ...],
    *,
    timeout: float,
    ca_file: str | None = None,
    policy: AddressPolicy = DEFAULT_POLICY,
) -> HttpAnswer:
    """POST ``body`` (JSON text, sent as UTF-8) to ``url`` and return whatever answer came
    back, any status. Raises a transient :class:`NotifyError` when no answer came."""
    # deferred: the probes (their HTTP client, DNS resolver…) load when the first notification
    # is sent, not when the catalog's models (which include every channel's config) are
    from infradex.probes.base import ProbeRequest
    from infradex.probes.registry import probe_for

    sent = (
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        *headers,
    )
    request = ProbeRequest(
        url=url,
        method="POST",
        headers=sent,
        body=body,
        timeout=timeout,
        follow_redirects=False,
        body_limit=_BODY_LIMIT,
        ca_file=ca_file,
        policy=policy,
    )

    seen = await probe_for(url)(request)
    host = where(url)
    status = seen.values.get("STATUS")
    if not seen.ok and seen.error_kind == "denied":
        raise NotifyError(f"{host} is not an address notifications may reach: {seen.error}",
                          permanent=True)  # fmt: skip
    if not seen.ok or not isinstance(status, int):
        reason = seen.error or "no answer"
        raise NotifyError(f"no answer from {host}: {reason}; the notification is retried")
    headers_seen = {
        name.removeprefix("HEADER:"): str(value)
        for name, value in seen.values.items()
        if name.startswith("HEADER:")
    }
    return HttpAnswer(status, str(seen.values.get("BODY", "")), headers_seen, host)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=now.tzinfo)
    return max(0.0, (when - now).total_seconds())


def http_error(answer: HttpAnswer, what: str, now: datetime, hint: str = "") -> NotifyError:
    """The :class:`NotifyError` for a non-2xx answer, sorted as the module docstring says.
    ``what`` names the receiver ("the webhook", "Slack"); ``hint`` (for permanent answers)
    says what to do."""
    status = answer.status
    said = f"{what} at {answer.where} answered HTTP {status}"
    if status in _TRANSIENT or status >= 500:
        wait = parse_retry_after(answer.header("retry-after"), now)
        after = f" (asked to wait {wait:g} s)" if wait is not None else ""
        return NotifyError(
            f"{said} {answer.quote()}{after}; the notification is retried", retry_after=wait
        )
    if 300 <= status < 400:
        location = answer.header("location")
        target = f" to {location}" if location else " (no Location given)"
        return NotifyError(
            f"{said}: the URL redirects{target}; notifications are not sent on to a redirect, "
            "so configure the final URL",
            permanent=True,
        )
    hint = hint or (
        "the receiver refuses this request: check the URL and the receiver, then send a test"
    )
    return NotifyError(f"{said} {answer.quote()}; {hint}", permanent=True)
