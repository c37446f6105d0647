"""Each way a DNS provider can be wrong gives one clear error that says what to do, and
nothing is applied: classes the server does not run, missing secrets, denied addresses,
refused credentials, a server that does not answer."""

from __future__ import annotations

from pathlib import Path

from integration_serve import free_udp_tcp_port

from .conftest import Bind, run, write_catalog


def test_the_catalog_cannot_choose_what_code_runs(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port, **{"class": "subprocess.Popen"})
    result = run(root, "dns", "plan")
    assert result.exit_code == 1
    assert "names the octoDNS class subprocess.Popen, which this server does not run" in (
        result.output
    )
    assert "INFRADEX_DNS_PROVIDER_CLASSES" in result.output


def test_an_allowed_class_that_is_not_installed_says_what_to_install(
    bind: Bind, tmp_path: Path
) -> None:
    name = "octodns_nowhere.NowhereProvider"
    root = write_catalog(tmp_path / "catalog", bind.port, **{"class": name})
    result = run(root, "dns", "plan", INFRADEX_DNS_PROVIDER_CLASSES=name)
    assert result.exit_code == 1
    assert "pip install octodns-nowhere" in result.output


def test_a_missing_secret_names_its_variable(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port, key_secret="env:NOT_SET_HERE")
    result = run(root, "dns", "plan")
    assert result.exit_code == 1
    assert "$NOT_SET_HERE, which is not set" in result.output


def test_a_denied_address_is_never_contacted(tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", 53, host="169.254.169.254")
    result = run(root, "dns", "plan")
    assert result.exit_code == 1
    assert "169.254.169.254, which INFRADEX_MONITOR_DENY refuses" in result.output


def test_refused_credentials_say_which_provider_and_zone(bind: Bind, tmp_path: Path) -> None:
    wrong = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZw=="
    root = write_catalog(tmp_path / "catalog", bind.port, key_secret=wrong)
    result = run(root, "dns", "apply", "--checksum", "0" * 20)
    assert result.exit_code == 1
    assert "cannot read the live zone example.test from provider:bind" in result.output
    assert "check its octodns settings" in result.output
    assert bind.query("www.example.test") == ["192.0.2.10"]


def test_a_server_that_does_not_answer(tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", free_udp_tcp_port(), timeout=1)
    result = run(root, "dns", "drift")
    assert result.exit_code == 1
    assert "cannot read the live zone example.test from provider:bind" in result.output


def test_settings_that_do_not_fit_the_class(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port, colour="blue")
    result = run(root, "dns", "plan")
    assert result.exit_code == 1
    assert "octodns settings do not fit octodns_bind.Rfc2136Provider" in result.output
    assert "colour" in result.output


def test_a_zone_whose_provider_has_no_octodns_settings(tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", 53)
    text = (root / "catalog.yaml").read_text()
    start = text.index("  octodns:")
    end = text.index("---", start)
    (root / "catalog.yaml").write_text(text[:start] + "  type: dns\n" + text[end:])
    result = run(root, "dns", "plan")
    assert result.exit_code == 1, result.output
    assert "which has no `octodns` settings" in result.output


def test_an_unknown_zone_lists_the_known_ones(bind: Bind, tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", bind.port)
    result = run(root, "dns", "plan", "--zone", "nope.test")
    assert result.exit_code == 1
    assert "no zone 'nope.test' in the catalog (zones: example.test)" in result.output


def test_a_class_name_that_is_not_one_is_a_catalog_error(tmp_path: Path) -> None:
    root = write_catalog(tmp_path / "catalog", 53, **{"class": "os"})
    result = run(root, "validate")
    assert result.exit_code == 1
    assert "'os' is not a class name" in result.output
    assert "catalog.yaml:" in result.output
