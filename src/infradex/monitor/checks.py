"""Checks as the monitor runs them: built from catalog entries, run once, judged.

A check's id is its owner's ref and its name, ``service:docs/home``; it is stable across
reloads, so history follows a check as long as its owner and name stay.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

from infradex.catalog.entities import Catalog
from infradex.catalog.models import Check
from infradex.catalog.specs import spec_checks
from infradex.conditions import (
    Condition,
    ConditionResult,
    conditions_or_default,
    evaluate,
    parse_condition,
)
from infradex.dns.drift import drift_target
from infradex.durations import parse_duration
from infradex.monitor.locations import location_name
from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy
from infradex.probes.base import ErrorKind, Observation, ProbeRequest
from infradex.probes.registry import probe_for
from infradex.secretrefs import MissingSecret, is_reference, resolve

__all__ = [
    "CheckDef",
    "CheckResult",
    "adhoc_check",
    "check_def",
    "checks_grouped",
    "checks_of",
    "judge",
    "run_check",
]


@dataclass(frozen=True, slots=True)
class CheckDef:
    """One check, ready to run."""

    id: str  # "service:docs/home"
    owner: str  # "service:docs"
    name: str
    request: ProbeRequest
    interval: float  # seconds
    conditions: tuple[Condition, ...]
    failure_threshold: int = 3
    success_threshold: int = 2
    title: str = ""
    #: data centers whose probe agents run it; empty: the server's own monitor runs it
    locations: tuple[str, ...] = ()

    @property
    def scheme(self) -> str:
        return urlsplit(self.request.url).scheme

    @property
    def timeout(self) -> float:
        return self.request.timeout


@dataclass(slots=True)
class CheckResult:
    """A judged observation: the probe's facts plus each condition's verdict."""

    check_id: str
    observation: Observation
    conditions: list[ConditionResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.observation.ok and all(c.success for c in self.conditions)

    @property
    def error_kind(self) -> str | None:
        if self.observation.error_kind is not None:
            return str(self.observation.error_kind)
        return None if self.success else str(ErrorKind.CONDITION)

    @property
    def message(self) -> str:
        """One line a person reads: the probe's error, or the failed conditions."""
        if self.observation.error:
            return self.observation.error
        failed = [str(c) for c in self.conditions if not c.success]
        return "; ".join(failed) if failed else "all conditions hold"

    @property
    def duration_ms(self) -> float | None:
        total = self.observation.phases.get("total")
        return None if total is None else round(total * 1000, 3)


def check_def(
    owner: str,
    check: Check,
    title: str = "",
    ca_file: str | None = None,
    policy: AddressPolicy = DEFAULT_POLICY,
    catalog: Catalog | None = None,
    dns_classes: frozenset[str] = frozenset(),
) -> CheckDef:
    """Turn a catalog check into something the scheduler runs (under ``policy``: the
    addresses it may reach). A ``dns-drift://ZONE`` check takes its zone from ``catalog``,
    and may build the octoDNS classes allowed by default and ``dns_classes``."""
    conditions = conditions_or_default(check.url, check.conditions)
    parts = urlsplit(check.url)
    zone = None
    if parts.scheme == "dns-drift" and catalog is not None:
        zone = drift_target(catalog, parts.hostname or "", dns_classes)
    request = ProbeRequest(
        url=check.url,
        timeout=parse_duration(check.timeout).total_seconds(),
        method=check.method,
        headers=tuple(check.headers.items()),
        body=check.body,
        follow_redirects=check.follow_redirects,
        max_redirects=check.max_redirects,
        verify_tls=check.verify_tls,
        ip_version=check.ip_version,
        body_limit=check.max_body_bytes,
        send=check.send,
        expect=check.expect,
        starttls=check.starttls,
        ca_file=ca_file,
        policy=policy,
        zone=zone,
    )
    return CheckDef(
        id=f"{owner}/{check.name}",
        owner=owner,
        name=check.name,
        request=request,
        interval=parse_duration(check.interval).total_seconds(),
        conditions=tuple(parse_condition(c) for c in conditions),
        failure_threshold=check.failure_threshold,
        success_threshold=check.success_threshold,
        title=title,
        locations=tuple(sorted({location_name(text) for text in check.locations})),
    )


@functools.lru_cache(maxsize=4)
def checks_of(
    catalog: Catalog,
    ca_file: str | None = None,
    policy: AddressPolicy = DEFAULT_POLICY,
    dns_classes: frozenset[str] = frozenset(),
) -> list[CheckDef]:
    """Every check declared in the catalog (on services and providers), in catalog order.
    Cached per catalog (a catalog never changes; a reload makes a new one): do not mutate."""
    found: list[CheckDef] = []
    for kind in ("service", "provider"):
        for entity in catalog.of_kind(kind):
            for check in spec_checks(entity):
                found.append(
                    check_def(
                        str(entity.ref), check, entity.title, ca_file, policy, catalog, dns_classes
                    )
                )
    return found


@functools.lru_cache(maxsize=4)
def checks_grouped(
    catalog: Catalog, ca_file: str | None = None, policy: AddressPolicy = DEFAULT_POLICY
) -> dict[str, list[CheckDef]]:
    """The catalog's checks by owner ref (cached per catalog, like :func:`checks_of`)."""
    grouped: dict[str, list[CheckDef]] = {}
    for check in checks_of(catalog, ca_file, policy):
        grouped.setdefault(check.owner, []).append(check)
    return grouped


def adhoc_check(url: str, conditions: Iterable[str] = (), timeout: str = "10s") -> CheckDef:
    """A check for a bare URL (``infradex check run URL``); raises ``ValueError`` on bad input."""
    check = Check.model_validate(
        {
            "name": "adhoc",
            "url": url,
            "conditions": list(conditions),
            "timeout": timeout,
            "interval": timeout,
        }
    )
    return check_def("adhoc", check, url)


def judge(check: CheckDef, observation: Observation) -> list[ConditionResult]:
    """Each condition's verdict; none when the probe itself failed (its error says why)."""
    if not observation.ok:
        return []
    return [evaluate(condition, observation.values) for condition in check.conditions]


def with_secrets(request: ProbeRequest) -> ProbeRequest:
    """The request with its references (``env:NAME``, ``file:PATH`` header values, an
    ``env:NAME`` URL password) replaced by their values, read now: never kept in the check,
    so the API, the pages and the store only ever see the reference. ``MissingSecret`` says
    which one is missing."""
    headers = tuple(
        (name, resolve(value, f"the check's {name} header")) for name, value in request.headers
    )
    url = request.url
    parts = urlsplit(url)
    if parts.password is not None and is_reference(parts.password):
        password = resolve(parts.password, "the check URL's password")
        user = parts.netloc.rpartition("@")[0].partition(":")[0]
        host = parts.netloc.rpartition("@")[2]
        url = parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}").geturl()
    if url == request.url and headers == request.headers:
        return request
    return replace(request, url=url, headers=headers)


async def run_check(check: CheckDef) -> CheckResult:
    """Run the check's probe once and judge it. Never raises for the target's behaviour; a
    probe that overruns its own timeout is cut off one second later."""
    started = time.monotonic()
    probe = probe_for(check.request.url)
    try:
        request = with_secrets(check.request)
    except MissingSecret as exc:
        observation = Observation(phases={"total": 0.0}).fail(
            ErrorKind.ERROR, f"{exc}; the check runs again at its next interval"
        )
        return CheckResult(check.id, observation, [])
    try:
        async with asyncio.timeout(check.timeout + 1.0):
            observation = await probe(request)
    except TimeoutError:
        observation = Observation(phases={"total": time.monotonic() - started}).fail(
            ErrorKind.TIMEOUT, f"no answer within {check.timeout:g} s"
        )
    except Exception as exc:  # a probe bug must not stop the monitor; keep the reason
        observation = Observation(phases={"total": time.monotonic() - started}).fail(
            ErrorKind.ERROR, f"{type(exc).__name__}: {exc}"
        )
    return CheckResult(check.id, observation, judge(check, observation))
