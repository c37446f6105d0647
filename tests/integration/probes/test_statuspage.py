"""The ``statuspage://`` probe: a provider's own Statuspage summary, served by a real local
HTTPS server (``targets.py``, ``/upstream/<scenario>/api/v2/summary.json``)."""

from __future__ import annotations

from ipaddress import ip_network
from urllib.parse import urlsplit

from infradex.conditions import DEFAULT_CONDITIONS, evaluate, parse_condition
from infradex.netpolicy import AddressPolicy
from infradex.probes import ErrorKind, Observation

from .conftest import Certificates
from .targets import Targets, run


def upstream(targets: Targets, scenario: str) -> str:
    """The ``statuspage://`` URL of one scenario on the local https target."""
    netloc = urlsplit(targets.url("https")).netloc
    return f"statuspage://{netloc}/upstream/{scenario}"


def holds(observation: Observation, condition: str) -> bool:
    return evaluate(parse_condition(condition), observation.values).success


def default_verdict(observation: Observation) -> bool:
    return all(holds(observation, c) for c in DEFAULT_CONDITIONS["statuspage"])


async def test_a_calm_provider_reads_none_and_operational(
    targets: Targets, certs: Certificates
) -> None:
    seen = await run(upstream(targets, "calm"), ca_file=certs.ca_file)
    assert seen.ok, seen.error
    assert seen.values["UPSTREAM"] == "none"
    assert seen.values["STATUS"] == 200
    assert holds(seen, "[UPSTREAM_COMPONENT:north   AMERICA] == operational")
    assert seen.details["summary_url"].endswith("/upstream/calm/api/v2/summary.json")
    assert seen.details["upstream"]["description"] == "All Systems Operational"
    assert default_verdict(seen)


async def test_major_is_down_by_default_and_minor_is_not(
    targets: Targets, certs: Certificates
) -> None:
    major = await run(upstream(targets, "major"), ca_file=certs.ca_file)
    minor = await run(upstream(targets, "minor"), ca_file=certs.ca_file)
    assert major.ok and minor.ok
    assert not default_verdict(major)
    assert default_verdict(minor)
    # a check can be stricter, or look at the one component it depends on
    assert not holds(minor, "[UPSTREAM] == none")
    assert holds(major, "[UPSTREAM_COMPONENT:North America] == operational")
    assert not holds(major, "[UPSTREAM_COMPONENT:Europe] == operational")
    assert major.details["upstream"]["incidents"] == ["Elevated <b>errors</b> in Europe"]
    # a component the page does not list fails, with a reason
    missing = evaluate(parse_condition("[UPSTREAM_COMPONENT:Asia] == operational"), major.values)
    assert (missing.success, missing.actual) == (False, "no value")


async def test_foreign_words_are_normalised_and_cut(targets: Targets, certs: Certificates) -> None:
    seen = await run(upstream(targets, "odd"), ca_file=certs.ca_file)
    assert seen.ok
    assert seen.values["UPSTREAM"] == "unknown"
    assert seen.values["UPSTREAM_COMPONENT:europe"] == "unknown"
    assert len(seen.details["upstream"]["description"]) == 200
    assert not any("script" in str(v) for v in seen.values.values())


async def test_what_is_not_a_summary_is_the_probes_failure(
    targets: Targets, certs: Certificates
) -> None:
    for scenario, kind, words in (
        ("not-json", ErrorKind.PROTOCOL, "did not answer JSON"),
        ("no-status", ErrorKind.PROTOCOL, "no status object"),
        ("gone", ErrorKind.PROTOCOL, "answered 503"),
    ):
        seen = await run(upstream(targets, scenario), ca_file=certs.ca_file)
        assert seen.error_kind == kind, scenario
        assert words in (seen.error or ""), seen.error
        assert "summary.json" in (seen.error or "")


async def test_the_address_policy_and_tls_apply(targets: Targets, certs: Certificates) -> None:
    untrusted = await run(upstream(targets, "calm"))  # the test CA is not trusted
    assert untrusted.error_kind == ErrorKind.TLS
    loopback = AddressPolicy(deny=(ip_network("127.0.0.0/8"), ip_network("::1/128")))
    denied = await run(upstream(targets, "calm"), ca_file=certs.ca_file, policy=loopback)
    assert denied.error_kind == ErrorKind.DENIED
