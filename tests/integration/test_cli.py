"""The command line, end to end: exit codes, text for people, JSON shapes for scripts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infradex.cli.main import app

runner = CliRunner()
BROKEN = """\
apiVersion: infradex/v1
kind: Service
metadata: {name: web}
spec:
  hostedOn: [provider:nowhere]
  lifecycel: production
"""


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env or {"INFRADEX_CATALOG": ""})
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> object:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Path:
    (tmp_path / "services.yaml").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def test_validate_embedded_example_is_clean_with_warnings() -> None:
    code, out, _ = run("validate")
    assert code == 0
    assert "0 error(s)" in out
    assert "service:bugs" in out and "no owner" in out


def test_validate_strict_fails_on_warnings() -> None:
    code, _, _ = run("validate", "--strict")
    assert code == 1


def test_validate_json_shape() -> None:
    data = run_json("validate")
    assert isinstance(data, dict)
    assert data["errors"] == []
    first = data["warnings"][0]
    assert set(first) >= {"file", "line", "entity", "field", "message", "hint", "code"}


def test_validate_reports_every_error_with_file_and_line(broken_catalog: Path) -> None:
    code, out, _ = run("validate", str(broken_catalog))
    assert code == 1
    assert "services.yaml:6:3: error: service:web spec.lifecycel: unknown field" in out
    assert "did you mean `lifecycle`?" in out
    assert (
        "services.yaml:5:14: error: service:web spec.hostedOn[0]: provider:nowhere does not exist"
        in out
    )
    assert "✗ 2 error(s)" in out


def test_query_on_invalid_catalog_lists_errors_and_exits_1(broken_catalog: Path) -> None:
    code, _, err = run("--catalog", str(broken_catalog), "list", "service")
    assert code == 1
    assert "services.yaml:6" in err and "fix them" in err


def test_missing_catalog_path_says_what_to_do(tmp_path: Path) -> None:
    code, out, _ = run("validate", str(tmp_path / "nope"))
    assert code == 1
    assert "does not exist" in out and "check the path" in out


def test_usage_errors_exit_2() -> None:
    assert run("list", "gizmo")[0] == 2
    assert run("validate", "--no-such-option")[0] == 2
    assert run("graph", "--format", "png")[0] == 2


def test_list_json_has_refs() -> None:
    data = run_json("list", "service")
    assert isinstance(data, list)
    refs = [item["ref"] for item in data]
    assert "service:docs" in refs and len(refs) == 17
    docs = next(item for item in data if item["ref"] == "service:docs")
    assert docs["kind"] == "Service" and docs["spec"]["frontedBy"] == ["provider:fastly"]


def test_list_accepts_plural_and_case() -> None:
    code, out, _ = run("list", "Providers")
    assert code == 0 and "Fastly" in out


def test_show_includes_relations_both_ways() -> None:
    data = run_json("show", "provider:fastly")
    assert isinstance(data, dict)
    assert set(data["relations"]["fronts"]) == {
        "service:docs",
        "service:downloads",
        "service:pypi",
        "service:www",
    }
    assert data["source"].startswith("providers.yaml:")


def test_show_unknown_suggests() -> None:
    code, _, err = run("show", "service:dcos")
    assert code == 1
    assert "did you mean docs" in err


def test_who_by_domain_and_by_url_agree() -> None:
    by_domain = run_json("who", "docs.python.org")
    by_url = run_json("who", "https://docs.python.org/3/library/")
    assert by_domain == by_url
    assert isinstance(by_domain, dict)
    assert by_domain["target"] == "service:docs"
    contacts = by_domain["contacts"]
    assert [c["ref"] for c in contacts] == ["person:julien-palard", "team:infrastructure"]
    assert {"type": "email", "address": "infrastructure-staff@python.org", "role": "primary"} in (
        contacts[1]["channels"]
    )
    assert all(c["reason"] for c in contacts)


def test_impact_json_shape() -> None:
    data = run_json("impact", "fastly")
    assert isinstance(data, dict)
    assert data["root"] == "provider:fastly"
    affected = {a["ref"]: a for a in data["affected"]}
    assert set(affected) == {"service:docs", "service:downloads", "service:pypi", "service:www"}
    assert affected["service:docs"]["effect"] == "down"
    assert affected["service:docs"]["path"] == ["provider:fastly", "service:docs"]


def test_impact_of_a_registrar_adds_a_note() -> None:
    code, out, _ = run("impact", "gandi")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Nothing in the catalog needs provider:gandi."
    assert lines[1].startswith("Note: Gandi is the registrar of python.org, pypi.org,")
    assert "A lapsed registration would take those zones down" in out
    data = run_json("impact", "gandi")
    assert isinstance(data, dict)
    assert data["affected"] == []
    assert [note.split(".")[0] for note in data["notes"]] == ["Gandi is the registrar of python"]


def test_impact_text_names_counts() -> None:
    code, out, _ = run("impact", "host:docs0-nyc1")
    assert code == 0
    assert "0 down, 1 degraded" in out


def test_ownership_json_flags_unowned_bugs() -> None:
    rows = run_json("ownership")
    assert isinstance(rows, list)
    bugs = next(r for r in rows if r["service"] == "service:bugs")
    assert bugs["flags"] == ["unowned"]


@pytest.mark.parametrize(
    ("fmt", "needle"),
    [("mermaid", "flowchart LR"), ("dot", "digraph infradex"), ("svg", "<svg")],
)
def test_graph_formats(fmt: str, needle: str) -> None:
    code, out, _ = run("graph", "--focus", "service:docs", "--format", fmt)
    assert code == 0
    assert needle in out and "docs.python.org" in out


def test_graph_json_focus_contains_chain() -> None:
    data = run_json("graph", "--focus", "service:docs")
    assert isinstance(data, dict)
    nodes = {n["ref"] for n in data["nodes"]}
    assert {
        "service:docs",
        "host:docs0-nyc1",
        "datacenter:nyc1",
        "provider:digitalocean",
        "provider:fastly",
    } <= nodes
    assert "service:pypi" not in nodes


def test_catalog_schema_validates_the_example() -> None:
    import jsonschema
    import yaml

    schema = run_json("catalog", "schema")
    assert isinstance(schema, dict)
    validator = jsonschema.Draft202012Validator(schema)
    example = Path(__file__).parents[2] / "examples" / "psf"
    documents = [
        doc
        for path in sorted(example.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
    ]
    assert len(documents) > 50
    for doc in documents:
        assert not list(validator.iter_errors(doc)), doc["metadata"]["name"]
    bad = {**documents[0], "metadata": {**documents[0]["metadata"], "colour": "red"}}
    assert list(validator.iter_errors(bad))


def test_catalog_export_round_trips_entities() -> None:
    data = run_json("catalog", "export")
    assert isinstance(data, dict)
    refs = [e["ref"] for e in data["entities"]]
    assert len(refs) == len(set(refs)) == 75
    assert "relations" in data["entities"][0]


def test_environment_variable_chooses_the_catalog(broken_catalog: Path) -> None:
    code, _, _ = run("validate", env={"INFRADEX_CATALOG": str(broken_catalog)})
    assert code == 1


def test_docs_build_writes_site_and_refuses_foreign_directory(tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, _, _ = run("docs", "build", str(out))
    assert code == 0
    assert (out / "index.html").is_file() and (out / "services" / "docs.html").is_file()
    code, _, _ = run("docs", "build", str(out), "--format", "markdown")  # rebuild: allowed
    assert code == 0 and (out / "index.md").is_file() and not (out / "index.html").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    code, _, err = run("docs", "build", str(mine))
    assert code == 2 and "not empty" in err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_console_script_serves_the_overview() -> None:
    port = _free_port()
    env = {**os.environ, "INFRADEX_CATALOG": ""}
    command = [sys.executable, "-m", "infradex", "docs", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert "Infrastructure overview" in body
        assert "docs.python.org" in body
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_line_100_is_printed_as_a_line_number_not_an_emoji(tmp_path: Path) -> None:
    padding = "".join(f"# line {n}\n" for n in range(1, 100))
    (tmp_path / "a.yaml").write_text(padding + "kind: Gizmo\n", encoding="utf-8")
    code, out, _ = run("validate", str(tmp_path))
    assert code == 1
    assert "a.yaml:100:1: error" in out


def test_version_alone_and_help_without_command() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("infradex ")
    _, out, err = run()
    assert "validate" in out + err and "impact" in out + err


def test_plural_kind_names() -> None:
    data = run_json("list", "escalationpolicies")
    assert isinstance(data, list)
    assert [item["ref"] for item in data] == ["escalationpolicy:psf-infra"]


def test_docs_build_where_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run("docs", "build", str(blocker / "site"))
    assert code == 2 and "cannot write the site" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["serve", "--port", "70000"], {}, "less than or equal to 65535"),
        (["serve"], {"INFRADEX_DATABASE_URL": "garbage"}, "is not a database URL"),
        (["serve"], {"INFRADEX_DATABASE_URL": "mysql://x/y"}, "unsupported database"),
        (
            ["serve"],
            {"INFRADEX_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"},
            "INFRADEX_DATABASE_URL names the right store",
        ),
        (["serve"], {"INFRADEX_PUBLIC_READ": "maybe"}, "write true or false"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], needle: str
) -> None:
    environment = {**os.environ, "INFRADEX_CATALOG": "", "INFRADEX_DATA_DIR": str(tmp_path), **env}
    result = subprocess.run(
        [sys.executable, "-m", "infradex", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (1, 2)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        environment = {**os.environ, "INFRADEX_CATALOG": "", "INFRADEX_DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr


def test_an_agent_token_needs_a_data_center_of_the_catalog(tmp_path: Path) -> None:
    env = {"INFRADEX_CATALOG": "", "INFRADEX_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    code, _, err = run("token", "create", "--name", "a", "--scope", "agent", env=env)
    assert code == 2 and "--location with the data center" in err
    code, _, err = run(
        "token", "create", "--name", "a", "--scope", "agent", "--location", "mars1", env=env
    )
    assert code == 2 and "'mars1' is no data center of the catalog" in err and "nyc1" in err
    code, out, err = run(
        "token", "create", "--name", "a", "--scope", "agent", "--location", "nyc1", env=env
    )
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("idx_")
    code, out, _ = run("token", "list", env=env)
    assert code == 0 and "nyc1" in out
