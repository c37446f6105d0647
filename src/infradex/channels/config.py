"""What every channel kind declares besides its notifier: the base of its catalog config
model, and the spec an escalation hands to the outbox.

A channel kind is one subclass of :class:`ChannelConfig` in its own module
(``channels/<kind>.py``), listed in :mod:`infradex.channels.registry`. The subclass is the
catalog's model of that kind's entry in a person's ``alerting.channels`` or a policy's
``channels`` (field names as written in YAML, ``type: Literal["<kind>"]``, its own
validation), and it says:

- ``public``: the YAML fields anyone may read; every other field is redacted for readers
  below ``admin`` (``catalog.secrets``), so a field nobody thought about stays hidden;
- ``secrets``: the YAML fields that always hold a secret, so one written out (not
  ``env:NAME`` or ``file:PATH``) is a ``secret-in-catalog`` warning (``lint``);
  :meth:`ChannelConfig.written_secrets` may add others (a webhook URL with a token in it);
- ``acknowledges_itself``: the other side has its own acknowledge and resolve (PagerDuty),
  so pages on it carry no one-click links;
- :meth:`ChannelConfig.spec`: the runtime :class:`ChannelSpec` (where to send, and options);
- :meth:`ChannelConfig.notifier`: the notifier a server runs, built from its settings.

Pure: no I/O; ``notifier`` only builds an object.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from infradex.secretrefs import is_reference

if TYPE_CHECKING:
    from infradex.channels.base import Notifier
    from infradex.settings import Settings

__all__ = ["ChannelConfig", "ChannelSpec", "WrittenSecret", "check_url_field"]


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One way to reach a recipient: the channel's ``type``, where (an email address, a URL,
    a routing key, as written: ``env:NAME`` is read when sending) and its options (a
    webhook's signing secret). Stored with an incident's policy snapshot and in the outbox."""

    type: str
    address: str
    options: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "address": self.address, "options": dict(self.options)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelSpec:
        return cls(data["type"], data["address"], tuple(sorted(data.get("options", {}).items())))


@dataclass(frozen=True, slots=True)
class WrittenSecret:
    """A secret written out in a channel's config: the YAML field, what is wrong, the fix."""

    field: str
    message: str
    fix: str


class ChannelConfig(BaseModel):
    """The base of every channel kind's catalog model (see the module's docstring)."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

    type: str

    #: YAML field names anyone may read; every other field is redacted below ``admin``
    public: ClassVar[frozenset[str]] = frozenset({"type"})
    #: YAML field names that always hold a secret (written out: a lint warning)
    secrets: ClassVar[frozenset[str]] = frozenset()
    #: the other side acknowledges and resolves by itself: pages carry no one-click links
    acknowledges_itself: ClassVar[bool] = False

    @classmethod
    def kind(cls) -> str:
        """The ``type`` this model accepts (its ``Literal``)."""
        field = cls.model_fields["type"]
        (value,) = getattr(field.annotation, "__args__", (None,))
        if not isinstance(value, str):
            raise TypeError(f"{cls.__name__}.type must be a Literal of one string")
        return value

    @abstractmethod
    def spec(self, default_email: str | None) -> ChannelSpec | None:
        """Where this channel sends, for a recipient whose own address is ``default_email``;
        None when it has nowhere to send (an email channel for someone without an address)."""

    @classmethod
    @abstractmethod
    def notifier(cls, settings: Settings) -> Notifier:
        """The notifier a server with ``settings`` runs for this kind."""

    def written_secrets(self) -> Iterator[WrittenSecret]:
        """Each secret written out rather than as ``env:NAME`` / ``file:PATH``."""
        for name in sorted(self.secrets):
            value = getattr(self, _attribute(type(self), name))
            if value and not is_reference(value):
                yield WrittenSecret(
                    name,
                    f"the {self.type} channel's `{name}` is written out: it is a secret, and "
                    "the catalog is in git",
                    f"write `{name}: env:NAME` and set NAME in the server's environment",
                )


def check_url_field(
    kind: str, url: str | None, schemes: tuple[str, ...], example: str = ""
) -> None:
    """A ``ValueError`` (shown with the catalog file and line) unless a channel of ``kind``
    has a ``url`` with one of ``schemes`` (``"https://"``…), or a reference to one."""
    if not url:
        raise ValueError(f"a {kind} channel needs `url:` (or `url: env:NAME`)")
    if not url.startswith((*schemes, "env:", "file:")):
        raise ValueError(
            f"url {url!r} must start with {' or '.join(schemes)} (or env: or file:)"
            + (f", e.g. {example}" if example else "")
        )


def _attribute(model: type[BaseModel], yaml_name: str) -> str:
    for name, info in model.model_fields.items():
        if yaml_name in (name, info.alias):
            return name
    raise KeyError(f"{model.__name__} has no field {yaml_name!r}")
