"""The dns probe against BIND on 127.0.0.1 (zone ``example.test``, see conftest.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from infradex.probes import ErrorKind

from .conftest import NameServer
from .targets import run


async def test_a_records(bind: NameServer) -> None:
    seen = await run(bind.url("www.example.test"))
    assert seen.ok, seen.error
    assert seen.values["DNS_RCODE"] == "NOERROR"
    assert sorted(seen.values["DNS_ANSWER"]) == ["192.0.2.10", "192.0.2.11"]
    assert seen.values["CONNECTED"] is True
    assert seen.values["IP"] == "127.0.0.1"
    assert 0 < seen.values["RESPONSE_TIME"] < 1000
    assert seen.details["transport"] == "udp"
    assert "AA" in seen.details["flags"].split()
    assert seen.details["server"] == f"127.0.0.1:{bind.port}"
    assert set(seen.phases) == {"dns", "total"}


@pytest.mark.parametrize(
    ("name", "kind", "answer"),
    [
        ("v6.example.test", "AAAA", ["2001:db8::1"]),
        ("example.test", "MX", ["10 mail.example.test."]),
        ("example.test", "ns", ["ns1.example.test."]),  # the type in any case
        ("alias.example.test", "CNAME", ["www.example.test."]),
    ],
)
async def test_record_types(bind: NameServer, name: str, kind: str, answer: list[str]) -> None:
    seen = await run(bind.url(name, kind))
    assert seen.ok, seen.error
    assert seen.values["DNS_ANSWER"] == answer


async def test_cname_chain_answers_the_asked_type_only(bind: NameServer) -> None:
    seen = await run(bind.url("alias.example.test"))
    assert sorted(seen.values["DNS_ANSWER"]) == ["192.0.2.10", "192.0.2.11"]
    assert any("CNAME www.example.test." in line for line in seen.details["answer"])


async def test_nxdomain_is_an_answer_not_a_probe_error(bind: NameServer) -> None:
    seen = await run(bind.url("nope.example.test"))
    assert seen.ok, seen.error
    assert seen.values["DNS_RCODE"] == "NXDOMAIN"
    assert seen.values["DNS_ANSWER"] == []


async def test_no_data_for_the_type(bind: NameServer) -> None:
    seen = await run(bind.url("www.example.test", "AAAA"))
    assert seen.ok
    assert seen.values["DNS_RCODE"] == "NOERROR"
    assert seen.values["DNS_ANSWER"] == []


async def test_refused_by_the_server_is_an_answer(bind: NameServer) -> None:
    # BIND serves only example.test and does not recurse: it refuses, no query goes out
    seen = await run(bind.url("www.python.org"))
    assert seen.ok, seen.error
    assert seen.values["DNS_RCODE"] == "REFUSED"


async def test_large_answer_is_retried_over_tcp(bind: NameServer) -> None:
    seen = await run(bind.url("big.example.test", "TXT"))
    assert seen.ok, seen.error
    assert seen.details["transport"] == "tcp"
    assert len(seen.values["DNS_ANSWER"]) == 1
    assert len(seen.values["DNS_ANSWER"][0]) > 512


@pytest.fixture
def mute_server() -> Iterator[int]:
    """A UDP port that receives queries and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_server_that_never_answers_times_out(mute_server: int) -> None:
    started = time.monotonic()
    seen = await run(f"dns://127.0.0.1:{mute_server}/www.example.test", timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert seen.error_kind is ErrorKind.TIMEOUT
    assert seen.error == (
        f"no answer within 0.5 s while waiting for 127.0.0.1:{mute_server} "
        "to answer www.example.test. A"
    )
    assert seen.values["CONNECTED"] is False


async def test_nothing_listening_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    seen = await run(f"dns://127.0.0.1:{port}/www.example.test", timeout=2)
    assert seen.error_kind is ErrorKind.REFUSED
    assert seen.error == (
        f"Connection refused while waiting for 127.0.0.1:{port} to answer www.example.test. A"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "dns://127.0.0.1/",
            "'dns://127.0.0.1/' names no record to ask for; write e.g. "
            "dns://192.0.2.53/www.example.org?type=AAAA or dns:///www.example.org",
        ),
        (
            "dns://127.0.0.1/www.example.test?type=BOGUS",
            "'dns://127.0.0.1/www.example.test?type=BOGUS': DNS resource record type is unknown.; "
            "write e.g. dns://192.0.2.53/www.example.org?type=AAAA or dns:///www.example.org",
        ),
    ],
)
async def test_malformed_check(url: str, message: str) -> None:
    seen = await run(url)
    assert seen.error_kind is ErrorKind.ERROR
    assert seen.error == message
