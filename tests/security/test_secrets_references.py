"""``env:NAME`` / ``file:PATH`` references in checks are resolved only when the probe runs;
``validate`` warns about secrets written out; results never relay what a target said."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infradex.catalog.models import Check
from infradex.catalog.secrets import redact_document
from infradex.lint import load
from infradex.monitor.checks import check_def, run_check
from infradex.monitor.service import observed_of
from infradex.web.audience import observed_for_reader

from .recording_server import recording_server


def _check(**fields: Any) -> Check:
    return Check.model_validate({"name": "health", **fields})


async def test_an_env_header_sends_the_real_value_and_shows_only_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("H3_PROBE_TOKEN", "Bearer real-token-1")
    with recording_server() as (port, seen):
        check = _check(
            url=f"http://127.0.0.1:{port}/", headers={"Authorization": "env:H3_PROBE_TOKEN"}
        )
        result = await run_check(check_def("service:web", check))
    assert result.success, result.message
    assert seen.requests[0]["headers"]["Authorization"] == "Bearer real-token-1"
    shown = redact_document({"spec": {"checks": [check.model_dump(by_alias=True)]}})
    assert shown["spec"]["checks"][0]["headers"] == {"Authorization": "env:H3_PROBE_TOKEN"}


async def test_a_file_header_and_an_env_url_password_are_read_when_the_probe_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "key").write_text("k-123\n", encoding="utf-8")
    monkeypatch.setenv("H3_PROBE_PASSWORD", "p@ss:word")
    with recording_server() as (port, seen):
        check = _check(
            url=f"http://monitor:env:H3_PROBE_PASSWORD@127.0.0.1:{port}/",
            headers={"X-Api-Key": f"file:{tmp_path / 'key'}"},
        )
        result = await run_check(check_def("service:web", check))
    assert result.success, result.message
    headers = seen.requests[0]["headers"]
    assert headers["X-Api-Key"] == "k-123"
    assert headers["Authorization"] == "Basic bW9uaXRvcjpwQHNzOndvcmQ="  # monitor:p@ss:word
    assert "p@ss" not in str(result.observation.details)


async def test_a_missing_variable_is_a_clear_error_and_no_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("H3_UNSET_TOKEN", raising=False)
    with recording_server() as (port, seen):
        check = _check(
            url=f"http://127.0.0.1:{port}/", headers={"Authorization": "env:H3_UNSET_TOKEN"}
        )
        result = await run_check(check_def("service:web", check))
    assert not result.success
    assert "the check's Authorization header is read from $H3_UNSET_TOKEN, which is not set" in (
        result.message
    )
    assert seen.connections == 0


async def test_a_failing_body_condition_publishes_no_body_text() -> None:
    body = b"internal-admin-page: db password hunter2"
    with recording_server(body=body) as (port, _):
        check = _check(url=f"http://127.0.0.1:{port}/", conditions=["[BODY] contains 'welcome'"])
        result = await run_check(check_def("service:web", check))
    assert not result.success
    assert "hunter2" not in result.message  # the state's last message, incidents, pages
    observed = observed_of(result)
    assert "hunter2" not in str(observed_for_reader(observed, admin=False))
    assert "hunter2" in str(observed_for_reader(observed, admin=True))


def test_validate_warns_about_secrets_written_in_the_catalog(
    write_catalog: Any, tmp_path: Path
) -> None:
    root = write_catalog(
        tmp_path / "c",
        {
            "all.yaml": """\
apiVersion: infradex/v1
kind: Service
metadata: {name: web}
spec:
  checks:
    - name: health
      url: "https://monitor:hunter2@web.example.org/health"
      headers: {Authorization: "Bearer abc", Cookie: "s=1", X-Api-Key: env:KEY, Accept: text/html}
---
apiVersion: infradex/v1
kind: Person
metadata: {name: val}
spec:
  alerting:
    channels: [{type: webhook, url: "https://ntfy.example.org/val?token=abc"}]
""",
        },
    )
    warnings = [p for p in load(root).problems if p.code == "secret-in-catalog"]
    said = sorted((p.message, p.hint) for p in warnings)
    assert len(said) == 4, said  # password, Authorization, Cookie, the webhook URL
    assert all("env:" in hint for _, hint in said)
    assert any("the URL's password" in message for message, _ in said)
    assert any("Authorization header" in message for message, _ in said)
    assert any("webhook channel's `url` carries a credential" in message for message, _ in said)
