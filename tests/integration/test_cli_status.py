"""``infradex status export DIR``: the page, its stylesheet and every v2 JSON document as
static files, the same documents the server serves; bad targets get a clear error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from infradex.cli.main import app
from infradex.statuspage.v2 import ENDPOINTS

runner = CliRunner()


def env(tmp_path: Path) -> dict[str, str]:
    return {"INFRADEX_CATALOG": "", "INFRADEX_DATA_DIR": str(tmp_path / "data")}


def test_export_writes_the_page_and_every_json_document(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = runner.invoke(app, ["status", "export", str(out)], env=env(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "files in" in result.stdout
    page = (out / "index.html").read_text()
    assert page == (out / "status" / "index.html").read_text()
    assert "Not monitored" in page  # the example is not monitored
    assert "Status may be out of date" not in page and "All Systems Operational" not in page
    assert 'href="/status/status.css"' in page and (out / "status" / "status.css").is_file()
    for path in ENDPOINTS:
        document = json.loads((out / "api" / "v2" / path).read_text())
        assert "page" in document, path
    summary = json.loads((out / "api" / "v2" / "summary.json").read_text())
    assert {c["name"] for c in summary["components"]} >= {"Mail", "Content Delivery Network"}
    assert "Incident history" in (out / "status" / "history" / "index.html").read_text()
    for feed in ("history.atom", "history.rss"):
        assert (out / "status" / feed).read_bytes().startswith(b"<?xml")
    assert not list(out.rglob("*.partial"))
    # a second export replaces the files in place
    again = runner.invoke(app, ["status", "export", str(out)], env=env(tmp_path))
    assert again.exit_code == 0, again.stderr


def test_export_into_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    result = runner.invoke(app, ["status", "export", str(target)], env=env(tmp_path))
    assert result.exit_code == 2
    assert "is a file: give a directory" in result.stderr
    assert target.read_text() == "keep me"


def test_export_prints_each_file_and_imports_only_what_it_uses(tmp_path: Path) -> None:
    """What a user times is the whole command: the export loads no web app, probes,
    alerting loop, catalog warnings or (on a store at the newest revision) Alembic."""
    import os
    import subprocess
    import sys

    out = tmp_path / "site"
    code = (
        "import sys\n"
        f"sys.argv = ['infradex', 'status', 'export', {str(out)!r}]\n"
        "from infradex.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('modules:', ' '.join(sorted(sys.modules)))\n"
    )
    environment = {**os.environ, **env(tmp_path)}
    for _ in range(2):  # the first run migrates the new store, the second finds it current
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=environment, check=True)  # fmt: skip
    lines = done.stdout.splitlines()
    modules = set(lines[-1].removeprefix("modules: ").split())
    heavy_modules = (
        "infradex.web",
        "fastapi",
        "starlette",
        "infradex.probes",
        "infradex.lint",
        "infradex.alerting.loop",
        "infradex.monitor.runner",
        "alembic",
        "jinja2",
    )
    for heavy in heavy_modules:
        assert not any(m == heavy or m.startswith(heavy + ".") for m in modules), heavy
    files = {p.relative_to(out).as_posix(): p.stat().st_size for p in out.rglob("*") if p.is_file()}
    listed = dict(reversed(line.split()) for line in lines[:-2])
    assert listed == {name: f"{size:,}" for name, size in files.items()}
    assert lines[-2] == f"{len(files)} files in {out}"


def test_a_second_export_leaves_unchanged_files_alone_and_rewrites_the_rest(
    tmp_path: Path,
) -> None:
    """Renaming over a file costs ext4 a write to disk there and then; a file that already
    holds the same bytes is kept (its inode and time too), one that differs is replaced."""
    out = tmp_path / "site"
    assert runner.invoke(app, ["status", "export", str(out)], env=env(tmp_path)).exit_code == 0
    css, history = out / "status" / "status.css", out / "status" / "history" / "index.html"
    kept = css.stat()
    wanted = history.read_bytes()
    history.write_bytes(wanted[:-10] + b"tampered!\n")  # same size, other bytes
    again = runner.invoke(app, ["status", "export", str(out)], env=env(tmp_path))
    assert again.exit_code == 0, again.stderr
    assert (css.stat().st_ino, css.stat().st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert history.read_bytes() == wanted
    assert not list(out.rglob("*.partial"))
