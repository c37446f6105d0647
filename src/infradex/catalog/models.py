"""pydantic v2 models of the catalog format, documented field by field (infradex's extensions
marked) in ``docs/catalog.md``. Field names are camelCase as written in YAML.

These models check the shape of one document: types, enums, slugs, URLs, durations,
conditions, time zones. Whether a reference points at something real is the cross-reference
pass's job (``cross_reference.py``), because it needs the whole catalog.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infradex.catalog.refs import SLUG
from infradex.catalog.reminders import check_remind_before
from infradex.channels.registry import NotifyChannel
from infradex.conditions import ConditionError, parse_condition
from infradex.durations import DurationError, parse_duration
from infradex.urls import domain_name, email_address, github_handle, link, web_url

__all__ = [
    "DOCUMENT_MODELS",
    "PROBE_SCHEMES",
    "SPEC_MODELS",
    "Check",
    "Contact",
    "DatacenterSpec",
    "Dependency",
    "EscalationPolicySpec",
    "HostSpec",
    "LocationProblems",
    "Maintenance",
    "Metadata",
    "NotifyChannel",
    "Owner",
    "PersonAlerting",
    "PersonSpec",
    "ProviderSpec",
    "ScheduleSpec",
    "ServiceSpec",
    "ServiceStatus",
    "Spec",
    "TeamSpec",
    "ZoneSpec",
]

API_VERSION = "infradex/v1"
PROBE_SCHEMES = ("http", "https", "tcp", "dns", "tls", "dns-drift", "statuspage")
Weekday = Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
WEEKDAYS: tuple[Weekday, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ----------------------------------------------------------------------------- validators
def _slug(value: str) -> str:
    if not SLUG.match(value) or len(value) > 63:
        raise ValueError(
            f"{value!r} is not a valid name: use 1-63 lower-case letters and digits joined by "
            f"- _ or . (e.g. {re.sub(r'[^a-z0-9]+', '-', value.lower()).strip('-') or 'docs'!r})"
        )
    return value


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    return value


def _condition(value: str) -> str:
    try:
        parse_condition(value)
    except ConditionError as exc:
        raise ValueError(str(exc)) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone; write e.g. Europe/Amsterdam, "
            "America/New_York or UTC"
        ) from None
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in PROBE_SCHEMES:
        raise ValueError(
            f"{value!r}: the scheme picks the probe and must be one of "
            + ", ".join(f"{s}://" for s in PROBE_SCHEMES)
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port; use a number 1-65535") from None
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"{value!r} has no host; write e.g. https://docs.python.org/3/")
    if parts.scheme == "statuspage" and (not parts.hostname or parts.query or parts.fragment):
        raise ValueError(
            f"{value!r} names a provider's status page by its host (and a path prefix, if "
            "any), e.g. statuspage://status.fastly.com"
        )
    if parts.scheme in ("tcp", "tls") and (not parts.hostname or port is None):
        raise ValueError(f"{value!r} needs a host and a port, e.g. {parts.scheme}://host:443")
    if parts.scheme == "dns-drift" and (not parts.hostname or parts.path.strip("/")):
        raise ValueError(
            f"{value!r} names the zone to compare as its host and nothing else, e.g. "
            "dns-drift://python.org"
        )
    if parts.scheme == "dns" and not parts.path.strip("/"):
        raise ValueError(
            f"{value!r} needs a name to look up, e.g. dns://9.9.9.9/python.org?type=A "
            "(or dns:///python.org for the system resolver)"
        )
    return value


_email = email_address


def _address(value: str) -> str:
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address (e.g. 192.0.2.10 or 2001:db8::1)"
        ) from None
    return value


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network (e.g. 192.0.2.10 or 151.101.0.0/16)"
        ) from None
    return value


def _rotation(value: str) -> str:
    if value not in ("daily", "weekly") and not re.match(r"^[1-9]\d*d$", value):
        raise ValueError(f"{value!r} is not a rotation; write daily, weekly or <n>d such as 3d")
    return value


def _handoff(value: str) -> str:
    match = re.match(r"^(?:(\w{3})\s+)?(\d{1,2}):(\d{2})$", value)
    if (
        not match
        or (match[1] and match[1] not in WEEKDAYS)
        or int(match[2]) > 23
        or int(match[3]) > 59
    ):
        raise ValueError(f'{value!r} is not a hand-off time; write e.g. "Mon 09:00" or "09:00"')
    return value


def _clock(value: str) -> str:
    match = re.match(r"^([0-9]{1,2}):([0-9]{2})$", value)
    if (
        not match
        or int(match[2]) > 59
        or int(match[1]) > 24
        or (int(match[1]) == 24 and match[2] != "00")
    ):
        raise ValueError(f'{value!r} is not a time of day; write e.g. "09:00" (up to "24:00")')
    return f"{int(match[1]):02d}:{match[2]}"  # "9:00" → "09:00", so times compare as text


def _clock_range(value: str) -> str:
    """``22:00-07:00``: a daily stretch of local time, which may cross midnight."""
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f'{value!r} is not a range of time; write e.g. "22:00-07:00"')
    start, end = _clock(start.strip()), _clock(end.strip())
    if start == end:
        raise ValueError(f"{value!r} starts and ends at the same time; leave it out for none")
    return f"{start}-{end}"


def _instant(value: str) -> str:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date or time; write e.g. 2024-01-01 or 2024-01-01T09:00"
        ) from None
    return str(value)


Slug = Annotated[str, AfterValidator(_slug)]
Duration = Annotated[
    str,
    BeforeValidator(lambda v: f"{v}s" if isinstance(v, int) and not isinstance(v, bool) else v),
    AfterValidator(_duration),
]  # a bare number means seconds
ConditionText = Annotated[str, AfterValidator(_condition)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
WebUrl = Annotated[str, AfterValidator(web_url)]
LinkUrl = Annotated[str, AfterValidator(link)]
Domain = Annotated[str, AfterValidator(domain_name)]
CheckUrl = Annotated[str, AfterValidator(_check_url)]
Email = Annotated[str, AfterValidator(_email)]
Instant = Annotated[str, AfterValidator(_instant)]
RefText = str  # checked in the cross-reference pass, which sees the whole catalog


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


# ----------------------------------------------------------------------------- shared parts
class Link(Model):
    url: LinkUrl
    title: str | None = None


class Metadata(Model):
    name: Slug
    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    annotations: dict[str, str] = Field(default_factory=dict)


class Contact(Model):
    type: Literal["email", "irc", "matrix", "url", "github"]
    address: str
    role: Literal["primary", "secondary", "security", "abuse", "billing"] | None = None
    network: str | None = None

    @model_validator(mode="after")
    def _address_fits_type(self) -> Contact:
        # url, email and github contacts become links (mailto:, https://github.com/...)
        check = {"url": link, "email": email_address, "github": github_handle}.get(self.type)
        if check is not None:
            check(self.address)
        return self


class Check(Model):
    name: Slug
    url: CheckUrl
    interval: Duration = "60s"
    timeout: Duration = "10s"
    conditions: list[ConditionText] = Field(default_factory=list)
    failure_threshold: int = Field(default=3, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    locations: list[RefText] = Field(default_factory=list)
    quorum: int | None = Field(default=None, ge=1)
    # extensions (docs/catalog.md): how the probe asks
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    follow_redirects: bool = True
    max_redirects: int = Field(default=10, ge=0, le=50)
    verify_tls: bool = True
    ip_version: Literal[4, 6] | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=0, le=64 * 1024 * 1024)
    send: str | None = None
    expect: str | None = None
    starttls: bool = False

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> Check:
        if parse_duration(self.interval).total_seconds() < 1:  # 0s would run it in a busy loop
            raise ValueError(f"interval {self.interval} is shorter than 1s, the shortest there is")
        if parse_duration(self.timeout).total_seconds() <= 0:
            raise ValueError(f"timeout {self.timeout} must be longer than 0, e.g. 10s")
        if parse_duration(self.timeout) > parse_duration(self.interval):
            raise ValueError(
                f"timeout {self.timeout} is longer than interval {self.interval}; "
                "make the timeout shorter so runs never overlap"
            )
        if self.quorum is not None and self.quorum > max(1, len(self.locations)):
            raise ValueError(
                f"quorum {self.quorum} is more than the {len(self.locations) or 1} location(s) "
                "that run this check; lower it or add locations"
            )
        return self


class Maintenance(Model):
    """A maintenance window written in the catalog (extension; docs/catalog.md). A time
    without an offset is read in ``timezone``; ``rrule`` repeats the window (RFC 5545)."""

    start: Instant
    end: Instant | None = None
    duration: Duration | None = None
    rrule: str | None = None
    timezone: TimeZone = "UTC"
    check: Slug | None = None  # only this check of the entity; default: all of them
    reason: str | None = None  # internal: never shown on the public status page
    # the status page shows the window (docs/status-page.md) under `publicName`
    public: bool = False
    public_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # subscribers are reminded this long before each occurrence starts (default 1h; 0: none)
    remind_before: Duration | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Maintenance:
        if (self.end is None) == (self.duration is None):
            raise ValueError("give end or duration (one of them), e.g. duration: 2h")
        if self.remind_before is not None:
            check_remind_before(parse_duration(self.remind_before), public=self.public)
        starts, ends = self.bounds()
        if ends <= starts:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if self.rrule is not None:
            from infradex.recurrence import RecurrenceError, compile_rule

            try:
                compile_rule(self.rrule.removeprefix("RRULE:"), starts)
            except RecurrenceError as exc:
                raise ValueError(f"rrule: {exc}") from None
        return self

    def bounds(self) -> tuple[datetime, datetime]:
        """The first occurrence as aware datetimes."""
        zone = ZoneInfo(self.timezone)

        def aware(text: str) -> datetime:
            value = datetime.fromisoformat(text)
            return value.replace(tzinfo=zone) if value.tzinfo is None else value

        starts = aware(self.start)
        ends = (
            aware(self.end)
            if self.end is not None
            else starts + parse_duration(self.duration or "0s")
        )
        return starts, ends


def _unique_check_names(checks: list[Check], maintenance: Sequence[Maintenance] = ()) -> None:
    names = [check.name for check in checks]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"two checks are named {name!r}; give each check its own name")
    for window in maintenance:
        if window.check is not None and window.check not in names:
            raise ValueError(
                f"maintenance names check {window.check!r}, which this entity does not have"
                + (f" (its checks: {', '.join(names)})" if names else "")
            )


# ----------------------------------------------------------------------------- specs
_PROVIDER_CLASS = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class OctodnsProvider(Model):
    """Extension: the octoDNS provider that hosts a DNS provider's zones, written as in an
    octoDNS config: ``class`` and that class's settings (credentials as ``env:NAME`` or
    ``file:PATH`` references). Which classes may run is the server's choice, never the
    catalog's (``INFRADEX_DNS_PROVIDER_CLASSES``, docs/dns.md)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    provider_class: str = Field(alias="class")

    @field_validator("provider_class")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not _PROVIDER_CLASS.match(value):
            raise ValueError(
                f"{value!r} is not a class name; write the octoDNS provider class as in an "
                "octoDNS config, e.g. octodns_route53.Route53Provider"
            )
        return value

    @property
    def settings(self) -> dict[str, Any]:
        """The class's keyword arguments, as written (references unresolved)."""
        return dict(self.model_extra or {})


class ProviderSpec(Model):
    type: Literal[
        "cdn",
        "iaas",
        "paas",
        "registrar",
        "dns",
        "metrics",
        "uptime",
        "errors",
        "paging",
        "hardware",
        "storage",
        "other",
    ]
    donated: bool = False
    website: WebUrl | None = None
    status: Literal["active", "retired"] = "active"
    contacts: list[Contact] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)
    escalation: RefText | None = None  # extension: who is paged when the provider fails
    octodns: OctodnsProvider | None = None  # extension: the zones' octoDNS provider (docs/dns.md)
    # extensions for validate's DNS cross-checks (docs/catalog.md): the domains the
    # provider's servers answer under (a CNAME into one points at it: fastly.net) and the
    # addresses or networks they answer on (an A record there points at it)
    edge_domains: list[Domain] = Field(default_factory=list)
    addresses: list[Annotated[str, AfterValidator(_network)]] = Field(default_factory=list)
    # extension: a component of the status page; `status` is taken by active/retired
    status_page: ServiceStatus | None = None

    @model_validator(mode="after")
    def _check_names(self) -> ProviderSpec:
        _unique_check_names(self.checks, self.maintenance)
        return self


class DatacenterSpec(Model):
    provider: RefText
    region: str | None = None


class HostSpec(Model):
    datacenter: RefText
    role: str | None = None
    os: str | None = None
    managed_by: Literal["salt", "chef", "terraform", "ansible", "manual"] | None = None
    addresses: list[Annotated[str, AfterValidator(_address)]] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)


class PersonAlerting(Model):
    """Extension: how a person wants to be told (docs/alerting.md)."""

    channels: list[NotifyChannel] = Field(default_factory=list)  # default: email
    quiet_hours: Annotated[str, AfterValidator(_clock_range)] | None = None


class PersonSpec(Model):
    email: Email | None = None
    timezone: TimeZone | None = None
    staff: bool = False
    status: Literal["active", "emeritus"] = "active"
    member_of: list[RefText] = Field(default_factory=list)
    handles: dict[str, str] = Field(default_factory=dict)
    alerting: PersonAlerting | None = None  # extension: channels and quiet hours
    # extension: false keeps a member off every contact list (`who`, a team's page), e.g. a
    # team member whom the organisation lists "with no responsibilities"
    contactable: bool = True


class TeamSpec(Model):
    members: list[RefText] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    escalation: RefText | None = None  # extension: the team's default escalation policy
    fallback: bool = False  # extension: `who`'s fallback team (default: team:infrastructure)


class Owner(Model):
    ref: RefText
    role: str = "owner"


class ConfigManagement(Model):
    tool: str
    repo: LinkUrl | None = None


class ServiceStatus(Model):
    """A component of the public status page (docs/status-page.md): its group and name as
    the page shows them (default: no group, the entity's title), whether the public sees it,
    its description, its position (``order``, then catalog order), whether it is listed
    only while something is wrong (``onlyShowIfDegraded``), and how long a draft incident on
    it waits for a person before it is published by itself (``autoPublishAfter``)."""

    group: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    public: bool = True
    description: Annotated[str, Field(max_length=1000)] | None = None
    order: Annotated[int, Field(ge=0, le=100_000)] | None = None
    only_show_if_degraded: bool = False
    # extension: a draft public incident on this component is published by itself when
    # nobody acknowledged its internal incident for this long (docs/status-page.md)
    auto_publish_after: Duration | None = None


class Dependency(Model):
    """Extension: one entry of a service's ``dependsOn``. A bare ``kind:name`` is a hard
    dependency (``effect: down``: the service is down without it); ``effect: degraded`` is a
    soft one, e.g. speed.python.org still shows its results without the machine that runs
    new benchmarks."""

    ref: RefText
    effect: Literal["down", "degraded"] = "down"

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> Any:
        # hard dependencies export as the bare references catalogs have always written
        return self.ref if self.effect == "down" else handler(self)


def _dependency(value: Any) -> Any:
    return {"ref": value} if isinstance(value, str) else value


DependencyEntry = Annotated[
    Dependency, BeforeValidator(_dependency, json_schema_input_type=str | Dependency)
]


class ServiceSpec(Model):
    lifecycle: Literal["experimental", "production", "deprecated", "archived"] = "production"
    domains: list[Domain] = Field(default_factory=list)
    software: str | None = None
    hosted_on: list[RefText] = Field(default_factory=list)
    fronted_by: list[RefText] = Field(default_factory=list)
    depends_on: list[DependencyEntry] = Field(default_factory=list)
    owners: list[Owner] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    source: WebUrl | None = None
    issue_tracker: WebUrl | None = None
    config_management: ConfigManagement | None = None
    checks: list[Check] = Field(default_factory=list)
    maintenance: list[Maintenance] = Field(default_factory=list)
    status: ServiceStatus | None = None
    escalation: RefText | None = None

    @model_validator(mode="after")
    def _check_names(self) -> ServiceSpec:
        _unique_check_names(self.checks, self.maintenance)
        return self


class ZoneSpec(Model):
    provider: RefText
    registrar: RefText | None = None
    file: str | None = None
    records: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _file_or_records(self) -> ZoneSpec:
        if (self.file is None) == (self.records is None):
            raise ValueError(
                "a zone needs exactly one of `file` (path to an octoDNS YAML zone file) "
                "or `records` (the same content inline)"
            )
        return self


class Restriction(Model):
    """Extension: the part of the week a layer covers (default: all of it)."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: Annotated[str, AfterValidator(_clock)] = "00:00"
    end: Annotated[str, AfterValidator(_clock)] = "24:00"

    @model_validator(mode="after")
    def _ends_after_start(self) -> Restriction:
        if self.end <= self.start:
            raise ValueError(
                f"the restriction ends at {self.end}, not after it starts at {self.start}; "
                "to cover midnight use two restrictions (e.g. 22:00-24:00 and 00:00-06:00)"
            )
        return self


class Layer(Model):
    name: str
    members: list[RefText]
    rotation: Annotated[str, AfterValidator(_rotation)] = "weekly"
    handoff: Annotated[str, AfterValidator(_handoff)] = "Mon 09:00"
    start: Instant
    restrictions: list[Restriction] = Field(default_factory=list)


class Override(Model):
    person: RefText
    start: Instant
    end: Instant

    @model_validator(mode="after")
    def _ends_after_start(self) -> Override:
        start, end = datetime.fromisoformat(self.start), datetime.fromisoformat(self.end)
        if (start.tzinfo is None) != (end.tzinfo is None):
            raise ValueError(
                "give both start and end with a UTC offset, or both without one (then they "
                "are in the schedule's time zone)"
            )
        if end <= start:
            raise ValueError(f"the override ends ({self.end}) before it starts ({self.start})")
        return self


class ScheduleSpec(Model):
    timezone: TimeZone = "UTC"
    layers: list[Layer] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)


class Step(Model):
    after: Duration = "0m"
    notify: list[RefText]


class LocationProblems(Model):
    """Extension (issue 16): how a *location problem* is paged: a check run from several
    locations failing from fewer of them than its quorum (not an outage). Without it, a
    location problem is shown and never paged."""

    channels: list[NotifyChannel] = Field(min_length=1)
    #: low: a warning (not urgent: PagerDuty severity ``warning``); high: urgent
    severity: Literal["low", "high"] = "low"


class EscalationPolicySpec(Model):
    steps: list[Step] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0)
    # extensions (docs/alerting.md)
    repeat_after: Duration | None = None  # a cycle's length; default: last step + its gap
    default: bool = False  # the policy for incidents whose service and team name none
    channels: list[NotifyChannel] = Field(default_factory=list)  # told of every incident
    location_problems: LocationProblems | None = None  # paged once per location problem

    @model_validator(mode="after")
    def _steps_in_order(self) -> EscalationPolicySpec:
        afters = [parse_duration(step.after) for step in self.steps]
        if afters != sorted(afters):
            raise ValueError(
                "steps must be in order of `after` (each is the time since the incident "
                "opened): " + ", ".join(step.after for step in self.steps)
            )
        if self.repeat_after is not None and parse_duration(self.repeat_after) <= afters[-1]:
            raise ValueError(
                f"repeatAfter {self.repeat_after} must be longer than the last step's "
                f"after ({self.steps[-1].after})"
            )
        return self


#: any kind's spec; ``Entity`` without a type argument holds one of these
Spec: TypeAlias = (
    ProviderSpec
    | DatacenterSpec
    | HostSpec
    | PersonSpec
    | TeamSpec
    | ServiceSpec
    | ZoneSpec
    | ScheduleSpec
    | EscalationPolicySpec
)

#: lower-case kind → the model of its spec (the Catalog refuses an entity whose spec is not)
SPEC_MODELS: dict[str, type[Spec]] = {
    "provider": ProviderSpec,
    "datacenter": DatacenterSpec,
    "host": HostSpec,
    "person": PersonSpec,
    "team": TeamSpec,
    "service": ServiceSpec,
    "zone": ZoneSpec,
    "schedule": ScheduleSpec,
    "escalationpolicy": EscalationPolicySpec,
}


def _document_model(kind: str, spec: type[Spec]) -> type[Model]:
    from pydantic import create_model

    from infradex.catalog.refs import KINDS

    fields: dict[str, Any] = {
        "api_version": (Literal["infradex/v1"], Field(alias="apiVersion")),
        "kind": (Literal[KINDS[kind]], ...),
        "metadata": (Metadata, ...),
        "spec": (spec, ...),
    }
    return create_model(f"{KINDS[kind]}Document", __base__=Model, **fields)


#: lower-case kind → the model of a whole document of that kind
DOCUMENT_MODELS: dict[str, type[Model]] = {
    kind: _document_model(kind, spec) for kind, spec in SPEC_MODELS.items()
}
