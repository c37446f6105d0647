"""The monitor reaches only what INFRADEX_MONITOR_ALLOW / _DENY allow: checked on the address
the probe connects to, after resolution and on every redirect, before any byte is sent."""

from __future__ import annotations

from typing import Any

import pytest

from infradex.netpolicy import AddressPolicy, PolicyError
from infradex.probes import Observation, ProbeRequest, probe_for
from infradex.probes.base import ErrorKind

from .recording_server import recording_server

DENY_127_0_0_2 = AddressPolicy.from_text(None, "default,127.0.0.2/32")


async def _run(url: str, policy: AddressPolicy, **options: Any) -> Observation:
    return await probe_for(url)(ProbeRequest(url, timeout=5.0, policy=policy, **options))


async def test_a_denied_literal_address_is_never_connected_to() -> None:
    with recording_server("127.0.0.2") as (port, seen):
        observation = await _run(f"http://127.0.0.2:{port}/", DENY_127_0_0_2)
    assert observation.error_kind == ErrorKind.DENIED
    assert "target address 127.0.0.2 denied by INFRADEX_MONITOR_DENY" in (observation.error or "")
    assert seen.connections == 0


async def test_a_raw_tcp_send_to_a_denied_address_sends_nothing() -> None:
    with recording_server("127.0.0.2") as (port, seen):
        observation = await _run(
            f"tcp://127.0.0.2:{port}", DENY_127_0_0_2, send="GET /secret HTTP/1.0\r\n\r\n"
        )
    assert observation.error_kind == ErrorKind.DENIED
    assert seen.connections == 0


async def test_a_name_is_checked_after_resolution() -> None:
    # `localhost` resolves (through /etc/hosts, which the test does not touch) to loopback
    # only: deny all of loopback and the name must not reach the listener
    policy = AddressPolicy.from_text(None, "default,127.0.0.0/8,::1/128")
    with recording_server("127.0.0.1") as (port, seen):
        observation = await _run(f"http://localhost:{port}/", policy)
    assert observation.error_kind == ErrorKind.DENIED
    assert seen.connections == 0


async def test_a_redirect_to_a_denied_address_is_refused() -> None:
    with recording_server("127.0.0.2") as (denied_port, denied_seen):
        location = {"Location": f"http://127.0.0.2:{denied_port}/internal"}
        with recording_server("127.0.0.1", 302, location) as (port, seen):
            observation = await _run(f"http://127.0.0.1:{port}/", DENY_127_0_0_2)
    assert len(seen.requests) == 1  # the allowed first hop was asked
    assert observation.error_kind == ErrorKind.DENIED
    assert denied_seen.connections == 0


async def test_an_allowed_address_still_works() -> None:
    with recording_server("127.0.0.1") as (port, seen):
        observation = await _run(f"http://127.0.0.1:{port}/", DENY_127_0_0_2)
    assert observation.ok and observation.values["STATUS"] == 200
    assert len(seen.requests) == 1


async def test_a_more_specific_allow_wins_over_a_deny() -> None:
    policy = AddressPolicy.from_text("127.0.0.2/32", "default,127.0.0.0/8")
    with recording_server("127.0.0.2") as (port, seen):
        observation = await _run(f"http://127.0.0.2:{port}/", policy)
    assert observation.ok
    assert len(seen.requests) == 1


@pytest.mark.parametrize(
    ("allow", "deny", "ip", "denied"),
    [
        (None, None, "169.254.169.254", "169.254.0.0/16"),
        (None, None, "::ffff:169.254.169.254", "169.254.0.0/16"),
        (None, None, "fe80::1%eth0", "fe80::/10"),
        (None, None, "fd00:ec2::254", "fd00:ec2::254/128"),
        (None, None, "100.100.100.200", "100.100.100.200/32"),
        (None, None, "127.0.0.1", None),
        (None, None, "10.1.2.3", None),
        ("0.0.0.0/0", None, "169.254.169.254", "169.254.0.0/16"),  # less specific allow
        ("169.254.0.0/16", None, "169.254.169.254", "169.254.0.0/16"),  # equal: deny wins
        ("169.254.169.254/32", None, "169.254.169.254", None),  # more specific allow
        (None, "10.0.0.0/8", "169.254.169.254", None),  # a set deny list replaces the default
        (None, "default,10.0.0.0/8", "10.9.9.9", "10.0.0.0/8"),
        (None, "none", "169.254.169.254", None),
    ],
)
def test_the_rule(allow: str | None, deny: str | None, ip: str, denied: str | None) -> None:
    assert AddressPolicy.from_text(allow, deny).denied_by(ip) == denied


def test_a_bad_range_says_how_to_write_one() -> None:
    expected = r"INFRADEX_MONITOR_DENY: '10\.0\.0/33' is not an address range"
    with pytest.raises(PolicyError, match=expected):
        AddressPolicy.from_text(None, "10.0.0/33")


async def test_the_monitor_runs_catalog_checks_under_the_settings_policy(
    write_catalog: Any, tmp_path: Any
) -> None:
    from infradex.lint import load
    from infradex.monitor.checks import checks_of, run_check
    from infradex.settings import Settings

    with recording_server("127.0.0.2") as (port, seen):
        root = write_catalog(
            tmp_path / "catalog",
            {
                "s.yaml": f"""
apiVersion: infradex/v1
kind: Service
metadata: {{name: internal}}
spec:
  checks: [{{name: home, url: "http://127.0.0.2:{port}/"}}]
"""
            },
        )
        catalog = load(root).catalog
        assert catalog is not None
        settings = Settings.from_env({"INFRADEX_MONITOR_DENY": "default,127.0.0.2"}, root)
        (check,) = checks_of(catalog, None, settings.monitor_policy)
        result = await run_check(check)
    assert result.error_kind == "denied"
    assert result.message.startswith("target address 127.0.0.2 denied by INFRADEX_MONITOR_DENY")
    assert seen.connections == 0


def test_a_bad_setting_is_refused_with_what_to_write() -> None:
    from infradex.errors import UsageError
    from infradex.settings import Settings

    with pytest.raises(UsageError, match="write CIDR ranges"):
        Settings.from_env({"INFRADEX_MONITOR_ALLOW": "intranet"})


def test_validate_warns_about_a_literal_address_the_policy_denies(
    write_catalog: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from infradex.cli.main import app

    root = write_catalog(
        tmp_path / "c",
        {
            "s.yaml": """\
apiVersion: infradex/v1
kind: Service
metadata: {name: internal}
spec:
  checks:
    - {name: meta, url: "http://169.254.169.254/latest/meta-data/"}
    - {name: own, url: "http://127.0.0.2:8000/metrics"}
    - {name: fine, url: "http://127.0.0.1:8000/healthz"}
"""
        },
    )
    monkeypatch.setenv("INFRADEX_MONITOR_DENY", "default,127.0.0.2/32")
    result = CliRunner().invoke(app, ["--catalog", str(root), "validate", "--strict"])
    assert result.exit_code == 1
    assert "check meta aims at 169.254.169.254, which INFRADEX_MONITOR_DENY denies" in (
        result.output.replace("\n", " ")
    )
    assert "check own aims at 127.0.0.2" in result.output.replace("\n", " ")
    assert "check fine" not in result.output
