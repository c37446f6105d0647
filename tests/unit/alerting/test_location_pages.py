"""Which policies hear of a location problem, on which channels, how urgently, and once per
problem (pure); the catalog's ``locationProblems`` and its warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infradex.alerting.location_pages import location_pages, render_location_problem
from infradex.catalog import Catalog
from infradex.lint import load
from infradex.monitor.reads import LocationProblem

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

BASE = """\
apiVersion: infradex/v1
kind: Provider
metadata: {name: cloud}
spec: {type: iaas}
---
apiVersion: infradex/v1
kind: Datacenter
metadata: {name: ams1}
spec: {provider: cloud}
---
apiVersion: infradex/v1
kind: Datacenter
metadata: {name: nyc1}
spec: {provider: cloud}
---
apiVersion: infradex/v1
kind: Person
metadata: {name: ann}
spec: {email: ann@example.org}
---
apiVersion: infradex/v1
kind: Service
metadata: {name: web}
spec:
  escalation: escalationpolicy:web
  checks:
    - {name: home, url: "http://127.0.0.1:9/", LOCATED}
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {name: web}
spec:
  steps: [{notify: [person:ann]}]
"""


def catalog_with(tmp_path: Path, write_catalog: Any, policy_extra: str, located: bool = True):
    text = BASE.replace(
        "LOCATED", "locations: [ams1, nyc1], quorum: 2" if located else "interval: 60s"
    )
    write_catalog(tmp_path, {"catalog.yaml": text + policy_extra})
    return load(tmp_path)


PROBLEM = LocationProblem("service:web/home", "ams1", T0, "HTTP 503")


def test_the_owners_policy_pages_each_of_its_channels_at_its_severity(
    tmp_path: Path, write_catalog: Any
) -> None:
    loaded = catalog_with(
        tmp_path,
        write_catalog,
        "  locationProblems:\n"
        "    severity: high\n"
        "    channels:\n"
        "      - {type: email, address: noc@example.org}\n"
        "      - {type: webhook, url: 'https://hooks.example.org/x'}\n",
    )
    assert loaded.catalog is not None and loaded.errors == []
    pages = list(location_pages(loaded.catalog, [PROBLEM]))
    assert [(p.policy, p.channel.type, p.urgent) for p in pages] == [
        ("escalationpolicy:web", "email", True),
        ("escalationpolicy:web", "webhook", True),
    ]
    # once per problem: the key is the same on every turn, and differs per channel and episode
    again = list(location_pages(loaded.catalog, [PROBLEM]))
    assert [p.dedup_key for p in pages] == [p.dedup_key for p in again]
    assert pages[0].dedup_key != pages[1].dedup_key
    later = LocationProblem("service:web/home", "ams1", T0 + timedelta(hours=1), "HTTP 503")
    assert next(location_pages(loaded.catalog, [later])).dedup_key != pages[0].dedup_key
    assert all(len(p.dedup_key) <= 200 for p in pages)  # the outbox column's width
    message = render_location_problem(pages[0], T0)
    assert message.kind == "trigger" and message.urgent
    assert message.subject == "[infradex] Location problem: service:web/home down from ams1 only"


def test_without_location_problems_the_policy_pages_nobody_for_them(
    tmp_path: Path, write_catalog: Any
) -> None:
    loaded = catalog_with(tmp_path, write_catalog, "")
    catalog: Catalog | None = loaded.catalog
    assert catalog is not None
    assert list(location_pages(catalog, [PROBLEM])) == []


def test_severity_is_low_or_high(tmp_path: Path, write_catalog: Any) -> None:
    loaded = catalog_with(
        tmp_path,
        write_catalog,
        "  locationProblems: {severity: medium, channels: [{type: email, address: a@b.org}]}\n",
    )
    assert loaded.catalog is None
    (error,) = loaded.errors
    assert (
        error.field == "spec.locationProblems.severity" and error.hint == "write one of low, high"
    )


@pytest.mark.parametrize("located", [True, False])
def test_a_policy_no_located_check_routes_to_is_warned_about(
    tmp_path: Path, write_catalog: Any, located: bool
) -> None:
    loaded = catalog_with(
        tmp_path,
        write_catalog,
        "  locationProblems: {channels: [{type: email, address: noc@example.org}]}\n",
        located=located,
    )
    found = [w for w in loaded.warnings if w.code == "location-problems-unused"]
    if located:
        assert found == []
    else:
        (warning,) = found
        assert warning.code == "location-problems-unused"
        assert warning.entity == "escalationpolicy:web" and warning.line == 34
