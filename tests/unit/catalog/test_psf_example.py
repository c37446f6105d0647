"""The PSF example catalog (``examples/psf``): it validates, holds what its README says, and
answers the questions people ask of it."""

from __future__ import annotations

from pathlib import Path

from infradex.catalog import Catalog, LoadedCatalog, Ref
from infradex.catalog.queries import graph, impact, ownership_report, who

SERVICES = {
    "buildbot",
    "bugs",
    "core-workflow",
    "downloads",
    "docs",
    "hg",
    "mail",
    "mail-smtp",
    "planet",
    "pythontest",
    "speed",
    "wiki",
    "jython-web",
    "www",
    "pycon",
    "pypi",
    "pypy-web",
}


def names(catalog: Catalog, kind: str) -> set[str]:
    return {e.name for e in catalog.of_kind(kind)}


def test_validates_without_errors(psf_loaded: LoadedCatalog) -> None:
    assert [str(p) for p in psf_loaded.errors] == []
    assert psf_loaded.catalog is not None


def test_providers(psf: Catalog) -> None:
    providers = names(psf, "provider")
    assert len(providers) >= 9
    assert {
        "fastly",
        "digitalocean",
        "heroku",
        "aws",
        "gandi",
        "route53",
        "datadog",
        "pingdom",
        "pagerduty",
    } <= providers
    fastly = psf.get(Ref("provider", "fastly"))
    assert (fastly.spec.type, fastly.spec.donated) == ("cdn", True)


def test_digitalocean_data_centers_and_regions(psf: Catalog) -> None:
    on_do = {
        dc.name: dc.spec.region
        for dc in psf.of_kind("datacenter")
        if psf.related(dc.ref, "providedBy") == [Ref("provider", "digitalocean")]
    }
    assert on_do == {"ams1": "AMS3", "nyc1": "NYC3", "sfo1": "SFO2"}
    assert psf.related(Ref("provider", "digitalocean"), "provides") == [
        Ref("datacenter", "ams1"),
        Ref("datacenter", "nyc1"),
        Ref("datacenter", "sfo1"),
    ]


def test_seventeen_services(psf: Catalog) -> None:
    # the overview's 14, plus the downloads, the core-workflow bots and the mail's SMTP half
    # it describes inside others
    assert len(psf.of_kind("service")) == 17
    assert names(psf, "service") == SERVICES


def _line_of_spec(path: Path, name: str) -> int:
    """The line of ``spec:`` in the document whose metadata name is ``name``, read from the
    text (the example is edited, so the number is not hard-coded)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"  name: {name}")
    return next(i for i in range(start, len(lines)) if lines[i] == "spec:") + 1


def test_every_production_service_but_bugs_and_the_bots_has_an_owner(
    psf_loaded: LoadedCatalog, psf_dir: Path
) -> None:
    # the overview names no owner for either: real gaps, shown rather than invented
    no_owner = [p for p in psf_loaded.warnings if p.code == "no-owner"]
    services = psf_dir / "services.yaml"
    assert sorted((p.entity, p.file, p.line, p.field) for p in no_owner) == [
        ("service:bugs", "services.yaml", _line_of_spec(services, "bugs"), "spec"),
        (
            "service:core-workflow",
            "services.yaml",
            _line_of_spec(services, "core-workflow"),
            "spec",
        ),
    ]


def test_warnings_are_the_documented_gaps(psf_loaded: LoadedCatalog) -> None:
    codes = {p.code for p in psf_loaded.warnings}
    assert codes == {
        "no-owner",
        "no-check",
        "bus-factor",
        "no-contact",
        "no-caa",
    }
    # the zone files hold no CAA record, and every zone but pythontest.net (checked over plain
    # http, as the test suite fetches it) has a name served over https
    no_caa = {p.entity for p in psf_loaded.warnings if p.code == "no-caa"}
    assert no_caa == {
        f"zone:{z}"
        for z in (
            "python.org",
            "pypi.org",
            "jython.org",
            "planetpython.org",
            "pypy.org",
            "pycon.org",
            "roundup-tracker.org",
        )
    }
    no_check = {p.entity for p in psf_loaded.warnings if p.code == "no-check"}
    assert no_check == {"service:core-workflow"}  # the overview names no page of theirs
    single = {p.entity for p in psf_loaded.warnings if p.message.startswith("single owner")}
    assert single == {"service:docs", "service:speed", "service:wiki"}


def test_zone_files_are_read_and_serve_every_domain(psf: Catalog) -> None:
    assert names(psf, "zone") == {
        "python.org",
        "pypi.org",
        "jython.org",
        "pythontest.net",
        "planetpython.org",
        "pypy.org",
        "pycon.org",
        "roundup-tracker.org",
    }
    assert set(psf.zone_records) == names(psf, "zone")
    assert psf.related(Ref("service", "docs"), "zoneOf") == [Ref("zone", "python.org")]
    assert psf.zone_records["python.org"]["docs"] == {
        "type": "CNAME",
        "value": "dualstack.python.map.fastly.net.",
    }


def test_who_for_docs_python_org(psf: Catalog) -> None:
    target = psf.resolve("docs.python.org")
    assert target == Ref("service", "docs")
    answer = who(psf, target)
    assert [c.ref for c in answer.contacts] == [
        Ref("person", "julien-palard"),
        Ref("team", "infrastructure"),
    ]
    julien, infra = answer.contacts
    assert julien.name == "Julien Palard"
    assert julien.reason == "maintainer of docs.python.org"
    assert infra.name == "Infrastructure Team"
    assert infra.reason == "fallback: the infrastructure team"
    assert infra.channels[0].type == "email"
    assert infra.channels[0].address == "infrastructure-staff@python.org"
    assert str(infra.channels[1]) == "irc: #python-infra on libera"


def test_who_for_a_url_on_pypi(psf: Catalog) -> None:
    answer = who(psf, psf.resolve("https://pypi.org/project/infradex/"))
    assert [str(c.ref) for c in answer.contacts] == [
        "person:ee-durbin",
        "person:donald-stufft",
        "person:dustin-ingram",
        "team:pypi-admins",
        "team:infrastructure",  # service:pypi's own contact is the team's: listed once
    ]
    assert answer.contacts[3].channels[0].address == "admin@pypi.org"


def test_fastly_outage_takes_down_www_downloads_docs_and_pypi(psf: Catalog) -> None:
    result = impact(psf, Ref("provider", "fastly"))
    assert {(a.ref.name, a.effect) for a in result.affected} == {
        ("www", "down"),
        ("downloads", "down"),
        ("docs", "down"),
        ("pypi", "down"),
    }
    for affected in result.affected:
        assert affected.path == (Ref("provider", "fastly"), affected.ref)
        assert affected.relations == ("frontedBy",)


def test_losing_one_docs_backend_degrades_docs(psf: Catalog) -> None:
    result = impact(psf, Ref("host", "docs0-nyc1"))
    (docs,) = result.affected
    assert docs.ref == Ref("service", "docs")
    assert docs.effect == "degraded"
    assert docs.path == (Ref("host", "docs0-nyc1"), Ref("service", "docs"))
    assert docs.why(psf).endswith("still served by docs1.nyc1.psf.io")


def test_datacenter_outage_goes_through_hosts_to_services(psf: Catalog) -> None:
    nyc1 = Ref("datacenter", "nyc1")
    result = impact(psf, nyc1)
    by_ref = {a.ref: a for a in result.affected}
    docs = by_ref[Ref("service", "docs")]
    assert docs.effect == "down"  # both backends are in nyc1
    assert docs.path == (nyc1, Ref("host", "docs0-nyc1"), Ref("service", "docs"))
    assert docs.relations == ("locatedIn", "hostedOn")
    host = by_ref[Ref("host", "docs1-nyc1")]
    assert (host.effect, host.path, host.relations) == ("down", (nyc1, host.ref), ("locatedIn",))
    # hosts come before the services on them (nearest first)
    order = [a.ref.kind for a in result.affected]
    assert order == sorted(order, key=lambda k: k != "host")
    assert {a.ref.name for a in result.affected if a.effect == "down"} >= {
        "docs",
        "bugs",
        "buildbot",
        "downloads",
        "hg",
        "planet",
        "pythontest",
        "speed",
        "wiki",
        "pypy-web",
    }
    # not in nyc1: mail (ams1), www (Heroku: only its downloads are lost), pypi (AWS)
    assert Ref("service", "mail") not in by_ref
    assert by_ref[Ref("service", "www")].effect == "degraded"
    assert Ref("service", "pypi") not in by_ref


def test_ams1_outage_takes_down_mail(psf: Catalog) -> None:
    ams1 = Ref("datacenter", "ams1")
    result = impact(psf, ams1)
    assert [(a.ref, a.effect, a.path) for a in result.affected] == [
        (Ref("host", "mail-ams1"), "down", (ams1, Ref("host", "mail-ams1"))),
        (
            Ref("service", "mail"),
            "down",
            (ams1, Ref("host", "mail-ams1"), Ref("service", "mail")),
        ),
        (
            Ref("service", "mail-smtp"),
            "down",
            (ams1, Ref("host", "mail-ams1"), Ref("service", "mail-smtp")),
        ),
    ]


def test_digitalocean_outage_reaches_services_through_datacenters(psf: Catalog) -> None:
    do = Ref("provider", "digitalocean")
    by_ref = {a.ref: a for a in impact(psf, do).affected}
    mail = by_ref[Ref("service", "mail")]
    assert mail.path == (do, Ref("datacenter", "ams1"), Ref("host", "mail-ams1"), mail.ref)
    assert mail.relations == ("providedBy", "locatedIn", "hostedOn")
    assert by_ref[Ref("datacenter", "sfo1")].effect == "down"


def test_buildbot_outage_only_degrades_speed(psf: Catalog) -> None:
    # the Buildbot master schedules the benchmark runs: without it no new results, but the
    # web interface still shows the old ones
    (speed,) = impact(psf, Ref("service", "buildbot")).affected
    assert (speed.ref, speed.effect, speed.relations) == (
        Ref("service", "speed"),
        "degraded",
        ("dependsOn",),
    )


def test_losing_the_osuosl_machine_degrades_speed(psf: Catalog) -> None:
    runner = Ref("host", "speed-python-osl1")
    (speed,) = impact(psf, runner).affected
    assert (speed.ref, speed.effect, speed.path) == (
        Ref("service", "speed"),
        "degraded",
        (runner, Ref("service", "speed")),
    )
    assert "degraded without it" in speed.why(psf)
    by_ref = {a.ref: a.effect for a in impact(psf, Ref("provider", "osuosl")).affected}
    assert by_ref[Ref("service", "speed")] == "degraded"


def test_losing_the_speed_web_vm_takes_speed_down(psf: Catalog) -> None:
    (speed,) = impact(psf, Ref("host", "speed-web0-nyc1")).affected
    assert (speed.ref, speed.effect, speed.relations) == (
        Ref("service", "speed"),
        "down",
        ("hostedOn",),
    )


def test_losing_the_downloads_vm_takes_downloads_down(psf: Catalog) -> None:
    host = Ref("host", "downloads0-nyc1")
    result = {a.ref: a for a in impact(psf, host).affected}
    assert {(r, a.effect) for r, a in result.items()} == {
        (Ref("service", "downloads"), "down"),
        (Ref("service", "www"), "degraded"),  # the site works, its download links do not
    }
    assert result[Ref("service", "downloads")].relations == ("hostedOn",)


def test_a_heroku_outage_takes_down_its_apps_and_bots_but_not_downloads(psf: Catalog) -> None:
    result = impact(psf, Ref("provider", "heroku"))
    assert {(a.ref.name, a.effect) for a in result.affected} == {
        ("www", "down"),
        ("pycon", "down"),
        ("core-workflow", "down"),
    }


def test_downloads_are_behind_fastly_and_need_the_python_org_zone(psf: Catalog) -> None:
    on_fastly = {a.ref.name for a in impact(psf, Ref("provider", "fastly")).affected}
    assert "downloads" in on_fastly
    in_zone = {a.ref.name: a.effect for a in impact(psf, Ref("zone", "python.org")).affected}
    assert in_zone["downloads"] == "down"


def test_who_never_lists_alex_gaynor(psf: Catalog) -> None:
    alex = Ref("person", "alex-gaynor")
    assert alex in psf.related(Ref("team", "infrastructure"), "hasMember")
    for entity in psf.entities.values():
        assert alex not in [c.ref for c in who(psf, entity.ref).contacts], entity.ref


def test_a_gandi_outage_takes_nothing_down_but_a_lapsed_registration_would(
    psf: Catalog,
) -> None:
    result = impact(psf, Ref("provider", "gandi"))
    assert result.affected == ()
    (note,) = result.notes
    assert "registrar of python.org, pypi.org" in note
    assert "lapsed registration" in note


def test_ownership_report_flags(psf: Catalog) -> None:
    rows = {row.service.name: row for row in ownership_report(psf)}
    assert len(rows) == 17
    assert rows["bugs"].flags == ("unowned",)
    assert rows["docs"].flags == ("single-owner", "all-volunteers")
    assert rows["mail"].flags == ("no-people",)
    assert rows["mail-smtp"].flags == ("no-people",)
    assert rows["pypi"].flags == ()
    assert rows["pypi"].staff == 1
    assert rows["pypi"].timezones == ("America/Chicago", "America/New_York")


def test_graph_around_docs(psf: Catalog) -> None:
    picture = graph(psf, Ref("service", "docs"))
    assert set(picture.nodes) == {
        Ref("provider", "digitalocean"),
        Ref("provider", "fastly"),
        Ref("datacenter", "nyc1"),
        Ref("host", "docs0-nyc1"),
        Ref("host", "docs1-nyc1"),
        Ref("service", "docs"),
    }
    assert (Ref("service", "docs"), "frontedBy", Ref("provider", "fastly")) in picture.edges
    assert (Ref("host", "docs0-nyc1"), "locatedIn", Ref("datacenter", "nyc1")) in picture.edges
