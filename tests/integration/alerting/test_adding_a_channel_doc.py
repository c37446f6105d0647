"""docs/notifiers.md's "Adding a channel" example is real code: loaded from the page as its
own module and registered with one entry, the ntfy kind is validated, linted and redacted
by its module, and its notifier sends to a real aiohttp receiver on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError

from infradex.catalog.models import PersonAlerting
from infradex.catalog.secrets import REDACTED, redact_document
from infradex.channels.base import Message, NotifyError, Target
from infradex.channels.registry import CHANNELS, notifiers_for
from infradex.settings import Settings

PAGE = Path(__file__).resolve().parents[3] / "docs" / "notifiers.md"


def example_source() -> str:
    """The first Python block of the page's "Adding a channel" section."""
    section = PAGE.read_text(encoding="utf-8").split("## Adding a channel", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "docs/notifiers.md has no Python example under Adding a channel"
    return found[1]


@pytest.fixture
def ntfy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The page's module, imported as a module of its own and registered (one entry)."""
    path = tmp_path / "ntfy_from_the_docs.py"
    path.write_text(example_source(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("ntfy_from_the_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "ntfy_from_the_docs", module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(CHANNELS, "ntfy", module.NtfyChannel)
    return module


@dataclass
class Ntfy:
    """An ntfy server's JSON publishing endpoint: keeps each request, answers ``status``."""

    url: str = ""
    status: int = 200
    received: list[tuple[dict[str, str], Any]] = field(default_factory=list)

    async def publish(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), json.loads(await request.read())))
        return web.json_response({"id": "x1", "event": "message"}, status=self.status)


@pytest.fixture
async def server() -> AsyncIterator[Ntfy]:
    state = Ntfy()
    app = web.Application()
    app.router.add_post("/", state.publish)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


def test_the_catalog_validates_lints_and_redacts_the_new_kind(ntfy: ModuleType) -> None:
    entry = {"type": "ntfy", "url": "https://ntfy.sh", "topic": "ops", "token": "tk_LITERAL"}
    (channel,) = PersonAlerting.model_validate({"channels": [entry]}).channels
    assert isinstance(channel, ntfy.NtfyChannel)
    assert [w.field for w in channel.written_secrets()] == ["token"]
    (shown,) = redact_document({"channels": [entry]})["channels"]
    assert shown == {"type": "ntfy", "url": REDACTED, "topic": "ops", "token": REDACTED}
    with pytest.raises(ValidationError, match=r"a ntfy channel needs `url:`"):
        PersonAlerting.model_validate({"channels": [{"type": "ntfy", "topic": "ops"}]})


async def test_the_new_kind_sends_through_its_registered_notifier(
    ntfy: ModuleType, server: Ntfy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRADEX_TEST_NTFY_TOKEN", "tk_from_env")
    entry = {
        "type": "ntfy",
        "url": server.url,
        "topic": "ops",
        "token": "env:INFRADEX_TEST_NTFY_TOKEN",
    }
    (channel,) = PersonAlerting.model_validate({"channels": [entry]}).channels
    spec = channel.spec(None)
    settings = Settings(
        catalog=Path("."),
        catalog_is_embedded=False,
        data_dir=Path("."),
        database_url="sqlite://",
        secret_key="x",
        public_read=True,
    )
    notifier = notifiers_for(settings)["ntfy"]
    message = Message(
        "trigger", "[infradex] DOWN #7", "solo is down", links={"incident": "http://i/7"}
    )
    answer = await notifier.send(Target(spec.address, dict(spec.options)), message, "42")
    assert answer.startswith("HTTP 200 from http://127.0.0.1:")
    [(headers, body)] = server.received
    assert headers["Authorization"] == "Bearer tk_from_env"
    assert body == {
        "topic": "ops",
        "title": "[infradex] DOWN #7",
        "message": "solo is down",
        "priority": 5,
        "click": "http://i/7",
    }
    server.status = 403
    with pytest.raises(NotifyError) as refused:
        await notifier.send(Target(spec.address, dict(spec.options)), message, "43")
    assert refused.value.permanent and "HTTP 403" in str(refused.value)
