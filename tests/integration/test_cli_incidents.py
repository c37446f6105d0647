"""`infradex incidents ...` and `infradex alert test`, end to end: a real SQLite store in a
temporary data directory and a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member
from infradex.cli.main import app
from infradex.clock import utcnow
from infradex.settings import default_store
from infradex.store import Database

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "alerting" / "catalog.yaml"
runner = CliRunner()


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.mails.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    catalog = tmp_path / "org"
    catalog.mkdir()
    text = FIXTURE.read_text()
    for placeholder in ("__CDN_URL__", "__APP_URL__", "__SOLO_URL__"):
        text = text.replace(placeholder, "http://127.0.0.1:9/x")
    (catalog / "catalog.yaml").write_text(text)
    return {
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": "",
        "INFRADEX_SMTP_URL": "",
    }


def seed(env: dict[str, str]) -> int:
    """One open incident in the store the CLI will use."""
    store = default_store(Path(env["INFRADEX_DATA_DIR"]), Path(env["INFRADEX_CATALOG"]))
    db = Database(f"sqlite:///{store}")

    async def run() -> int:
        await db.upgrade()
        now = utcnow()
        incident = Incident("service:solo", "solo.example.org is down", now)
        incident.members["service:solo/home"] = Member(
            "service:solo/home", "service:solo", "root", now, None, "refused"
        )
        incident.events.append(Event(now, "opened", {"check": "service:solo/home"}))
        try:
            async with db.begin() as connection:
                return await records.save(connection, incident, now, None)
        finally:
            await db.close()

    Path(env["INFRADEX_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    return asyncio.run(run())


def test_list_show_ack_note_snooze_resolve(env: dict[str, str]) -> None:
    empty = runner.invoke(app, ["incidents", "list"], env=env)
    assert empty.exit_code == 0 and "no incidents" in empty.stdout
    incident_id = seed(env)
    listed = runner.invoke(app, ["incidents", "list", "--status", "open"], env=env)
    assert listed.exit_code == 0 and "solo.example.org is down" in listed.stdout
    shown = runner.invoke(app, ["incidents", "show", str(incident_id), "--format", "json"], env=env)
    assert json.loads(shown.stdout)["members"][0]["check"] == "service:solo/home"
    acked = runner.invoke(app, ["incidents", "ack", str(incident_id), "--note", "on it"], env=env)
    assert acked.exit_code == 0 and "acknowledged" in acked.stdout
    again = runner.invoke(app, ["incidents", "ack", str(incident_id)], env=env)
    assert again.exit_code != 0 and "already acknowledged" in again.stderr
    noted = runner.invoke(app, ["incidents", "note", str(incident_id), "rebooted"], env=env)
    assert noted.exit_code == 0
    bad = runner.invoke(app, ["incidents", "snooze", str(incident_id), "--for", "ages"], env=env)
    assert bad.exit_code != 0 and "--for" in bad.stderr
    resolved = runner.invoke(app, ["incidents", "resolve", str(incident_id)], env=env)
    assert resolved.exit_code == 0 and "resolved" in resolved.stdout
    text = runner.invoke(app, ["incidents", "show", str(incident_id)], env=env)
    for kind in ("opened", "acknowledged", "note", "resolved"):
        assert kind in text.stdout
    missing = runner.invoke(app, ["incidents", "show", "4242"], env=env)
    assert missing.exit_code != 0 and "no incident #4242" in missing.stderr
    wrong = runner.invoke(app, ["incidents", "list", "--status", "sleepy"], env=env)
    assert wrong.exit_code != 0 and "--status" in wrong.stderr


def test_alert_test_reports_each_hop_and_delivers(
    env: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    env = {**env, "INFRADEX_SMTP_URL": f"smtp://127.0.0.1:{port}", "INFRADEX_MAIL_FROM": "a@b.c"}
    result = runner.invoke(app, ["alert", "test", "--to", "schedule:staff"], env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Sam Staff (person:sam-staff, via schedule:staff)" in result.stdout
    assert "email sam@example.org" in result.stdout
    assert "✓ email to sam@example.org: accepted by 127.0.0.1" in result.stdout
    [(to, content)] = box.mails
    assert to == ["sam@example.org"] and b"Test notification" in content


def test_alert_test_fails_loudly_when_the_mail_server_is_down(env: dict[str, str]) -> None:
    env = {**env, "INFRADEX_SMTP_URL": "smtp://127.0.0.1:9"}
    result = runner.invoke(app, ["alert", "test", "--to", "team:ops"], env=env)
    assert result.exit_code == 1
    assert "✗ email to sam@example.org: cannot send mail through 127.0.0.1:9" in result.stdout
    assert "0 of 2 delivered" in result.stdout


def test_alert_test_without_a_mail_server_says_what_to_set(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["alert", "test", "--to", "person:val-volunteer"], env=env)
    assert result.exit_code == 1 and "set INFRADEX_SMTP_URL" in result.stdout


def test_alert_test_refuses_what_cannot_be_paged(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["alert", "test", "--to", "service:solo"], env=env)
    assert result.exit_code != 0 and "cannot be paged" in result.stderr
    bad_url = runner.invoke(
        app, ["alert", "test", "--to", "team:ops"], env={**env, "INFRADEX_SMTP_URL": "mail.x"}
    )
    assert bad_url.exit_code != 0 and "not an SMTP URL" in bad_url.stderr
