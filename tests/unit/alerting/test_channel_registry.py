"""One registry of channels: every type the catalog accepts has exactly one entry, each entry's
notifier says which channel it is and is built from the server's settings, and what the
alerter asks of a channel (no one-click links for PagerDuty) comes from the notifier."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import get_args

from infradex.alerting.channels import CHANNELS, acknowledges_itself, notifiers_for
from infradex.catalog.models import NotifyChannel
from infradex.settings import Settings


def test_the_registry_has_every_channel_the_catalog_accepts_and_no_other() -> None:
    accepted = set(get_args(NotifyChannel.model_fields["type"].annotation))
    assert set(CHANNELS) == accepted


def test_each_notifier_is_its_channel_and_is_built_from_the_settings() -> None:
    settings = Settings(
        catalog=Path("."),
        catalog_is_embedded=False,
        data_dir=Path("."),
        database_url="sqlite://",
        secret_key="x",
        public_read=True,
        smtp_url="smtp://127.0.0.1:25",
    )
    built = notifiers_for(settings)
    assert set(built) == set(CHANNELS)
    for name, channel in CHANNELS.items():
        assert channel.notifier.channel == name
        assert isinstance(channel.notifier.acknowledges_itself, bool)
        assert inspect.iscoroutinefunction(channel.notifier.send)
        assert type(built[name]) is channel.notifier


def test_only_pagerduty_acknowledges_by_itself() -> None:
    assert [name for name in CHANNELS if acknowledges_itself(name)] == ["pagerduty"]
    assert not acknowledges_itself("matrix")  # unknown (a newer row): links are kept
