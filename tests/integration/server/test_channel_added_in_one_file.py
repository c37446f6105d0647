"""The promise of the channel registry: a kind written in one module and registered works end
to end, from the catalog file through escalation to delivery, with its validation, its
secret and public fields and its acknowledge behaviour, without another file knowing it.
Real parts: the catalog loader, the monitor's HTTP probe against a local target, the alerter
and the dispatcher on the real store, with a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from infradex import lint
from infradex.alerting import records
from infradex.catalog.secrets import REDACTED, redact_document
from infradex.channels.config import ChannelConfig
from infradex.channels.registry import CHANNELS
from infradex.store import Database

from .alerting_harness import Rig, Target, inbox, load_org, target, write_org
from .recording_channel import RecordingChannel, RecordingNotifier, SelfAcknowledgingChannel

__all__ = ["inbox", "target"]  # fixtures

SOLO = "service:solo/home"
SAM = (
    "spec: {email: sam@example.org, staff: true, timezone: America/New_York, memberOf: [team:ops]}"
)
SAM_ON_RECORDING = """spec:
  email: sam@example.org
  staff: true
  timezone: America/New_York
  memberOf: [team:ops]
  alerting:
    channels: [{type: recording, room: sam-pager, token: env:INFRADEX_TEST_RECORDING}]"""


def recording_org(directory: Path, target: Target) -> Path:
    """The fixture organisation: Sam is paged on the recording channel, and the default
    policy's own channel is a recording room (told of every incident)."""
    root = write_org(directory, target, channels="[{type: recording, room: ops-room}]")
    path = root / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    assert SAM in text
    path.write_text(text.replace(SAM, SAM_ON_RECORDING), encoding="utf-8")
    return root


async def page_solo(rig: Rig, target: Target) -> None:
    target.status["/solo"] = 503
    for _ in range(3):  # failureThreshold 3, every 10 s
        await rig.run(SOLO)
        await rig.turn()
        rig.now += timedelta(seconds=10)


@pytest.mark.parametrize("kind", [RecordingChannel, SelfAcknowledgingChannel])
async def test_a_registered_kind_is_paged_acknowledged_and_told(
    db: Database,
    tmp_path: Path,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
    kind: type[ChannelConfig],
) -> None:
    monkeypatch.setitem(CHANNELS, "recording", kind)
    monkeypatch.setenv("INFRADEX_TEST_RECORDING", "the-token")
    rig = Rig(db, load_org(recording_org(tmp_path / "org", target)), "smtp://127.0.0.1:9")
    recorder = rig.dispatcher.notifiers["recording"]
    assert isinstance(recorder, RecordingNotifier)

    await page_solo(rig, target)
    # Sam is paged on his channel, with the token read from the environment when sending,
    # and the policy's own room hears of the incident
    [page] = recorder.to("sam-pager")
    assert page.message.kind == "trigger" and page.token == "the-token"
    assert "solo.example.org" in page.message.subject and "schedule:staff" in page.message.text
    [told] = recorder.to("ops-room")
    assert told.message.kind == "trigger" and told.token is None
    if kind.acknowledges_itself:  # the other side acknowledges: no one-click links
        assert set(page.message.links) == {"incident"}
        return

    # the one-click link in the page acknowledges; Sam and the room are told who took it
    assert set(page.message.links) == {"incident", "acknowledge", "resolve"}
    done = await records.use_link(db, page.message.links["acknowledge"].rsplit("/", 1)[1], rig.now)
    assert done["incident"]["status"] == "acknowledged"
    await rig.advance(timedelta(minutes=1))
    assert [s.message.kind for s in recorder.to("sam-pager")] == ["trigger", "acknowledge"]
    assert [s.message.kind for s in recorder.to("ops-room")] == ["trigger", "acknowledge"]


def test_a_registered_kind_is_validated_linted_and_redacted_by_its_own_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CHANNELS, "recording", RecordingChannel)
    root = tmp_path / "org"
    root.mkdir()
    (root / "people.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Person\nmetadata: {name: sam}\nspec:\n"
        "  email: sam@example.org\n  alerting:\n    channels:\n"
        "      - {type: recording, room: sam-pager, token: WRITTENOUT}\n"
        "---\napiVersion: infradex/v1\nkind: Person\nmetadata: {name: val}\nspec:\n"
        "  alerting:\n    channels:\n"
        "      - {type: recording, room: 'not a room'}\n"
        "      - {type: recording, room: ok, colour: red}\n",
        encoding="utf-8",
    )
    loaded = lint.load(root)
    errors = [(p.code, p.message, p.hint) for p in loaded.errors]
    assert (
        "invalid-value",
        "room 'not a room' must be letters, digits and -, e.g. ops-room",
        "",
    ) in errors
    assert ("unknown-field", "unknown field `colour`", "known fields: room, token, type") in errors
    [secret] = [p for p in loaded.warnings if p.code == "secret-in-catalog"]
    assert "`token` is written out" in secret.message and "env:NAME" in secret.hint
    assert secret.line == 8  # the channel's own line in people.yaml

    shown = redact_document(
        {"channels": [{"type": "recording", "room": "sam-pager", "token": "WRITTENOUT"}]}
    )
    assert shown["channels"] == [{"type": "recording", "room": "sam-pager", "token": REDACTED}]
