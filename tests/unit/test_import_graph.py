"""No import cycles among infradex's modules, deferred imports included.

A cycle hidden by an import inside a function still ties the two modules together: neither can
be understood, tested or moved without the other, and which one loads first decides whether the
program starts. So every ``import`` counts, wherever it is written.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import infradex

SRC = Path(infradex.__file__).parent


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, modules: set[str]) -> set[str]:
    """The infradex modules an AST imports: for ``from a.b import c`` that is ``a.b.c`` when it
    is a module, else ``a.b``. A package's ``__init__`` is not counted as imported by its own
    submodules' ``from package.sub import x`` (Python runs it, but only to reach ``sub``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in modules
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    files = {module_name(path, src): path for path in sorted(src.rglob("*.py"))}
    modules = set(files)
    return {
        name: imported_modules(ast.parse(path.read_text(encoding="utf-8")), modules) - {name}
        for name, path in files.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has one, shown as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graph is a few hundred modules deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(_path_through(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle from the component's first module back to itself."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:  # back where it began: walk the way back to the start
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {sorted(component)}")  # pragma: no cover


def test_no_module_imports_itself_back() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_cycle_finder_sees_a_cycle_through_a_deferred_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n")
    (package / "c.py").write_text("import pkg.a\n")
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between infradex's top-level packages and modules (``infradex.catalog``,
    ``infradex.oncall``, ``infradex.clock``)."""

    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        packages.setdefault(top(module), set()).update(top(m) for m in imported)
    return {package: imported - {package} for package, imported in packages.items()}


def test_no_package_imports_itself_back() -> None:
    found = cycles(package_graph(import_graph()))
    assert not found, "import cycles between packages:\n" + "\n".join(" -> ".join(c) for c in found)


#: what the channels may import: the catalog validates channel entries with their models, so
#: channels sit below it, beside the probes (whose HTTP client the HTTP channels send with)
CHANNELS_MAY_IMPORT = {
    "infradex",  # the version, in the User-Agent
    "infradex.clock",
    "infradex.errors",
    "infradex.netpolicy",  # a leaf: where an HTTP notifier may connect (subscriber webhooks)
    "infradex.probes",
    "infradex.secretrefs",
    "infradex.settings",
    "infradex.urls",
}


def test_the_channels_sit_below_the_catalog() -> None:
    graph = package_graph(import_graph())
    assert "infradex.channels" in graph["infradex.catalog"]
    assert graph["infradex.channels"] <= CHANNELS_MAY_IMPORT, (
        "infradex.channels imports a room above it: "
        + ", ".join(sorted(graph["infradex.channels"] - CHANNELS_MAY_IMPORT))
    )
    reaches_back = {p for p in CHANNELS_MAY_IMPORT if "infradex.catalog" in graph.get(p, set())}
    assert not reaches_back


def test_loading_the_catalog_loads_no_probe_and_no_http_client() -> None:
    """The channels' notifiers load the probes' HTTP client only when they send, so a
    command that only reads the catalog (validate, docs) does not pay for it."""
    script = (
        "import sys, infradex.catalog.loading, infradex.lint;"
        "print(sorted(m for m in sys.modules if m.startswith(('infradex.probes', 'httpx'))))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
