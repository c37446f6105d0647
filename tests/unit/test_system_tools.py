"""`make test` on a machine without the Debian programs: the tests that need one are skipped and
named in one summary line (exit 0); with INFRADEX_REQUIRE_SYSTEM_TOOLS=1 (CI) they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

NEEDS_CHROMIUM = """
from system_tools import require_tool

def test_one():
    require_tool("chromium")

def test_two():
    require_tool("chromium")

def test_plain():
    assert True
"""


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_needs.py").write_text(NEEDS_CHROMIUM)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "system_tools",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(TESTS),
            "INFRADEX_CHROMIUM": str(tmp_path / "no-such-chromium"),
            "INFRADEX_REQUIRE_SYSTEM_TOOLS": "",
            **env,
        },
        timeout=120,
    )


def test_missing_program_skips_with_one_summary_line(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert (
        "skipped 2 tests for missing programs: 2 need chromium (apt-get install chromium)"
        in result.stdout
    )


@pytest.mark.parametrize("value", ["1", "true"])
def test_missing_program_fails_when_required(tmp_path: Path, value: str) -> None:
    result = _run(tmp_path, INFRADEX_REQUIRE_SYSTEM_TOOLS=value)
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 passed" in result.stdout
    assert "INFRADEX_REQUIRE_SYSTEM_TOOLS is set" in result.stdout
