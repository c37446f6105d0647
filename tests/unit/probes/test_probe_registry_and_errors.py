"""The probe registry, the package's import rule, error translation and certificate helpers."""

from __future__ import annotations

import ast
import errno
import inspect
import socket
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from cryptography import x509

import infradex.probes
from infradex.probes import ErrorKind, ProbeRequest, probe_for
from infradex.probes.net import ProbeFailure, Step, _cert_time, failure
from infradex.probes.registry import PROBES, schemes
from infradex.probes.tls import hostname_matches

PROBES_DIR = Path(infradex.probes.__file__).parent


def test_every_scheme_has_a_probe_that_fits_the_protocol() -> None:
    assert schemes() == ["dns", "dns-drift", "http", "https", "statuspage", "tcp", "tls"]
    for scheme in schemes():
        probe = probe_for(f"{scheme}://example.org")
        assert inspect.iscoroutinefunction(probe), scheme
        assert list(inspect.signature(probe).parameters) == ["request"], scheme
    assert probe_for("HTTPS://example.org") is probe_for("http://example.org")


def test_every_probe_module_is_in_the_registry() -> None:
    # a probe module nobody lists would never run: each one's probe is some scheme's
    modules = {
        path.stem
        for path in PROBES_DIR.glob("*.py")
        if "async def probe(" in path.read_text(encoding="utf-8")
    }
    assert modules == {"dns", "dns_drift", "http", "statuspage", "tcp", "tls"}
    assert {probe.__module__.rpartition(".")[2] for probe in PROBES.values()} == modules


def test_every_probe_is_found_whichever_probe_module_was_imported_first() -> None:
    # a fresh interpreter: the registry must not depend on what was imported before
    code = (
        "import infradex.probes.http\n"
        "from infradex.probes.registry import schemes\n"
        "print(','.join(schemes()))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "dns,dns-drift,http,https,statuspage,tcp,tls"


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as caught:
        probe_for("ftp://example.org")
    assert caught.value.args[0] == (
        "no probe for ftp:// URLs; use one of dns://, dns-drift://, http://, https://, "
        "statuspage://, tcp://, tls://"
    )


def test_package_exports() -> None:
    assert set(infradex.probes.__all__) == {"ErrorKind", "Observation", "ProbeRequest", "probe_for"}


def test_probes_import_nothing_else_from_infradex() -> None:
    # netpolicy is a leaf (no infradex imports) shared with settings and validation
    allowed = ("infradex.probes", "infradex.errors", "infradex.clock", "infradex.netpolicy")
    for module in PROBES_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name == "infradex" or name.startswith("infradex."):
                    assert name.startswith(allowed), f"{module.name} imports {name}"


# ------------------------------------------------------------------------ error kinds
REQUEST = ProbeRequest("http://example.org/", timeout=2)
STEP = Step("connecting to 192.0.2.1:80")


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (
            TimeoutError(),
            ErrorKind.TIMEOUT,
            "no answer within 2.0 s while connecting to 192.0.2.1:80",
        ),
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"),
            ErrorKind.REFUSED,
            "Connection refused while connecting to 192.0.2.1:80",
        ),
        (
            ConnectionResetError(errno.ECONNRESET, "x"),
            ErrorKind.REFUSED,
            "Connection reset by peer while connecting to 192.0.2.1:80",
        ),
        (
            OSError(errno.ENETUNREACH, "Connect call failed"),
            ErrorKind.UNREACHABLE,
            "Network is unreachable while connecting to 192.0.2.1:80",
        ),
        (
            OSError(errno.EHOSTUNREACH, "Connect call failed"),
            ErrorKind.UNREACHABLE,
            "No route to host while connecting to 192.0.2.1:80",
        ),
        (
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            ErrorKind.NAME_NOT_RESOLVED,
            "Name or service not known while connecting to 192.0.2.1:80",
        ),
        (
            ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            ErrorKind.TLS,
            "TLS failed during connecting to 192.0.2.1:80: "
            "[SSL: WRONG_VERSION_NUMBER] wrong version number",  # made by hand: no .reason
        ),
        (
            OSError(errno.EMFILE, "x"),
            ErrorKind.ERROR,
            "Too many open files while connecting to 192.0.2.1:80",
        ),
        (
            ProbeFailure(ErrorKind.PROTOCOL, "the server did not answer in HTTP"),
            ErrorKind.PROTOCOL,
            "the server did not answer in HTTP",
        ),
        (
            RuntimeError("boom"),
            ErrorKind.ERROR,
            "RuntimeError: boom while connecting to 192.0.2.1:80",
        ),
    ],
)
def test_failure_translation(exc: BaseException, kind: ErrorKind, message: str) -> None:
    assert failure(exc, REQUEST, STEP) == (kind, message)


def test_openssl_time_format() -> None:
    for text in (
        "Jun  1 12:00:00 2026 GMT",
        "Dec 31 23:59:59 2049 GMT",
        "Feb 29 00:00:01 2028 GMT",
    ):
        assert _cert_time(text) == ssl.cert_time_to_seconds(text)


# --------------------------------------------------------------------- host names
@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def certificate(ca: trustme.CA, *names: str) -> x509.Certificate:
    leaf = ca.issue_cert(*names, not_after=datetime.now(UTC) + timedelta(days=1))
    return x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())


@pytest.mark.parametrize(
    ("names", "host", "matches"),
    [
        (("*.example.org",), "www.example.org", True),
        (("*.example.org",), "WWW.Example.ORG.", True),
        (("*.example.org",), "example.org", False),
        (("*.example.org",), "a.b.example.org", False),
        (("www.example.org",), "www.example.org", True),
        (("www.example.org",), "mail.example.org", False),
        (("127.0.0.1", "::1"), "::1", True),
        (("127.0.0.1",), "127.0.0.2", False),
        (("127.0.0.1",), "localhost", False),
    ],
)
def test_hostname_matches(ca: trustme.CA, names: tuple[str, ...], host: str, matches: bool) -> None:
    assert hostname_matches(certificate(ca, *names), host) is matches
