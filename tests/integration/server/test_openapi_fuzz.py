"""schemathesis against the running server's /openapi.json: no request it can make from the
published schema gets a 5xx."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .test_serve_process import _free_port, _serve, _wait_ready


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    environment = {**os.environ, "INFRADEX_DATA_DIR": str(tmp_path), "INFRADEX_CATALOG": ""}
    token = (
        subprocess.run(
            [
                sys.executable,
                "-m",
                "infradex",
                "token",
                "create",
                "--name",
                "fuzz",
                "--scope",
                "write",
            ],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    server = _serve(environment, port)
    try:
        _wait_ready(port, server)
        schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
        assert schemathesis, "schemathesis is a test dependency: pip install -e '.[test]'"
        result = subprocess.run(
            [
                schemathesis,
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--seed",
                "1",
                "-H",
                f"Authorization: Bearer {token}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout
