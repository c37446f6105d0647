"""The pure parts of subscribing: signed one-time links, what a notice says (and where its
links lead), the sign-up form on the page, the internal-address policy and the mail headers
of RFC 8058."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pytest

from infradex.channels.email import build_email
from infradex.netpolicy import DEFAULT_POLICY
from infradex.settings import Settings
from infradex.statuspage.subscriber_messages import (
    StatusEvent,
    SubscriberLinks,
    confirmation_message,
    notice_message,
)
from infradex.statuspage.subscriber_tokens import LinkError, make_token, read_token

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


def test_a_token_reads_back_what_it_was_made_with() -> None:
    token = make_token("k", "confirm", 42, "n0nce-abc_def", NOW + timedelta(hours=1))
    claims = read_token("k", token, "confirm", NOW)
    assert (claims.purpose, claims.subscriber_id, claims.nonce) == ("confirm", 42, "n0nce-abc_def")
    assert claims.expires == NOW + timedelta(hours=1)
    forever = make_token("k", "unsubscribe", 7, "abcdefgh", None)
    assert read_token("k", forever, "unsubscribe", NOW + timedelta(days=3650)).expires is None


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("confirm.", "unsubscribe.", 1),
        lambda t: t.replace(".42.", ".43.", 1),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t + "x",
        lambda t: t.rsplit(".", 1)[0],
        lambda t: "<script>" + t,
    ],
)
def test_an_altered_token_is_forged(change: object) -> None:
    token = make_token("k", "confirm", 42, "abcdefgh", NOW + timedelta(hours=1))
    with pytest.raises(LinkError) as raised:
        read_token("k", change(token), "confirm", NOW)  # type: ignore[operator]
    assert raised.value.reason == "forged"


def test_a_token_made_under_another_key_is_forged_and_an_old_one_expired() -> None:
    token = make_token("other", "confirm", 42, "abcdefgh", NOW + timedelta(hours=1))
    with pytest.raises(LinkError, match="not made by this status page"):
        read_token("k", token, "confirm", NOW)
    token = make_token("k", "confirm", 42, "abcdefgh", NOW)
    with pytest.raises(LinkError, match="Sign up again") as raised:
        read_token("k", token, "confirm", NOW)
    assert raised.value.reason == "expired"


def settings(**changes: object) -> Settings:
    from pathlib import Path

    return Settings(catalog=Path("."), catalog_is_embedded=False, data_dir=Path("."),
                    database_url="sqlite://", secret_key="k", public_read=True,
                    **changes)  # type: ignore[arg-type]  # fmt: skip


def test_links_lead_to_the_status_host_when_there_is_one() -> None:
    own = SubscriberLinks.from_settings(settings(status_host="status.example.org"), "k")
    assert own.page == "https://status.example.org/status"
    assert own.unsubscribe(3, "abcdefgh").startswith(
        "https://status.example.org/status/unsubscribe?token=unsubscribe.3.0.abcdefgh."
    )
    shared = SubscriberLinks.from_settings(settings(base_url="https://infra.example.org/"), "k")
    assert shared.confirm(3, "abcdefgh", NOW).startswith(
        "https://infra.example.org/status/confirm?token=confirm.3."
    )


def test_a_notice_keeps_headers_on_one_line_and_says_the_words_as_written() -> None:
    links = SubscriberLinks("https://status.example.org", "Example\nStatus", "k")
    event = StatusEvent(kind="incident.resolved", subject_id=5, update_id="9",
                        component_ids=("aaaaaaaaaaaa",), title="Down\r\nBcc: eve@example.org",
                        body="<b>fixed</b>", status="resolved", at=NOW,
                        component_names=("Website",))  # fmt: skip
    message = notice_message(links, event, 3, "abcdefgh")
    assert message.subject == "[Example Status] Resolved: Down Bcc: eve@example.org"
    assert "<b>fixed</b>" in message.text and message.html is None
    assert "Affected: Website" in message.text
    mail = build_email(message, "status@example.org", "ada@example.org", "17")
    assert mail["List-Unsubscribe"] == f"<{message.links['unsubscribe']}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    wire = mail.as_bytes()
    assert b"List-Unsubscribe: <https://status.example.org/status/unsubscribe?token=" in wire
    assert b"\nBcc:" not in wire
    confirmation = build_email(
        confirmation_message(links, 3, "abcdefgh", NOW, ["Website"]), "s@example.org",
        "ada@example.org", "18",
    )  # fmt: skip
    assert confirmation["List-Unsubscribe"] is None  # nobody is subscribed yet


def test_internal_addresses_are_refused_unless_allowed() -> None:
    strict = DEFAULT_POLICY.without_internal(())
    for address in ("127.0.0.1", "10.2.3.4", "192.168.1.1", "172.16.0.9", "::1", "fd00::1",
                    "169.254.169.254", "::ffff:10.0.0.1", "100.64.0.1", "0.0.0.0"):  # fmt: skip
        assert strict.denied_by(address) is not None, address
    assert strict.denied_by("151.101.0.223") is None
    loose = DEFAULT_POLICY.without_internal((ip_network("127.0.0.1/32"),))
    assert loose.denied_by("127.0.0.1") is None
    assert loose.denied_by("127.0.0.2") is not None
    assert loose.denied_by("169.254.169.254") is not None


def test_a_maintenance_step_is_an_event_with_its_own_key() -> None:
    from infradex.statuspage.subscriber_notices import maintenance_event

    started = maintenance_event(window_id=4, occurrence="2026-12-06T08:00:00+00:00",
                                step="in_progress", name="Database upgrade",
                                body="PyPI is read-only.", component_ids=("aaaaaaaaaaaa",),
                                at=NOW)  # fmt: skip
    assert (started.kind, started.status) == ("maintenance.started", "in_progress")
    assert started.key == "maintenance:4:2026-12-06T08:00:00+00:00:in_progress"
    links = SubscriberLinks("https://status.example.org", "Status", "k")
    assert notice_message(links, started, 1, "abcdefgh").subject == (
        "[Status] Maintenance in progress: Database upgrade"
    )
    with pytest.raises(ValueError, match="unknown maintenance step"):
        maintenance_event(window_id=4, occurrence="x", step="verifying", name="n", body="b",
                          component_ids=(), at=NOW)  # fmt: skip


def test_what_the_server_publishes_by_itself_links_only_to_a_configured_address() -> None:
    from infradex.statuspage.subscriber_messages import public_root

    assert public_root(settings()) is None  # the listener's address may be loopback
    assert SubscriberLinks.configured(settings(), "k") is None
    assert public_root(settings(base_url="https://infra.example.org", base_url_given=True)) == (
        "https://infra.example.org"
    )
    assert public_root(settings(status_host="status.example.org")) == "https://status.example.org"
    chosen = settings(status_url="https://status.example.net", status_host="status.example.org",
                      base_url="https://infra.example.org", base_url_given=True)  # fmt: skip
    links = SubscriberLinks.configured(chosen, "k")
    assert links is not None and links.page == "https://status.example.net/status"
    assert SubscriberLinks.from_settings(chosen, "k").root == "https://status.example.net"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://status.example.org", "https://status.example.org"),
        ("https://status.example.org/", "https://status.example.org"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("", None),
    ],
)
def test_the_status_url_setting(value: str, expected: str | None) -> None:
    assert Settings.from_env({"INFRADEX_STATUS_URL": value}).status_url == expected


@pytest.mark.parametrize(
    "value", ["status.example.org", "ftp://status.example.org", "https://x.org/status", "https://"]
)
def test_a_status_url_with_more_or_less_than_an_origin_is_refused(value: str) -> None:
    from infradex.errors import UsageError

    with pytest.raises(UsageError, match="INFRADEX_STATUS_URL"):
        Settings.from_env({"INFRADEX_STATUS_URL": value})
