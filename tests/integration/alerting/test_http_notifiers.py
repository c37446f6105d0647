"""The webhook, Slack and PagerDuty notifiers against real aiohttp receivers on 127.0.0.1.

Each receiver checks what arrives the way its real counterpart would: the webhook receiver
verifies the signature with :func:`verify_signature`, the Slack receiver the Block Kit shape
and limits, the PagerDuty receiver the Events API v2 rules (32-character routing key, known
event_action, dedup_key, required trigger payload fields) and keeps each alert's state.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

import infradex
from infradex.channels.base import Message, NotifyError, Target
from infradex.channels.http import parse_retry_after
from infradex.channels.pagerduty import PagerDutyNotifier
from infradex.channels.slack import SECTION_TEXT_LIMIT, SlackNotifier
from infradex.channels.webhook import WebhookNotifier, sign, verify_signature

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SECRET = "whsec-test-secret"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"  # PagerDuty integration keys: 32 characters
INCIDENT: dict[str, Any] = {
    "id": 7,
    "key": "provider:fastly",
    "title": "Fastly is down",
    "status": "open",
    "root": "provider:fastly",
    "impacted": ["service:docs"],
    "url": "http://127.0.0.1:8000/incidents/7",
}
LINKS = {
    "incident": "http://127.0.0.1:8000/incidents/7",
    "acknowledge": "http://127.0.0.1:8000/a/7/ack?token=abc&x=1",
    "resolve": "http://127.0.0.1:8000/a/7/resolve?token=def",
}


def frozen() -> datetime:
    return NOW


def message(kind: str = "trigger", **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "kind": kind,
        "subject": "[infradex] Fastly is down",
        "text": "provider:fastly is down; service:docs is impacted.",
        "incident": INCIDENT,
        "links": LINKS,
    }
    fields.update(changes)
    return Message(**fields)


# ---------------------------------------------------------------------------- receivers
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """One aiohttp server with a route per receiver; records every request."""

    port: int = 0
    secret: str = SECRET  # the webhook receiver's idea of the signing secret
    now: float = NOW.timestamp()  # the webhook receiver's clock
    requests: list[Received] = field(default_factory=list)
    signatures: list[bool] = field(default_factory=list)  # verify_signature per signed hook
    alerts: dict[str, str] = field(default_factory=dict)  # PagerDuty: dedup_key → state
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def record(self, request: web.Request) -> Received:
        seen = Received(request.path, dict(request.headers), await request.read())
        self.requests.append(seen)
        return seen

    # webhook ------------------------------------------------------------------------------
    async def hook(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        signature = request.headers.get("X-Infradex-Signature")
        if signature is not None:
            valid = verify_signature(
                self.secret,
                request.headers.get("X-Infradex-Timestamp"),
                seen.body,
                signature,
                now=self.now,
            )
            self.signatures.append(valid)
            if not valid:
                return web.Response(status=401, text="bad signature")
        return web.Response(status=204)

    async def status(self, request: web.Request) -> web.Response:
        await self.record(request)
        code = int(request.match_info["code"])
        headers = {}
        if code in (429, 503):
            headers["Retry-After"] = "7"
        if 300 <= code < 400:
            headers["Location"] = "https://hooks.example.org/new"
        return web.Response(status=code, text=f"answer {code} from the receiver", headers=headers)

    async def long_error(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.Response(status=422, text="E" * 150 + "F" * 500)

    async def slow(self, request: web.Request) -> web.Response:
        await self.record(request)
        await asyncio.wait_for(self.release.wait(), 10)
        return web.Response(status=204)

    # Slack --------------------------------------------------------------------------------
    async def slack(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        behaviour = request.match_info["behaviour"]
        errors = {
            "invalid": (400, "invalid_payload"),
            "archived": (410, "channel_is_archived"),
            "revoked": (404, "no_service"),
            "prohibited": (403, "action_prohibited"),
            "busy": (429, "rate_limited"),
            "broken": (500, "rollup_error"),
        }
        if behaviour in errors:
            status, text = errors[behaviour]
            headers = {"Retry-After": "30"} if status == 429 else {}
            return web.Response(status=status, text=text, headers=headers)
        if request.headers.get("Content-Type") != "application/json" or not slack_valid(
            seen.json()
        ):
            return web.Response(status=400, text="invalid_payload")
        return web.Response(status=200, text="ok")

    # PagerDuty ----------------------------------------------------------------------------
    async def pagerduty(self, request: web.Request) -> web.Response:
        seen = await self.record(request)
        behaviour = request.match_info["behaviour"]
        if behaviour == "busy":
            return web.Response(status=429, text="", headers={"Retry-After": "12"})
        if behaviour == "broken":
            return web.json_response({"status": "error", "message": "internal error"}, status=502)
        try:
            event = seen.json()
        except ValueError:
            return pagerduty_invalid(["JSON parse error"])
        errors = pagerduty_errors(event)
        if errors:
            return pagerduty_invalid(errors)
        key = event["dedup_key"]
        action = event["event_action"]
        state = self.alerts.get(key)
        if action == "trigger" and state in (None, "resolved"):
            self.alerts[key] = "triggered"  # after a resolve: a new alert
        elif action == "acknowledge" and state in ("triggered", "acknowledged"):
            self.alerts[key] = "acknowledged"
        elif action == "resolve" and state in ("triggered", "acknowledged"):
            self.alerts[key] = "resolved"
        # anything else PagerDuty drops, still answering 202
        return web.json_response(
            {"status": "success", "message": "Event processed", "dedup_key": key}, status=202
        )


def slack_valid(body: Any) -> bool:
    """Block Kit as Slack checks it, for what we send: a non-empty ``text`` and at most 50
    section blocks whose mrkdwn text is 1 to 3000 characters."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
        return False
    blocks = body.get("blocks")
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
        return False
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "section":
            return False
        text = block.get("text")
        if not isinstance(text, dict) or text.get("type") != "mrkdwn":
            return False
        if not isinstance(text.get("text"), str) or not 1 <= len(text["text"]) <= 3000:
            return False
    return True


def pagerduty_errors(event: Any) -> list[str]:
    """The Events API v2 rules (developer.pagerduty.com, "Send an Alert Event")."""
    if not isinstance(event, dict):
        return ["Event object format is unrecognized"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' is invalid (must be trigger, acknowledge or resolve)")
    dedup = event.get("dedup_key")
    if not isinstance(dedup, str) or not dedup or len(dedup) > 255:
        errors.append("'dedup_key' is missing or longer than 255 characters")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return [*errors, "'payload' is missing or not an object"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 1024:
            errors.append("'payload.summary' is missing or longer than 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            errors.append("'payload.source' is missing")
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            errors.append("'payload.severity' is invalid (critical, error, warning or info)")
        if "timestamp" in payload:
            try:
                datetime.fromisoformat(payload["timestamp"])
            except (TypeError, ValueError):
                errors.append("'payload.timestamp' is not an ISO 8601 date")
        for link in event.get("links", []):
            if not isinstance(link, dict) or not isinstance(link.get("href"), str):
                errors.append("a link has no 'href'")
    return errors


def pagerduty_invalid(errors: list[str]) -> web.Response:
    return web.json_response(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
        status=400,
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hook", state.hook)
    app.router.add_post("/status/{code}", state.status)
    app.router.add_post("/long-error", state.long_error)
    app.router.add_post("/slow", state.slow)
    app.router.add_post("/slack/{behaviour}", state.slack)
    app.router.add_post("/pagerduty/{behaviour}", state.pagerduty)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    state.release.set()
    await runner.cleanup()


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def failure(notifier: Any, target: Target, sent: Message, delivery: str = "1") -> NotifyError:
    with pytest.raises(NotifyError) as caught:
        await notifier.send(target, sent, delivery)
    return caught.value


# ------------------------------------------------------------------------------ webhook
async def test_webhook_posts_the_signed_body_with_its_headers(receiver: Receiver) -> None:
    notifier = WebhookNotifier(clock=frozen)
    target = Target(receiver.url("/hook"), {"secret": SECRET})
    answer = await notifier.send(target, message(), "42")
    assert answer == f"HTTP 204 from http://127.0.0.1:{receiver.port}"
    assert receiver.signatures == [True]
    (seen,) = receiver.requests
    assert seen.json() == {
        "version": 1,
        "kind": "trigger",
        "subject": "[infradex] Fastly is down",
        "text": "provider:fastly is down; service:docs is impacted.",
        "incident": INCIDENT,
        "links": LINKS,
        "delivery": "42",
    }
    headers = seen.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == f"infradex/{infradex.__version__}"
    assert headers["X-Infradex-Event"] == "trigger"
    assert headers["X-Infradex-Delivery"] == "42"
    assert headers["X-Infradex-Timestamp"] == str(int(NOW.timestamp()))
    expected = hmac.new(
        SECRET.encode(), f"{int(NOW.timestamp())}.".encode() + seen.body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Infradex-Signature"] == "sha256=" + expected


async def test_webhook_without_a_secret_is_unsigned(receiver: Receiver) -> None:
    await WebhookNotifier(clock=frozen).send(Target(receiver.url("/hook")), message(), "1")
    (seen,) = receiver.requests
    assert "X-Infradex-Signature" not in seen.headers
    assert receiver.signatures == []


async def test_a_receiver_with_another_secret_refuses_and_that_is_permanent(
    receiver: Receiver,
) -> None:
    receiver.secret = "not-the-same"
    target = Target(receiver.url("/hook"), {"secret": SECRET})
    error = await failure(WebhookNotifier(clock=frozen), target, message())
    assert receiver.signatures == [False]
    assert error.permanent
    assert "401" in str(error) and "bad signature" in str(error)
    assert "same secret" in str(error)


async def test_a_replayed_delivery_is_refused_by_the_receiver(receiver: Receiver) -> None:
    receiver.now = (NOW + timedelta(minutes=6)).timestamp()  # the receiver's clock runs later
    target = Target(receiver.url("/hook"), {"secret": SECRET})
    error = await failure(WebhookNotifier(clock=frozen), target, message())
    assert receiver.signatures == [False]
    assert error.permanent


def test_verify_signature_accepts_only_the_exact_body_time_and_secret() -> None:
    body = b'{"version":1}'
    stamp = 1_700_000_000
    header = sign(SECRET, stamp, body)
    assert header == (
        "sha256=" + hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    )
    assert verify_signature(SECRET, str(stamp), body, header, now=stamp + 299)
    assert verify_signature(SECRET.encode(), stamp, body, header, now=stamp - 300)
    assert not verify_signature(SECRET, stamp, body + b" ", header, now=stamp)
    assert not verify_signature("other", stamp, body, header, now=stamp)
    assert not verify_signature(SECRET, stamp + 1, body, header, now=stamp)
    assert not verify_signature(SECRET, stamp, body, header, now=stamp + 301)
    assert not verify_signature(SECRET, stamp, body, header, now=stamp + 1, tolerance=0)
    assert not verify_signature(SECRET, stamp, body, header.removeprefix("sha256="), now=stamp)
    assert not verify_signature(SECRET, stamp, body, None, now=stamp)
    assert not verify_signature(SECRET, "soon", body, header, now=stamp)
    assert not verify_signature(SECRET, None, body, header, now=stamp)


@pytest.mark.parametrize(
    ("code", "permanent"),
    [(400, True), (404, True), (410, True), (408, False), (500, False), (503, False)],
)
async def test_webhook_answers_are_sorted_into_permanent_and_transient(
    receiver: Receiver, code: int, permanent: bool
) -> None:
    target = Target(receiver.url(f"/status/{code}"))
    error = await failure(WebhookNotifier(clock=frozen), target, message())
    assert error.permanent is permanent
    assert f"HTTP {code}" in str(error)
    assert f"answer {code} from the receiver" in str(error)
    assert len(receiver.requests) == 1


async def test_webhook_429_asks_to_wait_for_retry_after(receiver: Receiver) -> None:
    error = await failure(
        WebhookNotifier(clock=frozen), Target(receiver.url("/status/429")), message()
    )
    assert not error.permanent
    assert error.retry_after == 7.0
    assert "429" in str(error)


async def test_webhook_redirect_is_permanent_and_names_the_location(receiver: Receiver) -> None:
    error = await failure(
        WebhookNotifier(clock=frozen), Target(receiver.url("/status/301")), message()
    )
    assert error.permanent
    assert "redirects" in str(error)
    assert "https://hooks.example.org/new" in str(error)
    assert len(receiver.requests) == 1  # not followed


async def test_webhook_quotes_only_the_start_of_an_error_body(receiver: Receiver) -> None:
    error = await failure(
        WebhookNotifier(clock=frozen), Target(receiver.url("/long-error")), message()
    )
    assert error.permanent
    text = str(error)
    assert "E" * 150 + "F" * 50 in text
    assert "F" * 51 not in text


async def test_webhook_refused_connection_is_transient() -> None:
    target = Target(f"http://127.0.0.1:{closed_port()}/hook")
    error = await failure(WebhookNotifier(timeout=2, clock=frozen), target, message())
    assert not error.permanent
    assert "refused" in str(error).lower()


async def test_webhook_timeout_is_transient(receiver: Receiver) -> None:
    started = time.monotonic()
    error = await failure(
        WebhookNotifier(timeout=0.3, clock=frozen), Target(receiver.url("/slow")), message()
    )
    assert time.monotonic() - started < 3
    assert not error.permanent
    assert "no answer within 0.3 s" in str(error)
    assert len(receiver.requests) == 1


async def test_webhook_url_and_secret_can_come_from_the_environment(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRADEX_TEST_HOOK_URL", receiver.url("/hook"))
    monkeypatch.setenv("INFRADEX_TEST_HOOK_SECRET", "from-the-environment")
    receiver.secret = "from-the-environment"
    receiver.now = time.time()  # the notifier's default clock is the real one
    target = Target("env:INFRADEX_TEST_HOOK_URL", {"secret": "env:INFRADEX_TEST_HOOK_SECRET"})
    await WebhookNotifier().send(target, message(kind="resolve"), "9")
    assert receiver.signatures == [True]
    assert receiver.requests[0].headers["X-Infradex-Event"] == "resolve"


async def test_webhook_secret_from_a_missing_variable_is_retried_with_advice(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFRADEX_TEST_MISSING", raising=False)
    target = Target(receiver.url("/hook"), {"secret": "env:INFRADEX_TEST_MISSING"})
    error = await failure(WebhookNotifier(clock=frozen), target, message())
    assert not error.permanent
    assert "$INFRADEX_TEST_MISSING" in str(error)
    assert "signing secret" in str(error)
    assert receiver.requests == []  # never sent unsigned


async def test_webhook_with_an_empty_secret_is_refused_before_sending(
    receiver: Receiver,
) -> None:
    target = Target(receiver.url("/hook"), {"secret": ""})
    error = await failure(WebhookNotifier(clock=frozen), target, message())
    assert error.permanent
    assert receiver.requests == []


@pytest.mark.parametrize("address", ["hooks.example.org/x", "ftp://example.org/", "http:///x"])
async def test_webhook_url_that_is_not_http_is_permanent(address: str) -> None:
    error = await failure(WebhookNotifier(clock=frozen), Target(address), message())
    assert error.permanent
    assert "e.g. https://" in str(error)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Fri, 01 May 2026 12:01:30 GMT", NOW) == 90.0
    assert parse_retry_after("Fri, 01 May 2026 11:00:00 GMT", NOW) == 0.0  # already past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


# -------------------------------------------------------------------------------- Slack
async def test_slack_posts_text_and_valid_blocks_with_the_links(receiver: Receiver) -> None:
    answer = await SlackNotifier().send(Target(receiver.url("/slack/ok")), message(), "3")
    assert answer.startswith("HTTP 200 'ok'")
    body = receiver.requests[0].json()
    assert slack_valid(body)
    incident_link = "<http://127.0.0.1:8000/incidents/7|Open incident>"
    assert body["text"] == f"[infradex] Fastly is down {incident_link}"
    header, text, links = (block["text"]["text"] for block in body["blocks"])
    assert header == "*[infradex] Fastly is down*"
    assert text == "provider:fastly is down; service:docs is impacted."
    assert "<http://127.0.0.1:8000/a/7/ack?token=abc&amp;x=1|Acknowledge>" in links
    assert "<http://127.0.0.1:8000/a/7/resolve?token=def|Resolve>" in links
    assert incident_link in links


async def test_slack_escapes_and_cuts_long_text_without_breaking_an_escape(
    receiver: Receiver,
) -> None:
    long = message(subject="a <b> & c", text="<&>" * 2000, links={})
    await SlackNotifier().send(Target(receiver.url("/slack/ok")), long, "4")
    body = receiver.requests[0].json()
    assert slack_valid(body)  # the receiver answered 200 only if this holds
    header, text = (block["text"]["text"] for block in body["blocks"])
    assert header == "*a &lt;b&gt; &amp; c*"
    assert body["text"] == "a &lt;b&gt; &amp; c"
    assert len(text) <= SECTION_TEXT_LIMIT
    assert text.endswith("…")
    assert re.fullmatch(r"(&lt;&amp;&gt;)+(&lt;|&lt;&amp;)?…", text), text[-20:]


async def test_slack_message_without_text_or_links_is_still_valid(receiver: Receiver) -> None:
    bare = message(kind="test", subject=" ", text="  ", incident=None, links={})
    await SlackNotifier().send(Target(receiver.url("/slack/ok")), bare, "5")
    body = receiver.requests[0].json()
    assert slack_valid(body)  # the receiver answered 200 only if this holds
    assert body["text"] == "infradex notification"
    assert len(body["blocks"]) == 1


@pytest.mark.parametrize(
    ("behaviour", "code", "said", "advice"),
    [
        ("invalid", 400, "invalid_payload", "bug in infradex"),
        ("archived", 410, "channel_is_archived", "unarchive"),
        ("revoked", 404, "no_service", "create a new incoming webhook"),
        ("prohibited", 403, "action_prohibited", "workspace admin"),
    ],
)
async def test_slack_refusals_are_permanent_and_say_what_to_do(
    receiver: Receiver, behaviour: str, code: int, said: str, advice: str
) -> None:
    error = await failure(SlackNotifier(), Target(receiver.url(f"/slack/{behaviour}")), message())
    assert error.permanent
    assert f"HTTP {code}" in str(error)
    assert said in str(error)
    assert advice in str(error)


@pytest.mark.parametrize(("behaviour", "wait"), [("busy", 30.0), ("broken", None)])
async def test_slack_rate_limit_and_server_errors_are_retried(
    receiver: Receiver, behaviour: str, wait: float | None
) -> None:
    error = await failure(SlackNotifier(), Target(receiver.url(f"/slack/{behaviour}")), message())
    assert not error.permanent
    assert error.retry_after == wait


async def test_slack_url_from_a_missing_variable_says_which(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INFRADEX_TEST_SLACK_URL", raising=False)
    error = await failure(SlackNotifier(), Target("env:INFRADEX_TEST_SLACK_URL"), message())
    assert not error.permanent
    assert "$INFRADEX_TEST_SLACK_URL" in str(error)


# ---------------------------------------------------------------------------- PagerDuty
def pagerduty(receiver: Receiver, behaviour: str = "ok") -> PagerDutyNotifier:
    return PagerDutyNotifier(events_url=receiver.url(f"/pagerduty/{behaviour}"), clock=frozen)


async def test_pagerduty_trigger_acknowledge_resolve_share_one_dedup_key(
    receiver: Receiver,
) -> None:
    notifier = pagerduty(receiver)
    target = Target(ROUTING_KEY)
    answer = await notifier.send(target, message("trigger"), "11")
    assert answer == "PagerDuty accepted the trigger (HTTP 202, dedup_key infradex-incident-7)"
    assert receiver.alerts == {"infradex-incident-7": "triggered"}
    await notifier.send(target, message("acknowledge"), "12")
    assert receiver.alerts == {"infradex-incident-7": "acknowledged"}
    await notifier.send(target, message("resolve"), "13")
    assert receiver.alerts == {"infradex-incident-7": "resolved"}
    await notifier.send(target, message("reopen"), "14")
    assert receiver.alerts == {"infradex-incident-7": "triggered"}  # a new alert

    trigger, acknowledge, resolve, reopen = (seen.json() for seen in receiver.requests)
    assert trigger == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "infradex-incident-7",
        "payload": {
            "summary": "[infradex] Fastly is down",
            "source": "provider:fastly",
            "severity": "critical",
            "timestamp": "2026-05-01T12:00:00+00:00",
            "group": "provider",
            "component": "fastly",
            "class": "incident",
            "custom_details": INCIDENT,
        },
        "client": "infradex",
        "client_url": LINKS["incident"],
        "links": [
            {"href": LINKS["incident"], "text": "Open incident"},
            {"href": LINKS["acknowledge"], "text": "Acknowledge"},
            {"href": LINKS["resolve"], "text": "Resolve"},
        ],
    }
    assert acknowledge == {
        "routing_key": ROUTING_KEY,
        "event_action": "acknowledge",
        "dedup_key": "infradex-incident-7",
    }
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "infradex-incident-7",
    }
    assert reopen["event_action"] == "trigger"
    assert reopen["dedup_key"] == "infradex-incident-7"


async def test_pagerduty_test_message_is_a_trigger_of_its_own(receiver: Receiver) -> None:
    test = message("test", incident=None, links={}, urgent=False, subject="infradex test")
    await pagerduty(receiver).send(Target(ROUTING_KEY), test, "99")
    event = receiver.requests[0].json()
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "infradex-test-99"
    assert event["payload"]["source"] == "infradex"
    assert event["payload"]["severity"] == "warning"
    assert event["payload"]["class"] == "test"
    assert "client_url" not in event
    assert receiver.alerts == {"infradex-test-99": "triggered"}


async def test_pagerduty_summary_is_cut_to_1024_characters(receiver: Receiver) -> None:
    await pagerduty(receiver).send(Target(ROUTING_KEY), message(subject="x" * 5000), "15")
    summary = receiver.requests[0].json()["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.endswith("…")
    assert receiver.alerts  # and PagerDuty's checks accepted it


async def test_pagerduty_400_is_permanent_and_quotes_the_errors(receiver: Receiver) -> None:
    error = await failure(pagerduty(receiver), Target("too-short"), message())
    assert error.permanent
    assert "Length of 'routing_key' is incorrect (should be 32 characters)" in str(error)
    assert "Integration Key" in str(error)
    assert receiver.alerts == {}


async def test_pagerduty_429_is_retried_after_its_wait(receiver: Receiver) -> None:
    error = await failure(pagerduty(receiver, "busy"), Target(ROUTING_KEY), message())
    assert not error.permanent
    assert error.retry_after == 12.0


async def test_pagerduty_5xx_is_retried(receiver: Receiver) -> None:
    error = await failure(pagerduty(receiver, "broken"), Target(ROUTING_KEY), message())
    assert not error.permanent
    assert "HTTP 502" in str(error)


async def test_pagerduty_unreachable_is_retried() -> None:
    notifier = PagerDutyNotifier(
        events_url=f"http://127.0.0.1:{closed_port()}/v2/enqueue", timeout=2, clock=frozen
    )
    error = await failure(notifier, Target(ROUTING_KEY), message())
    assert not error.permanent


async def test_pagerduty_routing_key_from_the_environment(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRADEX_TEST_PD_KEY", ROUTING_KEY)
    await pagerduty(receiver).send(Target("env:INFRADEX_TEST_PD_KEY"), message(), "16")
    assert receiver.requests[0].json()["routing_key"] == ROUTING_KEY
    monkeypatch.delenv("INFRADEX_TEST_PD_KEY")
    error = await failure(pagerduty(receiver), Target("env:INFRADEX_TEST_PD_KEY"), message())
    assert not error.permanent
    assert "$INFRADEX_TEST_PD_KEY" in str(error)
    assert len(receiver.requests) == 1


async def test_pagerduty_unknown_kind_is_permanent(receiver: Receiver) -> None:
    error = await failure(pagerduty(receiver), Target(ROUTING_KEY), message("snooze"))
    assert error.permanent
    assert "'snooze'" in str(error)
    assert receiver.requests == []
