"""Catalog values that would make the monitor spin: a check every 0 s, a timeout of 0 s."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.lint import load

SERVICE = """\
apiVersion: infradex/v1
kind: Service
metadata: {name: docs}
spec:
  lifecycle: experimental
  checks:
    - name: home
      url: https://docs.example.org/
      interval: INTERVAL
      timeout: TIMEOUT
"""


@pytest.mark.parametrize(
    ("interval", "timeout", "text"),
    [
        ("0s", "0s", "interval 0s is shorter than 1s"),
        ("500ms", "100ms", "interval 500ms is shorter than 1s"),
        ("10s", "0s", "timeout 0s must be longer than 0"),
    ],
)
def test_a_check_that_would_spin_is_refused(
    tmp_path: Path, interval: str, timeout: str, text: str
) -> None:
    (tmp_path / "services.yaml").write_text(
        SERVICE.replace("INTERVAL", interval).replace("TIMEOUT", timeout)
    )
    (error,) = load(tmp_path).errors
    assert (error.file, error.line, error.field) == ("services.yaml", 7, "spec.checks[0]")
    assert text in error.message


def test_one_second_is_the_shortest_interval(tmp_path: Path) -> None:
    (tmp_path / "services.yaml").write_text(
        SERVICE.replace("INTERVAL", "1s").replace("TIMEOUT", "500ms")
    )
    assert load(tmp_path).errors == []
