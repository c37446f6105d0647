"""Fixtures for the probe tests: trustme certificates, the local targets (``targets.py``) and
a BIND name server with a test zone, all on 127.0.0.1 / ::1."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest
import trustme

from integration_serve import free_udp_tcp_port
from system_tools import require_tool

from .targets import Targets


@dataclass(frozen=True)
class Certificates:
    ca: trustme.CA
    ca_file: str  # the CA the probes are told to trust
    server: dict[str, ssl.SSLContext]  # listener name → server context
    smtp: ssl.SSLContext


def _server_context(leaf: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    now = datetime.now(UTC)
    ca = trustme.CA()
    stranger = trustme.CA()  # a CA nobody trusts
    directory = tmp_path_factory.mktemp("certs")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    self_signed = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    key, cert = directory / "self.key", directory / "self.pem"
    stranger.private_key_pem.write_to_path(str(key))
    stranger.cert_pem.write_to_path(str(cert))
    self_signed.load_cert_chain(str(cert), str(key))
    server = {
        "https": _server_context(ca.issue_cert("localhost", "127.0.0.1", "::1")),
        "https-soon": _server_context(
            ca.issue_cert("127.0.0.1", not_after=now + timedelta(days=2))
        ),
        "https-expired": _server_context(
            ca.issue_cert(
                "127.0.0.1", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1)
            )
        ),
        "https-wrong-host": _server_context(ca.issue_cert("other.example")),
        "https-untrusted": _server_context(stranger.issue_cert("127.0.0.1")),
        "https-self-signed": self_signed,
    }
    return Certificates(ca, str(ca_file), server, _server_context(ca.issue_cert("127.0.0.1")))


@pytest.fixture(scope="session")
def targets(certs: Certificates) -> Iterator[Targets]:
    running = Targets(certs.server, certs.smtp)
    yield running
    running.stop()


# ------------------------------------------------------------------------------------ BIND
ZONE = """\
$TTL 300
@       IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@       IN NS  ns1.example.test.
ns1     IN A   127.0.0.1
www     IN A   192.0.2.10
www     IN A   192.0.2.11
v6      IN AAAA 2001:db8::1
alias   IN CNAME www.example.test.
@       IN MX  10 mail.example.test.
mail    IN A   192.0.2.25
"""


@dataclass(frozen=True)
class NameServer:
    port: int

    def url(self, name: str, kind: str | None = None) -> str:
        query = f"?type={kind}" if kind else ""
        return f"dns://127.0.0.1:{self.port}/{name}{query}"


@pytest.fixture(scope="session")
def bind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NameServer]:
    """BIND (``named`` from Debian's bind9) serving ``example.test`` on 127.0.0.1, in the
    foreground as this test run's child."""
    named = require_tool("named")
    directory: Path = tmp_path_factory.mktemp("bind")
    port = free_udp_tcp_port()
    # Answers longer than 512 bytes are truncated over UDP: the probe must retry over TCP.
    big = " ".join(f'"{"t" * 200}-{i}"' for i in range(4))
    (directory / "example.test.zone").write_text(ZONE + f"big IN TXT {big}\n")
    conf = directory / "named.conf"
    conf.write_text(
        f"""
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
zone "example.test" {{ type primary; file "{directory}/example.test.zone"; }};
"""
    )
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen(
        [named, "-g", "-n", "1", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
    )
    query = dns.message.make_query("ns1.example.test", "A")
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"named exited with {process.returncode}: "
                + (directory / "named.log").read_text()[-2000:]
            )
        with contextlib.suppress(dns.exception.Timeout, OSError):
            dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("named did not answer within 30 s")
        time.sleep(0.1)
    yield NameServer(port)
    process.terminate()
    process.wait(10)
    log.close()
