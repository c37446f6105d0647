"""The programs some tests run for real, in one table: which program, where it lives, and the
package that brings it (a Debian package, or for Mermaid's parser and axe-core an npm package
kept in ``.cache/npm/``).

``make test`` (through ``python tests/system_tools.py install``) installs the missing ones when
it can (root or passwordless sudo, and apt). A test that needs one calls :func:`require_tool`:
when the program is missing the test is skipped and named in one summary line at the end of the
run, unless ``INFRADEX_REQUIRE_SYSTEM_TOOLS=1`` (set by ``.ci/run``), where a missing program
fails the test instead.

Loaded as a pytest plugin (``-p system_tools`` in pyproject.toml), it also adds that summary
line. As a script, ``python tests/system_tools.py install [--browser]`` installs what is
missing, and ``python tests/system_tools.py missing [--browser]`` prints the packages missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["SKIP_PREFIX", "TOOLS", "SystemTool", "missing_tools", "require_tool"]


@dataclass(frozen=True)
class SystemTool:
    name: str
    path: str  # an absolute path, or a name looked up on PATH
    package: str  # the Debian package that installs it (npm: the package@version)
    used_for: str
    browser: bool = False  # only the browser tests (make test-browser) need it
    npm: bool = False  # an npm package (a script the browser loads), not a Debian program

    def find(self) -> str | None:
        if self.npm:
            return self.path if os.path.isfile(self.path) else None
        if os.path.isabs(self.path):
            return self.path if os.access(self.path, os.X_OK) else None
        return shutil.which(self.path)

    @property
    def install_command(self) -> str:
        if self.npm:
            return f"npm install --prefix {NPM_DIR} {self.package}"
        return f"apt-get install {self.package}"


#: where the npm packages the tests load live (kept out of git)
NPM_DIR = Path(__file__).resolve().parents[1] / ".cache" / "npm"


TOOLS: dict[str, SystemTool] = {
    tool.name: tool
    for tool in (
        SystemTool("named", "/usr/sbin/named", "bind9", "the DNS probe's real server"),
        SystemTool("dig", "/usr/bin/dig", "bind9-dnsutils", "reading what `dns apply` served"),
        SystemTool("ngircd", "/usr/sbin/ngircd", "ngircd", "the IRC notifier's real server"),
        SystemTool("promtool", "promtool", "prometheus", "checking /metrics"),
        SystemTool("dot", "dot", "graphviz", "parsing the DOT diagrams"),
        SystemTool(
            "chromium",
            os.environ.get("INFRADEX_CHROMIUM", "/usr/bin/chromium"),
            "chromium",
            "the browser tests",
            browser=True,
        ),
        SystemTool(
            "mermaid",
            str(NPM_DIR / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"),
            "mermaid@11.17.2",
            "parsing the Mermaid diagrams with Mermaid itself",
            browser=True,
            npm=True,
        ),
        SystemTool(
            "axe-core",
            str(NPM_DIR / "node_modules" / "axe-core" / "axe.min.js"),
            "axe-core@4.14.1",
            "checking the pages' accessibility (WCAG 2 A/AA, contrast) in Chromium",
            browser=True,
            npm=True,
        ),
    )
}

SKIP_PREFIX = "missing program "


def required() -> bool:
    """Whether a missing program fails the tests (CI) instead of skipping them."""
    return os.environ.get("INFRADEX_REQUIRE_SYSTEM_TOOLS", "") not in ("", "0", "false", "no")


def require_tool(name: str) -> str:
    """The path of the program ``name`` (a key of :data:`TOOLS`); skips the calling test when
    it is missing, or fails it under ``INFRADEX_REQUIRE_SYSTEM_TOOLS=1``."""
    tool = TOOLS[name]
    found = tool.find()
    if found:
        return found
    message = f"{SKIP_PREFIX}{tool.name} ({tool.used_for}): {tool.install_command}"
    if required():
        pytest.fail(message + " (INFRADEX_REQUIRE_SYSTEM_TOOLS is set)", pytrace=False)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line naming the missing programs whose tests were skipped, with the command that
    installs each."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else ""
        if SKIP_PREFIX in reason:
            name = reason.split(SKIP_PREFIX, 1)[1].split(" ", 1)[0]
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return
    parts = [
        f"{count} need {name} ({TOOLS[name].install_command})"
        for name, count in sorted(counts.items())
    ]
    terminalreporter.write_line(
        f"skipped {sum(counts.values())} tests for missing programs: " + "; ".join(parts),
        yellow=True,
        bold=True,
    )


def missing_tools(browser: bool = False) -> list[SystemTool]:
    return [t for t in TOOLS.values() if t.browser == browser and t.find() is None]


def _installer() -> list[str] | None:
    """The command prefix that may run apt-get, or None when this user cannot install."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0:
        return [sudo, "-n"]
    return None


def install(browser: bool = False) -> int:
    missing = missing_tools(browser)
    debian = [t for t in missing if not t.npm]
    npm = [t for t in missing if t.npm]
    if npm and shutil.which("npm") is None:
        debian.append(SystemTool("npm", "npm", "npm", "installing " + npm[0].package))
    if debian:
        _install_debian(debian)
    if npm and shutil.which("npm") is not None:
        _install_npm(npm)
    still = missing_tools(browser)
    if still:
        print(f"still missing after install: {', '.join(t.name for t in still)}")
    return 0


def _install_debian(missing: list[SystemTool]) -> None:
    packages = sorted({t.package for t in missing})
    why = ", ".join(f"{t.package} ({t.used_for})" for t in missing)
    prefix = _installer()
    if prefix is None:
        print(
            f"not installing {why}: needs root or passwordless sudo and apt-get; "
            "the tests that use them will be skipped "
            f"(sudo apt-get install {' '.join(packages)} to run them)"
        )
        return
    print(f"installing Debian packages for the tests: {why}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ]
    for number, step in enumerate(steps, 1):
        print(f"  [{number}/{len(steps)}] {' '.join(step)}", flush=True)
        result = subprocess.run(
            [*prefix, *step], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if result.returncode != 0 and step[1] == "install":
            print(
                f"could not install {' '.join(packages)} "
                f"({result.stderr.decode(errors='replace').strip()[-300:]}); "
                "the tests that use them will be skipped",
                flush=True,
            )
            return


def _install_npm(missing: list[SystemTool]) -> None:
    packages = [t.package for t in missing]
    print(f"installing npm packages for the tests into {NPM_DIR}: {' '.join(packages)}")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["npm", "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund", *packages],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if result.returncode != 0:
        print(
            f"could not install {' '.join(packages)} "
            f"({result.stderr.decode(errors='replace').strip()[-300:]}); "
            "the tests that use them will be skipped",
            flush=True,
        )


def main(argv: list[str]) -> int:
    browser = "--browser" in argv
    if argv[:1] == ["install"]:
        return install(browser)
    if argv[:1] == ["missing"]:
        for tool in missing_tools(browser):
            print(tool.package)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
