"""Every warning code, from ``tests/fixtures/warnings`` (lines counted by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infradex.catalog import LoadedCatalog
from infradex.lint import lint, load

WARNINGS = Path(__file__).resolve().parents[2] / "fixtures" / "warnings"

#: (code, file, line, entity, field, text in the message)
EXPECTED = [
    ("no-owner", "services.yaml", 5, "service:unowned", "spec", "production service has no owner"),
    (
        "no-check",
        "services.yaml",
        14,
        "service:unchecked",
        "spec",
        "production service has no check",
    ),
    (
        "bus-factor",
        "services.yaml",
        26,
        "service:solo",
        "spec.owners",
        "single owner: only Sam Staff knows it",
    ),
    (
        "bus-factor",
        "services.yaml",
        37,
        "service:volunteers",
        "spec.owners",
        "owners are all volunteers",
    ),
    (
        "bus-factor",
        "services.yaml",
        49,
        "service:one-zone",
        "spec.owners",
        "owners are all in one time zone (Europe/Amsterdam)",
    ),
    (
        "unserved-domain",
        "services.yaml",
        63,
        "service:www",
        "spec.domains[1]",
        "zone example.org has no record for api.example.org",
    ),
    (
        "unserved-domain",
        "services.yaml",
        64,
        "service:www",
        "spec.domains[2]",
        "no zone in the catalog serves www.example.net",
    ),
    (
        "no-contact",
        "oncall.yaml",
        11,
        "schedule:business-hours",
        "spec.layers[0].members[1]",
        "Quinn Quiet is on call here but cannot be paged (no email, IRC or Matrix)",
    ),
    (
        "oncall-gap",
        "oncall.yaml",
        7,
        "schedule:business-hours",
        "spec.layers",
        "nobody on call",
    ),
]


#: the DNS cross-checks (dns.yaml, zones/example.com.yaml): (code, file, line, entity, field,
#: text in the message); several share a code, entity and field, so they are told apart by line
DNS_EXPECTED = [
    (
        "cdn-bypassed",
        "dns.yaml",
        40,
        "service:shop",
        "spec.domains[0]",
        "shop.example.org is fronted by provider:edge (`frontedBy`), but its records "
        "(A 192.0.2.50) do not point there",
    ),
    (
        "no-caa",
        "dns.yaml",
        49,
        "zone:example.org",
        "spec.records",
        "zone example.org serves TLS (one-zone.example.org, of service:one-zone, checked over "
        "https) but has no CAA record at its apex",
    ),
    (
        "mx-without-mail",
        "dns.yaml",
        50,
        "zone:example.org",
        "spec.records",
        "the apex record (MX) sends mail for example.org to mx.example.org., which no mail "
        "service in the catalog receives",
    ),
    (
        "unclaimed-record",
        "dns.yaml",
        50,
        "zone:example.org",
        "spec.records",
        "the apex record (A): no service claims example.org",
    ),
    (
        "unknown-address",
        "dns.yaml",
        50,
        "zone:example.org",
        "spec.records",
        "the apex record (A) points at 192.0.2.10, which no host or provider",
    ),
    (
        "undeclared-cdn",
        "dns.yaml",
        58,
        "zone:example.org",
        "spec.records",
        "record 'blog' sends blog.example.org to provider:edge (blog.edge.example.net.), but "
        "service:blog does not list it in `frontedBy`",
    ),
    (
        "unknown-address",
        "dns.yaml",
        64,
        "zone:example.org",
        "spec.records",
        "record 'shop' (A) points at 192.0.2.50",
    ),
    (
        "unclaimed-record",
        "zones/example.com.yaml",
        6,
        "zone:example.com",
        "spec.file",
        "record 'cdn' (A): no service claims cdn.example.com",
    ),
    (
        "unclaimed-record",
        "zones/example.com.yaml",
        9,
        "zone:example.com",
        "spec.file",
        "record 'stale' (CNAME): no service claims stale.example.com",
    ),
    (
        "drift-check",
        "dns.yaml",
        87,
        "provider:dns-host",
        "spec.checks[0].url",
        "check drift cannot compare its zone, so it will always be down: no zone "
        "'example.net' in the catalog",
    ),
]


@pytest.fixture(scope="module")
def loaded() -> LoadedCatalog:
    return load(WARNINGS)


def test_warnings_do_not_block(loaded: LoadedCatalog) -> None:
    assert loaded.errors == []
    assert loaded.catalog is not None
    assert len(loaded.catalog.of_kind("service")) == 9


def test_exactly_the_expected_warnings(loaded: LoadedCatalog) -> None:
    found = sorted((p.code, p.file, p.line, p.entity, p.field) for p in loaded.warnings)
    assert found == sorted(e[:5] for e in [*EXPECTED, *DNS_EXPECTED])


@pytest.mark.parametrize(
    "expected", [pytest.param(e, id=f"{e[0]}-{e[1]}:{e[2]}") for e in DNS_EXPECTED]
)
def test_each_dns_warning(loaded: LoadedCatalog, expected: tuple) -> None:
    code, file, line, entity, field, text = expected
    (warning,) = [p for p in loaded.warnings if (p.code, p.file, p.line) == (code, file, line)]
    assert (warning.severity, warning.entity, warning.field) == ("warning", entity, field)
    assert text in warning.message
    assert warning.hint
    text = str(warning)
    assert text.startswith(f"{file}:{line}:")
    assert f" warning: {entity} {field}: " in text


def test_dns_names_that_serve_the_zone_itself_are_not_unclaimed(loaded: LoadedCatalog) -> None:
    """An underscored name (_dmarc), a delegation (lab NS), a null MX at the apex, a host's
    own address (web1) and a name a service claims (www) draw no DNS warning."""
    dns = [p for p in loaded.warnings if p.file in ("dns.yaml", "zones/example.com.yaml")]
    lines = {(p.file, p.line) for p in dns if p.code != "cdn-bypassed"}
    assert ("dns.yaml", 55) not in lines  # _dmarc
    assert ("dns.yaml", 61) not in lines  # lab
    assert ("dns.yaml", 67) not in lines  # www: service:www's, on host:web1's address
    assert ("zones/example.com.yaml", 3) not in lines  # the null MX
    assert ("zones/example.com.yaml", 12) not in lines  # web1


@pytest.mark.parametrize(
    "expected", [pytest.param(e, id=f"{e[0]}-{e[3]}-{e[4]}") for e in EXPECTED]
)
def test_each_warning(loaded: LoadedCatalog, expected: tuple) -> None:
    code, file, line, entity, field, text = expected
    matches = [p for p in loaded.warnings if (p.code, p.entity, p.field) == (code, entity, field)]
    assert len(matches) == 1
    (warning,) = matches
    assert warning.severity == "warning"
    assert (warning.file, warning.line) == (file, line)
    assert text in warning.message
    assert warning.hint
    text = str(warning)
    assert text.startswith(f"{file}:{line}:")
    assert f" warning: {entity} {field}: " in text


def test_every_warning_code_is_covered(loaded: LoadedCatalog) -> None:
    assert {p.code for p in loaded.warnings} == {
        "no-owner",
        "no-check",
        "bus-factor",
        "unserved-domain",
        "no-contact",
        "oncall-gap",
        "unclaimed-record",
        "undeclared-cdn",
        "cdn-bypassed",
        "unknown-address",
        "no-caa",
        "mx-without-mail",
        "drift-check",
    }


def test_not_in_production_means_no_ownership_warnings(loaded: LoadedCatalog) -> None:
    assert [p for p in loaded.warnings if p.entity == "service:sandbox"] == []


def test_oncall_gap_names_the_gaps_in_the_schedules_zone(loaded: LoadedCatalog) -> None:
    """With ``now`` fixed (Monday 2024-06-03 00:00 in Amsterdam) the message is exact."""
    assert loaded.catalog is not None
    now = datetime(2024, 6, 2, 22, 0, tzinfo=UTC)
    gaps = [p for p in lint(loaded.catalog, now) if p.code == "oncall-gap"]
    (gap,) = gaps
    assert gap.message == (
        "nobody on call Mon 00:00–09:00 CEST, Mon 17:00–Tue 09:00 CEST, "
        "Tue 17:00–Wed 09:00 CEST, Wed 17:00–Thu 09:00 CEST and 2 more (next 7 days)"
    )


def test_a_schedule_without_layers_is_a_gap(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "oncall.yaml": """\
            apiVersion: infradex/v1
            kind: Schedule
            metadata:
              name: empty
            spec:
              timezone: UTC
            """
        },
    )
    result = load(tmp_path)
    assert result.catalog is not None
    (warning,) = result.warnings
    assert (warning.code, warning.line, warning.field) == ("oncall-gap", 5, "spec")
    assert "nobody is on call" in warning.message


def test_round_the_clock_schedule_has_no_gap(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "oncall.yaml": """\
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: ann}
            spec: {email: ann@example.org}
            ---
            apiVersion: infradex/v1
            kind: Person
            metadata: {name: bob}
            spec: {handles: {irc: bob}}
            ---
            apiVersion: infradex/v1
            kind: Schedule
            metadata: {name: all-week}
            spec:
              layers:
                - {name: all, members: [ann, bob], start: "2000-01-01"}
            """
        },
    )
    result = load(tmp_path)
    assert result.problems == []
    assert result.catalog is not None


def test_team_without_members_is_a_bus_factor_warning(tmp_path: Path, write_catalog) -> None:
    write_catalog(
        tmp_path,
        {
            "services.yaml": """\
            apiVersion: infradex/v1
            kind: Team
            metadata: {name: lists}
            spec:
              contacts: [{type: email, address: lists@example.org}]
            ---
            apiVersion: infradex/v1
            kind: Service
            metadata: {name: mail}
            spec:
              owners:
                - {ref: team:lists}
              checks:
                - {name: smtp, url: "tcp://mail.example.org:25"}
            """
        },
    )
    result = load(tmp_path)
    assert result.catalog is not None
    (warning,) = [w for w in result.warnings if w.code != "pages-nobody"]  # no policy here
    assert (warning.code, warning.line, warning.entity) == ("bus-factor", 11, "service:mail")
    assert "no active person stands behind its owners" in warning.message
