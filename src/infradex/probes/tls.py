"""``tls://host:port`` (port 443 by default): one TLS handshake and the certificate's facts.

The handshake verifies the chain (against the system's CAs, or only ``request.ca_file``'s) and
the host name. When verification fails the probe ends with kind TLS and OpenSSL's reason
("certificate has expired", "Hostname mismatch, …", "self-signed certificate in certificate
chain") and still reports the certificate: a second, unverified handshake fetches it. With
``request.verify_tls = False`` the facts are the same and a failed verification is no error
(``chain_valid`` and ``hostname_match`` still say what verification found).

Values: ``CERTIFICATE_EXPIRATION`` (seconds until notAfter, negative once expired),
``CONNECTED``, ``IP``, ``RESPONSE_TIME``. Details: ``not_before``, ``not_after`` (ISO 8601,
UTC), ``subject``, ``issuer``, ``names`` (subjectAltName), ``serial``, ``tls_version``,
``cipher``, ``chain_valid``, ``hostname_match`` and, when verification failed, ``verify_error``.
Phases: ``dns``, ``connect``, ``tls`` (of the verifying handshake), ``total``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any

from infradex.clock import utcnow
from infradex.probes.base import Observation, ProbeRequest
from infradex.probes.net import (
    Step,
    client_context,
    connect,
    failure,
    host_port,
    iso,
    load_certificate,
    show_address,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

__all__ = ["probe"]

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH: the chain itself
# verified, only the name is wrong.
_NAME_MISMATCH = frozenset({62, 64})


@dataclass(frozen=True, slots=True)
class _Handshake:
    der: bytes
    version: str | None
    cipher: str | None


async def _handshake(
    host: str,
    port: int,
    request: ProbeRequest,
    context: ssl.SSLContext,
    observation: Observation,
    phases: dict[str, float],
    step: Step,
) -> _Handshake:
    loop = asyncio.get_running_loop()
    sock, ip = await connect(host, port, request.ip_version, phases, step, request.policy)
    observation.values["CONNECTED"] = True
    observation.values["IP"] = ip
    step.doing = f"the TLS handshake with {show_address(ip, port)}"
    started = perf_counter()
    transport, _ = await loop.create_connection(
        asyncio.Protocol, sock=sock, ssl=context, server_hostname=host
    )
    phases["tls"] = phases.get("tls", 0.0) + perf_counter() - started
    try:
        ssl_object = transport.get_extra_info("ssl_object")
        cipher = ssl_object.cipher()
        return _Handshake(
            ssl_object.getpeercert(binary_form=True) or b"",
            ssl_object.version(),
            cipher[0] if cipher else None,
        )
    finally:
        transport.abort()  # the facts are in; no close_notify exchange needed


def hostname_matches(certificate: Certificate, host: str) -> bool:
    """Whether the certificate names ``host`` (subjectAltName, or the common name when there
    is no subjectAltName; a ``*.`` wildcard stands for exactly one leftmost label)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        san: x509.SubjectAlternativeName | None = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        san = None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return san is not None and address in san.get_values_for_type(x509.IPAddress)
    if san is not None:
        names = san.get_values_for_type(x509.DNSName)
    else:
        names = [
            str(attribute.value)
            for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
    host = host.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and host.partition(".")[2] == name[2:] and "." in name[2:]:
            return True
    return False


def _facts(certificate: Certificate) -> dict[str, Any]:
    from cryptography import x509

    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(name.value) for name in san]
    except x509.ExtensionNotFound:
        names = []
    return {
        "not_before": iso(certificate.not_valid_before_utc),
        "not_after": iso(certificate.not_valid_after_utc),
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "names": names,
        "serial": format(certificate.serial_number, "x"),
    }


async def probe(request: ProbeRequest) -> Observation:
    """Handshake, verify, and report the certificate even when it does not verify."""
    observation = Observation()
    values = observation.values
    details = observation.details
    values["CONNECTED"] = False
    started = perf_counter()
    step = Step("reading the URL")
    try:
        host, port = host_port(request.url, 443)
        async with asyncio.timeout(request.timeout):
            rejected: ssl.SSLCertVerificationError | None = None
            try:
                context = client_context(True, request.ca_file)
                shake = await _handshake(
                    host, port, request, context, observation, observation.phases, step
                )
            except ssl.SSLCertVerificationError as exc:
                rejected = exc
                # The verifying handshake stopped at the certificate: fetch it unverified.
                unverified = client_context(False, None)
                shake = await _handshake(host, port, request, unverified, observation, {}, step)
            certificate = load_certificate(shake.der)
            details.update(_facts(certificate))
            details["tls_version"] = shake.version
            details["cipher"] = shake.cipher
            expires = certificate.not_valid_after_utc.timestamp() - utcnow().timestamp()
            values["CERTIFICATE_EXPIRATION"] = expires
            if rejected is None:
                details["chain_valid"] = details["hostname_match"] = True
            else:
                name_only = rejected.verify_code in _NAME_MISMATCH
                details["chain_valid"] = name_only
                details["hostname_match"] = not name_only and hostname_matches(certificate, host)
                kind, message = failure(rejected, request, step)
                details["verify_error"] = message
                if request.verify_tls:
                    observation.fail(kind, message)
    except Exception as exc:
        observation.fail(*failure(exc, request, step))
    total = perf_counter() - started
    observation.phases["total"] = total
    values["RESPONSE_TIME"] = total * 1000.0
    return observation
