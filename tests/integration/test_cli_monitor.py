"""The monitor's commands, end to end against targets started here on 127.0.0.1: `check run`
with a URL or a catalog check, `check list`, and maintenance windows with bad input refused."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infradex.cli.main import app

runner = CliRunner()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/" else 503
        body = b"hello from the target"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def env(tmp_path: Path, target: str) -> dict[str, str]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "web.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  checks:\n"
        f'    - {{name: home, url: "{target}/", conditions: ["[STATUS] == 200"]}}\n'
        f'    - {{name: broken, url: "{target}/broken", conditions: ["[STATUS] == 200"]}}\n'
    )
    return {
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": "",
    }


def test_check_run_a_url_prints_each_condition_and_phase(target: str) -> None:
    result = runner.invoke(
        app,
        ["check", "run", f"{target}/", "--condition", "[STATUS] == 200",
         "--condition", "[BODY] contains 'target'"],
        env={"INFRADEX_CATALOG": ""},
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "✓ [STATUS] == 200: ok 200" in result.stdout
    assert "✓ [BODY] contains 'target'" in result.stdout
    assert "timing: " in result.stdout and "total" in result.stdout


def test_check_run_fails_with_exit_1_and_the_actual_value(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["check", "run", "service:web", "--format", "json"], env=env)
    assert result.exit_code == 1
    answers = {a["check"]: a for a in json.loads(result.stdout)}
    assert answers["service:web/home"]["success"] is True
    broken = answers["service:web/broken"]
    assert broken["success"] is False and broken["errorKind"] == "condition"
    assert broken["conditions"] == [
        {"condition": "[STATUS] == 200", "success": False, "actual": "503"}
    ]
    assert broken["phases"]["total"] > 0


def test_check_run_refused_connection_is_an_error_kind() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(
        app, ["check", "run", f"http://127.0.0.1:{port}/", "--format", "json"],
        env={"INFRADEX_CATALOG": ""},
    )  # fmt: skip
    assert result.exit_code == 1
    (answer,) = json.loads(result.stdout)
    assert answer["errorKind"] == "refused" and "refused" in answer["message"].lower()


def test_check_run_bad_input_says_what_to_do(env: dict[str, str]) -> None:
    bad_url = runner.invoke(app, ["check", "run", "htp://x"], env=env)
    assert bad_url.exit_code == 2 and "http://" in bad_url.stderr
    bad_ref = runner.invoke(app, ["check", "run", "service:web/nope"], env=env)
    assert bad_ref.exit_code == 2 and "service:web/home" in bad_ref.stderr
    bad_condition = runner.invoke(
        app, ["check", "run", "http://127.0.0.1:9/", "--condition", "[STATU] == 200"], env=env
    )
    assert bad_condition.exit_code == 2 and "did you mean [STATUS]" in bad_condition.stderr


def test_check_list_before_any_monitor_ran(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["check", "list", "--format", "json"], env=env)
    assert result.exit_code == 0, result.stderr
    states = {c["id"]: c["state"] for c in json.loads(result.stdout)}
    assert states == {"service:web/home": "not monitored", "service:web/broken": "not monitored"}


def test_maintenance_add_list_remove(env: dict[str, str]) -> None:
    added = runner.invoke(
        app,
        ["maintenance", "add", "web", "--start", "2026-12-06T02:00+01:00", "--duration", "2h",
         "--rrule", "FREQ=WEEKLY;BYDAY=SU", "--timezone", "Europe/Amsterdam",
         "--reason", "patching"],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert "on service:web" in added.stdout and "covers 2 check(s)" in added.stdout
    listed = runner.invoke(app, ["maintenance", "list", "--format", "json"], env=env)
    (window,) = json.loads(listed.stdout)
    assert window["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and window["reason"] == "patching"
    assert window["nextStart"] is not None
    assert window["remindBefore"] is None  # the default: an hour
    removed = runner.invoke(app, ["maintenance", "remove", str(window["id"])], env=env)
    assert removed.exit_code == 0
    reminded = runner.invoke(
        app,
        ["maintenance", "add", "web", "--start", "2026-12-06T02:00Z", "--duration", "2h",
         "--public", "--remind-before", "1d"],
        env=env,
    )  # fmt: skip
    assert reminded.exit_code == 0, reminded.stderr
    listed = runner.invoke(app, ["maintenance", "list", "--format", "json"], env=env)
    (public,) = json.loads(listed.stdout)
    assert public["remindBefore"] == "1d" and public["public"] is True
    none = runner.invoke(
        app,
        ["maintenance", "add", "web", "--start", "2026-12-06T02:00Z", "--duration", "2h",
         "--public", "--remind-before", "0"],
        env=env,
    )  # fmt: skip
    assert none.exit_code == 0, none.stderr
    listed = runner.invoke(app, ["maintenance", "list", "--format", "json"], env=env)
    assert sorted(str(w["remindBefore"]) for w in json.loads(listed.stdout)) == ["0s", "1d"]
    runner.invoke(app, ["maintenance", "remove", str(public["id"])], env=env)
    again = runner.invoke(app, ["maintenance", "remove", str(window["id"])], env=env)
    assert again.exit_code == 1 and "no maintenance window" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["web", "--duration", "2h", "--end", "2026-12-06T04:00Z"], "one of them"),
        (["web", "--start", "tomorrow", "--duration", "2h"], "ISO 8601"),
        (["web", "--start", "2026-12-06T02:00", "--duration", "2h"], "time zone offset"),
        (["web", "--duration", "2h", "--rrule", "EVERY SUNDAY"], "FREQ=WEEKLY"),
        (["nowhere", "--duration", "2h"], "nothing in the catalog is called"),
        (["service:web/nope", "--duration", "2h"], "is not a check"),
        (["web", "--duration", "2h", "--remind-before", "2h"], "make the window public"),
        (
            ["web", "--duration", "2h", "--public", "--remind-before", "soon"],
            "--remind-before: 'soon' is not a duration",
        ),
        (
            ["web", "--duration", "2h", "--public", "--remind-before", "30d"],
            "--remind-before is between 0 (no reminder) and 7d",
        ),
    ],
)
def test_maintenance_add_refuses_bad_input(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["maintenance", "add", *args], env=env)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    listed = runner.invoke(app, ["maintenance", "list", "--format", "json"], env=env)
    assert json.loads(listed.stdout) == []  # nothing half-written
