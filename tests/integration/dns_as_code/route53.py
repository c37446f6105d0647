"""Route 53 for the tests: moto's server on 127.0.0.1 with IAM enforced, a hosted zone made
with boto3, IAM keys holding exactly the policy docs/dns.md tells operators to grant, and a
catalog whose DNS provider is ``octodns_route53.Route53Provider`` pointed at it.

The real API is never reachable from here: every AWS endpoint, region, credential file and the
instance metadata service are set (or turned off) in the environment of the whole test process,
so a forgotten setting fails against moto instead of reaching AWS.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import Result

from .conftest import people_docs, run

HERE = Path(__file__).parent
DOCS = HERE.parents[2] / "docs" / "dns.md"
ZONE = "example.test"
KEY_ID_ENV = "INFRADEX_TEST_AWS_KEY_ID"
SECRET_ENV = "INFRADEX_TEST_AWS_SECRET"

#: the live zone before infradex manages it (moto adds the apex NS and SOA, as AWS does)
LIVE = {"ns1": ("A", "127.0.0.1"), "www": ("A", "192.0.2.10"), "old": ("A", "192.0.2.99")}


@dataclass(frozen=True)
class Keys:
    id: str
    secret: str


@dataclass
class Route53:
    """moto's Route 53 with one hosted zone, and IAM keys for each role a test plays."""

    url: str
    zone_id: str
    admin: Keys  # the test's own hand (a person in the console): route53:*
    writer: Keys  # docs/dns.md's policy, as infradex's key on merge
    reader: Keys  # docs/dns.md's policy without the writes, as the key in CI on pull requests

    def client(self, keys: Keys | None = None) -> Any:
        keys = keys or self.admin
        return boto3.client(
            "route53",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=keys.id,
            aws_secret_access_key=keys.secret,
        )

    def records(self) -> dict[tuple[str, str], tuple[int, list[str]]]:
        """What Route 53 holds: ``{(name, type): (ttl, sorted values)}``, names without the
        zone, SOA left out (AWS manages it)."""
        pages = self.client().get_paginator("list_resource_record_sets")
        out = {}
        for page in pages.paginate(HostedZoneId=self.zone_id):
            for rrset in page["ResourceRecordSets"]:
                if rrset["Type"] == "SOA":
                    continue
                name = rrset["Name"].removesuffix(f"{ZONE}.").rstrip(".")
                values = sorted(r["Value"] for r in rrset["ResourceRecords"])
                out[(name, rrset["Type"])] = (int(rrset["TTL"]), values)
        return out

    def hand_edit(self, name: str, kind: str, value: str, ttl: int = 300) -> None:
        """What someone does in the AWS console: a change infradex did not make."""
        rrset = {
            "Name": f"{name}.{ZONE}.",
            "Type": kind,
            "TTL": ttl,
            "ResourceRecords": [{"Value": value}],
        }
        self.client().change_resource_record_sets(
            HostedZoneId=self.zone_id,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]},
        )


def documented_policy() -> dict[str, Any]:
    """The IAM policy docs/dns.md gives for Route 53: the tests hold it to what octoDNS calls."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### Route 53: the IAM policy") :]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block, "docs/dns.md has no IAM policy for Route 53"
    policy: dict[str, Any] = json.loads(block[1])
    return policy


def read_only(policy: dict[str, Any]) -> dict[str, Any]:
    """The documented policy as the docs say a plan-only key should hold it: List* and Get*."""
    reads = [
        {**s, "Action": [a for a in s["Action"] if a.split(":")[1].startswith(("List", "Get"))]}
        for s in policy["Statement"]
    ]
    return {**policy, "Statement": reads}


def free_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto(log: Path) -> Iterator[str]:
    """moto's server (with the two corrections in moto_server.py) on 127.0.0.1."""
    port = free_tcp_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"moto exited: {log.read_text()[-2000:]}")
                try:
                    urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                    break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline:
                        raise RuntimeError("moto did not answer within 30 s") from None
                    time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(10)


def _moto_api(url: str, path: str, body: str = "") -> None:
    # moto reads these bodies raw; a form content type would make Flask swallow them
    request = urllib.request.Request(
        f"{url}/moto-api/{path}",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=5).close()


def aws_environment(monkeypatch: pytest.MonkeyPatch, url: str, tmp_path: Path) -> None:
    """Point every AWS client of this process at moto and cut every way to the real AWS:
    endpoints (botocore honours AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL), no
    profile or credential file from ~/.aws, no instance metadata, no ambient keys."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ROUTE_53", url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # no ambient keys either: a provider setting that fails to reach boto3 must fail here
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAKEYFORTESTS0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")


def prepare(url: str) -> Route53:
    """A fresh moto: one hosted zone holding :data:`LIVE`, the three keys, then IAM enforced
    (every call after this one is signed and checked against the caller's policy)."""
    _moto_api(url, "reset-auth", "inf")  # open while the world is set up
    _moto_api(url, "reset")
    anyone = {"aws_access_key_id": "AKIASETUP00000000000", "aws_secret_access_key": "setup"}
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", **anyone)
    route53 = boto3.client("route53", endpoint_url=url, region_name="us-east-1", **anyone)

    def user(name: str, policy: dict[str, Any]) -> Keys:
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="dns", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Keys(key["AccessKeyId"], key["SecretAccessKey"])

    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["route53:*"], "Resource": "*"}],
    }
    policy = documented_policy()
    keys = {
        "admin": user("admin", everything),
        "writer": user("infradex-apply", policy),
        "reader": user("infradex-plan", read_only(policy)),
    }
    zone_id = route53.create_hosted_zone(Name=f"{ZONE}.", CallerReference="tests")["HostedZone"][
        "Id"
    ]
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"{name}.{ZONE}.",
                "Type": kind,
                "TTL": 300,
                "ResourceRecords": [{"Value": value}],
            },
        }
        for name, (kind, value) in LIVE.items()
    ]
    # moto writes the zone's own NS values without the final dot; AWS serves them fully
    # qualified (ns-2048.awsdns-64.com.), so the zone is set as AWS would hold it
    [apex_ns] = [
        r
        for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if r["Type"] == "NS"
    ]
    for value in apex_ns["ResourceRecords"]:
        value["Value"] = value["Value"].rstrip(".") + "."
    changes.append({"Action": "UPSERT", "ResourceRecordSet": apex_ns})
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    _moto_api(url, "reset-auth", "0")
    return Route53(url, zone_id, **keys)


def write_catalog(root: Path, records: dict[str, Any] | None = None, **settings: Any) -> Path:
    """A catalog whose zone example.test is hosted by Route 53 (the provider ``route53``)."""
    from .conftest import RECORDS

    root.mkdir(parents=True, exist_ok=True)
    octodns = {
        "class": "octodns_route53.Route53Provider",
        "access_key_id": f"env:{KEY_ID_ENV}",
        "secret_access_key": f"env:{SECRET_ENV}",
        **settings,
    }
    documents = [
        {
            "kind": "Provider",
            "metadata": {"name": "route53", "title": "Amazon Route 53"},
            "spec": {"type": "dns", "octodns": octodns},
        },
        *people_docs(),
        {
            "kind": "Zone",
            "metadata": {"name": ZONE},
            "spec": {
                "provider": "provider:route53",
                "records": RECORDS if records is None else records,
            },
        },
    ]
    text = yaml.safe_dump_all([{"apiVersion": "infradex/v1", **d} for d in documents])
    (root / "catalog.yaml").write_text(text, encoding="utf-8")
    return root


def run_with(keys: Keys, root: Path, *args: str, **env: str) -> Result:
    """``infradex`` as the operator runs it: the key in the environment the catalog names."""
    return run(root, *args, **{KEY_ID_ENV: keys.id, SECRET_ENV: keys.secret, **env})
