"""`infradex dns` against Route 53 through octodns-route53, with moto's server standing in for
AWS on 127.0.0.1 (IAM enforced): the keys hold exactly the policy docs/dns.md documents, so
these tests also check that policy is enough, and that its read-only half cannot write."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import yaml

from .conftest import checksum_in
from .route53 import Keys, Route53, free_tcp_port, run_with, write_catalog


def test_nothing_here_can_reach_aws(route53: Route53) -> None:
    # a client built as octodns-route53 builds it (no endpoint given) goes to moto
    assert boto3.client("route53").meta.endpoint_url == route53.url
    assert boto3.client("sts").meta.endpoint_url == route53.url


def test_plan_annotates_route53_changes(route53: Route53, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog")
    result = run_with(route53.reader, root, "dns", "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    by_name = {c["fqdn"]: c for c in plan["changes"]}
    assert {k: c["action"] for k, c in by_name.items()} == {
        "docs.example.test": "create",
        "old.example.test": "delete",
        "www.example.test": "update",
    }
    www = by_name["www.example.test"]
    assert www["before"] == {"ttl": 300, "values": ["192.0.2.10"]}
    assert www["after"] == {"ttl": 300, "values": ["192.0.2.11"]}
    assert www["risk"]["grade"] == "high"
    [service] = www["services"]
    assert service["onCall"] == ["Ann Admin"]
    assert [z["provider"] for z in plan["zones"]] == ["provider:route53"]
    # the same plan with the key that may write: planning writes nothing
    text = run_with(route53.writer, root, "dns", "plan")
    assert checksum_in(text.stdout) == plan["checksum"]
    assert "DNS plan: 3 change(s)" in text.stdout
    markdown = run_with(route53.reader, root, "dns", "plan", "--format", "markdown").stdout
    [www_row] = [
        r for r in markdown.splitlines() if r.startswith("| ") and "www.example.test A" in r
    ]
    assert "Ann Admin" in www_row
    assert "high" in www_row
    live = route53.records()
    assert live[("www", "A")] == (300, ["192.0.2.10"])
    assert live[("old", "A")] == (300, ["192.0.2.99"])
    assert ("docs", "CNAME") not in live


def test_apply_writes_route53_then_drift_finds_a_hand_edit(
    route53: Route53, tmp_path: Path
) -> None:
    root = write_catalog(tmp_path / "catalog")
    checksum = checksum_in(run_with(route53.writer, root, "dns", "plan").stdout)
    result = run_with(route53.writer, root, "dns", "apply", "--checksum", checksum)
    assert result.exit_code == 0, result.output
    assert "applied 3 change(s) to example.test" in result.stdout
    live = route53.records()
    assert live[("www", "A")] == (300, ["192.0.2.11"])
    assert live[("docs", "CNAME")] == (300, ["www.example.test."])
    assert ("old", "A") not in live
    assert live[("ns1", "A")] == (300, ["127.0.0.1"])
    in_sync = run_with(route53.reader, root, "dns", "drift")
    assert in_sync.exit_code == 0, in_sync.output
    route53.hand_edit("www", "A", "192.0.2.66")
    drifted = run_with(route53.reader, root, "dns", "drift", "--format", "json")
    assert drifted.exit_code == 3, drifted.output
    [change] = json.loads(drifted.stdout)["changes"]
    assert (change["fqdn"], change["action"]) == ("www.example.test", "update")
    assert change["before"]["values"] == ["192.0.2.66"]


def test_a_plan_older_than_the_live_zone_is_refused(route53: Route53, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog")
    checksum = checksum_in(run_with(route53.writer, root, "dns", "plan").stdout)
    route53.hand_edit("www", "A", "192.0.2.50")
    result = run_with(route53.writer, root, "dns", "apply", "--checksum", checksum)
    assert result.exit_code == 1
    assert "nothing was applied" in result.output
    assert route53.records()[("old", "A")] == (300, ["192.0.2.99"])


def test_import_writes_a_zone_file_that_plans_to_nothing(route53: Route53, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog")
    result = run_with(
        route53.reader, root, "dns", "import", "--provider", "route53", "--zone", "example.test"
    )
    assert result.exit_code == 0, result.output
    records = yaml.safe_load((root / "zones" / "example.test.yaml").read_text())
    assert list(records) == ["", "ns1", "old", "www"]
    assert records[""]["type"] == "NS"  # the apex NS Route 53 gave the zone; no SOA
    assert records["www"] == {"ttl": 300, "type": "A", "value": "192.0.2.10"}
    # point the catalog's zone at the file: it validates, and the plan is empty
    catalog = list(yaml.safe_load_all((root / "catalog.yaml").read_text()))
    [zone] = [d for d in catalog if d["kind"] == "Zone"]
    zone["spec"].pop("records")
    zone["spec"]["file"] = "zones/example.test.yaml"
    (root / "catalog.yaml").write_text(yaml.safe_dump_all(catalog), encoding="utf-8")
    valid = run_with(route53.reader, root, "validate")
    assert valid.exit_code == 0, valid.output
    plan = run_with(route53.reader, root, "dns", "plan")
    assert plan.exit_code == 0, plan.output
    assert "No changes" in plan.stdout, plan.output


def test_the_read_only_key_plans_but_cannot_apply(route53: Route53, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog")
    checksum = checksum_in(run_with(route53.reader, root, "dns", "plan").stdout)
    result = run_with(route53.reader, root, "dns", "apply", "--checksum", checksum)
    assert result.exit_code == 1
    assert "applying example.test failed" in result.output
    assert "AccessDenied" in result.output
    assert "route53:ChangeResourceRecordSets" in result.output
    assert isinstance(result.exception, SystemExit)  # infradex's error, not a crash
    assert route53.records()[("www", "A")] == (300, ["192.0.2.10"])


def test_wrong_credentials_give_a_clear_error(route53: Route53, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog")
    wrong = Keys("AKIAWRONGWRONGWRONG0", "wrong")
    result = run_with(wrong, root, "dns", "plan")
    assert result.exit_code == 1
    assert "cannot read the live zone example.test from provider:route53" in result.output
    assert "InvalidClientTokenId" in result.output
    assert "check its octodns settings" in result.output
    assert isinstance(result.exception, SystemExit)  # infradex's error, not a crash
    bad_secret = Keys(route53.reader.id, "not-its-secret")
    result = run_with(bad_secret, root, "dns", "drift")
    assert result.exit_code == 1
    assert "SignatureDoesNotMatch" in result.output


def test_an_unreachable_endpoint_gives_a_clear_error(route53: Route53, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog")
    nowhere = f"http://127.0.0.1:{free_tcp_port()}"
    result = run_with(route53.reader, root, "dns", "plan", AWS_ENDPOINT_URL_ROUTE_53=nowhere)
    assert result.exit_code == 1
    assert "cannot read the live zone example.test from provider:route53" in result.output
    assert "Could not connect to the endpoint URL" in result.output
    assert isinstance(result.exception, SystemExit)  # infradex's error, not a crash
