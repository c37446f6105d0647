"""One registry of channels: every kind has exactly one module-owned model that names its kind,
declares its public and secret fields, turns into a spec and builds its notifier; the
catalog, lint and the redaction ask the registry rather than keeping lists of their own."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from infradex.catalog.models import PersonAlerting
from infradex.catalog.schema import json_schema
from infradex.catalog.secrets import REDACTED, redact_document
from infradex.channels.config import ChannelConfig, ChannelSpec
from infradex.channels.registry import CHANNELS, acknowledges_itself, notifiers_for
from infradex.settings import Settings

#: one entry of each kind with every field written out; a new kind adds its own here
EXAMPLES: dict[str, dict[str, Any]] = {
    "email": {"type": "email", "address": "val@example.org"},
    "webhook": {
        "type": "webhook",
        "url": "https://hooks.example.org/val?token=URLSECRET",
        "secret": "SIGNSECRET",
    },
    "slack": {"type": "slack", "url": "https://hooks.slack.com/services/T0/B0/SLACKSECRET"},
    "pagerduty": {"type": "pagerduty", "routingKey": "ROUTINGSECRET"},
    "irc": {"type": "irc", "url": "ircs://infradex:IRCSECRET@irc.example.org/ops"},
}


def _yaml_fields(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _settings() -> Settings:
    return Settings(
        catalog=Path("."),
        catalog_is_embedded=False,
        data_dir=Path("."),
        database_url="sqlite://",
        secret_key="x",
        public_read=True,
        smtp_url="smtp://127.0.0.1:25",
    )


def test_each_entry_is_the_model_of_the_kind_it_is_registered_as() -> None:
    assert set(EXAMPLES) == set(CHANNELS), "give every registered kind an example above"
    for kind, model in CHANNELS.items():
        assert issubclass(model, ChannelConfig)
        assert model.kind() == kind
        assert not inspect.isabstract(model), f"{kind} does not implement spec and notifier"


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_each_kind_declares_which_fields_are_public_and_which_secret(kind: str) -> None:
    model = CHANNELS[kind]
    # declared in the kind's own class, not inherited: someone decided, field by field
    assert "public" in vars(model) or model.public == frozenset({"type"})
    assert "secrets" in vars(model), f"{model.__name__} must declare `secrets` (may be empty)"
    fields = _yaml_fields(model)
    assert "type" in model.public
    assert model.public <= fields and model.secrets <= fields
    assert not model.public & model.secrets, "a field cannot be public and secret"
    assert set(EXAMPLES[kind]) == fields, "the example writes every field"


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_every_field_not_public_is_redacted_below_admin(kind: str) -> None:
    example = EXAMPLES[kind]
    document = {"spec": {"alerting": {"channels": [example]}}}
    (shown,) = redact_document(document)["spec"]["alerting"]["channels"]
    model = CHANNELS[kind]
    for field, value in example.items():
        assert shown[field] == (value if field in model.public else REDACTED), field
    referenced = {f: "env:NAME" for f in example if f not in model.public}
    (named,) = redact_document({"channels": [{**example, **referenced}]})["channels"]
    assert named == {**example, **referenced}, "a reference names a secret, it shows nothing"


def test_a_kind_this_version_does_not_know_shows_its_type_only() -> None:
    (shown,) = redact_document({"channels": [{"type": "matrix", "room": "#ops:x.org"}]})["channels"]
    assert shown == {"type": "matrix", "room": REDACTED}


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_each_secret_written_out_is_found_and_none_written_as_a_reference(kind: str) -> None:
    model = CHANNELS[kind]
    channel = model.model_validate(EXAMPLES[kind])
    found = {w.field for w in channel.written_secrets()}
    assert model.secrets <= found
    for written in channel.written_secrets():
        assert f"`{written.field}`" in written.message and "env:NAME" in written.fix
    referenced = {f: "env:NAME" for f in EXAMPLES[kind] if f not in model.public}
    assert list(model.model_validate({**EXAMPLES[kind], **referenced}).written_secrets()) == []


def test_a_webhook_url_is_a_secret_only_when_it_carries_a_credential() -> None:
    model = CHANNELS["webhook"]
    plain = model.model_validate({"type": "webhook", "url": "https://hooks.example.org/x"})
    assert list(plain.written_secrets()) == []
    tokened = model.model_validate(EXAMPLES["webhook"])
    assert {w.field for w in tokened.written_secrets()} == {"secret", "url"}


def test_each_kind_becomes_the_spec_its_notifier_reads() -> None:
    def spec(kind: str, default_email: str | None = None) -> ChannelSpec | None:
        return CHANNELS[kind].model_validate(EXAMPLES[kind]).spec(default_email)

    assert spec("email") == ChannelSpec("email", "val@example.org")
    assert CHANNELS["email"].model_validate({"type": "email"}).spec("me@x.org") == ChannelSpec(
        "email", "me@x.org"
    )
    assert CHANNELS["email"].model_validate({"type": "email"}).spec(None) is None
    assert spec("webhook") == ChannelSpec(
        "webhook", EXAMPLES["webhook"]["url"], (("secret", "SIGNSECRET"),)
    )
    assert spec("slack") == ChannelSpec("slack", EXAMPLES["slack"]["url"])
    assert spec("pagerduty") == ChannelSpec("pagerduty", "ROUTINGSECRET")
    assert spec("irc") == ChannelSpec("irc", EXAMPLES["irc"]["url"])


def test_each_notifier_is_its_channel_and_is_built_from_the_settings() -> None:
    built = notifiers_for(_settings())
    # every catalog channel, and the status page's subscribers' webhooks (no catalog kind)
    assert set(built) == set(CHANNELS) | {"subscriber-webhook"}
    assert "subscriber-webhook" not in CHANNELS
    for kind, notifier in built.items():
        assert notifier.channel == kind
        assert inspect.iscoroutinefunction(notifier.send)


def test_only_pagerduty_acknowledges_by_itself() -> None:
    assert [kind for kind in CHANNELS if acknowledges_itself(kind)] == ["pagerduty"]
    assert not acknowledges_itself("matrix")  # unknown (a newer row): links are kept


def test_the_catalog_accepts_every_registered_kind_and_names_them_for_another() -> None:
    parsed = PersonAlerting.model_validate({"channels": list(EXAMPLES.values())})
    assert [type(c) for c in parsed.channels] == list(CHANNELS.values())
    with pytest.raises(ValidationError) as refused:
        PersonAlerting.model_validate({"channels": [{"type": "matrix"}]})
    (error,) = refused.value.errors()
    assert error["loc"] == ("channels", 0, "type") and error["type"] == "literal_error"
    for kind in CHANNELS:
        assert repr(kind) in error["msg"]


def test_the_json_schema_describes_every_kind() -> None:
    definitions = json_schema()["$defs"]
    for owner in ("PersonAlerting", "EscalationPolicySpec"):
        kinds = definitions[owner]["properties"]["channels"]["items"]["oneOf"]
        assert [k["properties"]["type"]["const"] for k in kinds] == list(CHANNELS)
        for described, model in zip(kinds, CHANNELS.values(), strict=True):
            assert set(described["properties"]) == _yaml_fields(model)  # YAML names
