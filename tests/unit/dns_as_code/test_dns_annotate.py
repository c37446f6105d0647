"""The risk grade of each kind of DNS change, the services a change touches, and the plan's
checksum: pure, from a catalog in memory."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from infradex.catalog import Catalog, load
from infradex.catalog.secrets import REDACTED, redact_document
from infradex.dns.annotate import annotate, annotate_all, services_named
from infradex.dns.plan import RecordChange, RecordData, ZonePlan, checksum_of

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def _catalog_of(*documents: dict[str, Any]) -> Catalog:
    with tempfile.TemporaryDirectory() as root:
        text = yaml.safe_dump_all([{"apiVersion": "infradex/v1", **d} for d in documents])
        (Path(root) / "catalog.yaml").write_text(text, encoding="utf-8")
        loaded = load(Path(root))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


def _catalog() -> Catalog:
    return _catalog_of(
        {
            "kind": "Service",
            "metadata": {"name": "www", "title": "Website"},
            "spec": {"domains": ["www.python.org"]},
        },
        {
            "kind": "Service",
            "metadata": {"name": "wiki", "title": "Wiki"},
            "spec": {"domains": ["wiki.python.org"], "lifecycle": "experimental"},
        },
    )


def _change(name: str, kind: str, action: str, before: tuple[int, str] | None,
            after: tuple[int, str] | None) -> RecordChange:  # fmt: skip
    def data(pair: tuple[int, str] | None) -> RecordData | None:
        return RecordData(pair[0], (pair[1],)) if pair else None

    return RecordChange("python.org", name, kind, action, data(before), data(after))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "grade", "reason"),
    [
        (_change("www", "A", "delete", (300, "192.0.2.1"), None), "high",
         "deletes the name of production service Website"),
        (_change("www", "A", "update", (300, "192.0.2.1"), (300, "192.0.2.2")), "high",
         "repoints production service Website"),
        (_change("wiki", "A", "update", (3600, "192.0.2.1"), (3600, "192.0.2.2")), "medium",
         "resolvers keep the old answer for up to 3600 s"),
        (_change("wiki", "A", "update", (3600, "192.0.2.1"), (300, "192.0.2.1")), "medium",
         "lowers the TTL from 3600 to 300 s"),
        (_change("", "NS", "update", (3600, "a.ns."), (3600, "b.ns.")), "high",
         "changes the zone's delegation"),
        (_change("", "MX", "create", None, (3600, "10 mail.python.org.")), "medium",
         "changes where the zone's mail goes"),
        (_change("", "CAA", "create", None, (3600, '0 issue "letsencrypt.org"')), "medium",
         "certificate authorities"),
        (_change("", "A", "create", None, (3600, "192.0.2.9")), "medium", "zone apex"),
        (_change("new", "A", "create", None, (300, "192.0.2.9")), "low",
         "touches no production service's name"),
    ],
)  # fmt: skip
def test_risk_grades(change: RecordChange, grade: str, reason: str) -> None:
    annotated = annotate(_catalog(), change, NOW)
    assert annotated.risk.grade == grade
    assert any(reason in r for r in annotated.risk.reasons), annotated.risk.reasons


def test_zone_wide_records_touch_every_service_in_the_zone() -> None:
    ns = _change("", "NS", "update", (3600, "a.ns."), (3600, "b.ns."))
    assert {s.name for s in services_named(_catalog(), ns)} == {"www", "wiki"}
    txt = _change("", "TXT", "update", (3600, '"a"'), (3600, '"b"'))
    assert services_named(_catalog(), txt) == []


def test_one_plan_looks_each_name_up_once_and_gives_what_each_change_alone_gives() -> None:
    catalog = _catalog_of(
        {"kind": "Service", "metadata": {"name": "www"},
         "spec": {"domains": ["WWW.python.org.", "python.org"]}},
        {"kind": "Service", "metadata": {"name": "mirror"},
         "spec": {"domains": ["www.python.org"], "lifecycle": "experimental"}},
        {"kind": "Service", "metadata": {"name": "pypi"}, "spec": {"domains": ["pypi.org"]}},
    )  # fmt: skip
    changes = [
        _change("www", "A", "update", (300, "192.0.2.1"), (300, "192.0.2.2")),
        _change("", "MX", "create", None, (3600, "10 mail.python.org.")),
        _change("", "A", "update", (300, "192.0.2.1"), (300, "192.0.2.2")),
        _change("docs", "CNAME", "create", None, (300, "www.python.org.")),
    ]
    together = annotate_all(catalog, changes, NOW)
    assert together == [annotate(catalog, c, NOW) for c in changes]
    assert [[s.ref for s in a.services] for a in together] == [
        ["service:mirror", "service:www"],  # both claim the name (case and dot aside)
        ["service:mirror", "service:www"],  # the zone's MX: every service in python.org
        ["service:www"],  # the apex is www's own name
        [],
    ]
    # the same service is the same annotation wherever it appears in the plan
    assert together[0].services[1] is together[1].services[1]


def test_the_checksum_covers_the_live_state_and_the_zones() -> None:
    one = _change("www", "A", "update", (300, "192.0.2.1"), (300, "192.0.2.2"))
    moved = _change("www", "A", "update", (300, "192.0.2.5"), (300, "192.0.2.2"))
    plan = [ZonePlan("python.org", "provider:r53", (one,))]
    assert checksum_of(plan) == checksum_of([ZonePlan("python.org", "provider:r53", (one,))])
    assert checksum_of(plan) != checksum_of([ZonePlan("python.org", "provider:r53", (moved,))])
    assert checksum_of(plan) != checksum_of([*plan, ZonePlan("pypi.org", "provider:r53", ())])


def test_octodns_keys_are_redacted_below_admin() -> None:
    document = {
        "kind": "Provider",
        "spec": {
            "octodns": {
                "class": "octodns_route53.Route53Provider",
                "access_key_id": "env:AWS_ACCESS_KEY_ID",
                "secret_access_key": "wJalrXUtnFEMI/K7MDENG",
                "host": "127.0.0.1",
            }
        },
    }
    shown = redact_document(document)["spec"]["octodns"]
    assert shown == {
        "class": "octodns_route53.Route53Provider",
        "access_key_id": "env:AWS_ACCESS_KEY_ID",
        "secret_access_key": REDACTED,
        "host": "127.0.0.1",
    }


def test_foreign_errors_name_their_kind_when_the_message_alone_does_not() -> None:
    from infradex.dns.providers import error_text

    assert error_text(KeyError("IsTruncated")) == "KeyError: 'IsTruncated'"
    assert error_text(TimeoutError()) == "TimeoutError"
    assert error_text(OSError("connection refused")) == "connection refused"
