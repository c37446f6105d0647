"""A real BIND (``named`` from Debian's bind9) on 127.0.0.1 for each test, accepting RFC 2136
updates and zone transfers signed with a TSIG key, and a catalog whose DNS provider is it."""

from __future__ import annotations

import base64
import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.tsigkeyring
import dns.update
import pytest
import yaml
from typer.testing import CliRunner, Result

from infradex.cli.main import app
from integration_serve import free_udp_tcp_port
from system_tools import require_tool

SECRET = base64.b64encode(b"infradex-test-tsig-secret-32byte").decode()
SECRET_ENV = "INFRADEX_TEST_TSIG"

#: the live zone as a hand-run BIND would hold it before infradex manages it
LIVE = {
    "example.test": """\
@    IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@    IN NS  ns1.example.test.
ns1  IN A   127.0.0.1
www  IN A   192.0.2.10
old  IN A   192.0.2.99
""",
}


@dataclass
class Bind:
    port: int
    directory: Path

    def query(self, name: str, kind: str = "A") -> list[str]:
        """What ``dig`` answers (short form), sorted."""
        dig = require_tool("dig")
        out = subprocess.run(
            [dig, "+short", "+time=2", "+tries=1", "-p", str(self.port), "@127.0.0.1", name, kind],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sorted(line for line in out.splitlines() if line)


def start_bind(directory: Path, zones: dict[str, str], writable: set[str]) -> Iterator[Bind]:
    named = require_tool("named")
    port = free_udp_tcp_port()
    blocks = []
    for zone, body in zones.items():
        (directory / f"{zone}.zone").write_text("$TTL 300\n" + body)
        update = "allow-update { key infradex; };" if zone in writable else ""
        blocks.append(
            f'zone "{zone}" {{ type primary; file "{directory}/{zone}.zone"; {update} '
            "allow-transfer { key infradex; }; };"
        )
    (directory / "named.conf").write_text(
        f"""
key "infradex" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
options {{
  directory "{directory}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{directory}/named.pid";
  session-keyfile "{directory}/session.key";
  managed-keys-directory "{directory}";
  recursion no;
  dnssec-validation no;
}};
controls {{ }};
{chr(10).join(blocks)}
"""
    )
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen(
        [named, "-g", "-n", "1", "-c", str(directory / "named.conf")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    query = dns.message.make_query(next(iter(zones)), "SOA")
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"named exited: {(directory / 'named.log').read_text()[-2000:]}")
        with contextlib.suppress(dns.exception.Timeout, OSError):
            dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("named did not answer within 30 s")
        time.sleep(0.05)
    try:
        yield Bind(port, directory)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def hand_edit(bind: Bind, name: str, address: str) -> None:
    """What someone does in the provider's console: an update infradex did not make."""
    keyring = dns.tsigkeyring.from_text({"infradex": SECRET})
    update = dns.update.Update("example.test", keyring=keyring, keyalgorithm="hmac-sha256")
    update.replace(name, 300, "A", address)
    dns.query.tcp(update, "127.0.0.1", port=bind.port, timeout=5)


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[Bind]:
    directory = tmp_path / "bind"
    directory.mkdir()
    yield from start_bind(directory, LIVE, writable=set(LIVE))


def provider_doc(port: int, **settings: Any) -> dict[str, Any]:
    octodns = {
        "class": "octodns_bind.Rfc2136Provider",
        "host": "127.0.0.1",
        "port": port,
        "key_name": "infradex",
        "key_secret": f"env:{SECRET_ENV}",
        "key_algorithm": "hmac-sha256",
        "timeout": 5,
        **settings,
    }
    return {
        "kind": "Provider",
        "metadata": {"name": "bind", "title": "Our BIND"},
        "spec": {"type": "dns", "octodns": octodns},
    }


#: the catalog's view: docs is new, www moves, old goes
RECORDS = {
    "docs": {"type": "CNAME", "value": "www.example.test.", "ttl": 300},
    "ns1": {"type": "A", "value": "127.0.0.1", "ttl": 300},
    "www": {"type": "A", "value": "192.0.2.11", "ttl": 300},
}


def people_docs() -> list[dict[str, Any]]:
    return [
        {
            "kind": "Person",
            "metadata": {"name": "ann", "title": "Ann Admin"},
            "spec": {"email": "ann@example.test", "staff": True, "memberOf": ["team:infra"]},
        },
        {
            "kind": "Team",
            "metadata": {"name": "infra", "title": "Infrastructure"},
            "spec": {"escalation": "escalationpolicy:infra"},
        },
        {
            "kind": "EscalationPolicy",
            "metadata": {"name": "infra", "title": "Infra"},
            "spec": {"steps": [{"after": "0m", "notify": ["person:ann"]}]},
        },
        {
            "kind": "Provider",
            "metadata": {"name": "fastly", "title": "Fastly"},
            "spec": {"type": "cdn"},
        },
        {
            "kind": "Service",
            "metadata": {"name": "www", "title": "Website"},
            "spec": {
                "domains": ["www.example.test"],
                "owners": [{"ref": "team:infra"}],
                "frontedBy": ["provider:fastly"],
            },
        },
    ]


def write_catalog(
    root: Path,
    port: int,
    records: dict[str, Any] | None = None,
    zones: dict[str, dict[str, Any]] | None = None,
    **settings: Any,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    zones = (
        zones if zones is not None else {"example.test": RECORDS if records is None else records}
    )
    documents = [provider_doc(port, **settings), *people_docs()]
    for name, zone_records in zones.items():
        documents.append(
            {
                "kind": "Zone",
                "metadata": {"name": name},
                "spec": {"provider": "provider:bind", "records": zone_records},
            }
        )
    text = yaml.safe_dump_all([{"apiVersion": "infradex/v1", **d} for d in documents])
    (root / "catalog.yaml").write_text(text, encoding="utf-8")
    return root


def run(root: Path, *args: str, **env: str) -> Result:
    environ = {
        "INFRADEX_CATALOG": str(root),
        "INFRADEX_DATA_DIR": str(root.parent / "data"),
        SECRET_ENV: SECRET,
        "COLUMNS": "200",
        **env,
    }
    return CliRunner().invoke(app, list(args), env=environ)


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server on 127.0.0.1, one for the session: each test resets it (route53)."""
    from .route53 import start_moto

    yield from start_moto(tmp_path_factory.mktemp("moto") / "moto.log")


@pytest.fixture
def route53(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A fresh Route 53 (moto) with example.test and IAM keys; AWS is out of reach."""
    from .route53 import aws_environment, prepare

    aws_environment(monkeypatch, moto_url, tmp_path)
    return prepare(moto_url)


def checksum_in(output: str) -> str:
    """The plan checksum that `dns plan` printed (in any of its formats)."""
    found = re.search(r"--checksum ([0-9a-f]{20})", output)
    assert found, output
    return found[1]
