"""How infradex scales with the size of the catalog: load + validate, impact queries, docs.

    .venv/bin/python bench/catalog_scale.py [--sizes 1000,10000,50000] [--repeat 3]

For each size a synthetic catalog (``bench/synthetic_catalog.py``, fixed seed) is written twice,
with the same documents: the usual layout (one file per kind, 500 documents a file) and one
document per file (check-jsonschema reads single-document YAML files only). Measured, in one
run, on those files:

- ``infradex.lint.load(dir)``: read, parse, validate, cross-reference, lint (best of
  ``--repeat``), also on the one-document-per-file layout;
- ``impact()`` of the main CDN provider, of the busiest data center and of the busiest host
  (median of many calls, in ms);
- the docs: ``render_site(catalog, "html")`` and ``"markdown"`` (best of ``--repeat``);
- peers: ``check-jsonschema`` validating every file against infradex's own JSON Schema
  (``json_schema()``), run as a subprocess like in CI, next to ``infradex validate`` run the same
  way on the same files; and a floor, PyYAML's ``CSafeLoader`` parsing the files with no
  validation at all.

Slow measurements stop repeating once they have used ``--budget`` seconds (at least one run
always happens); the JSON records how many runs each best-of took. Time spent in Python's
garbage collector is recorded for the in-process measurements.

Results: a table on stdout and ``bench/results/catalog_scale.json``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

import infradex
from infradex.catalog import Catalog, Problem, Ref
from infradex.catalog.queries import impact
from infradex.catalog.schema import json_schema
from infradex.docs.site import render_site
from infradex.lint import load

# run as `python bench/catalog_scale.py`: bench/ is on sys.path
from synthetic_catalog import generate, write_catalog

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results" / "catalog_scale.json"
#: the targets from the issue, checked at 10k entities
TARGET_ENTITIES, TARGET_LOAD_S, TARGET_IMPACT_MS = 10_000, 3.0, 10.0
#: a command line stays well below ARG_MAX (2 MiB on Linux) even with the environment
MAX_ARGS_BYTES = 1_500_000
STEPS = (
    "generate",
    "load (single-doc files)",
    "load",
    "impact",
    "docs html",
    "docs markdown",
    "PyYAML parse",
    "check-jsonschema",
    "infradex validate",
)


# ------------------------------------------------------------------------------ timing
class GcClock:
    """Seconds spent in the cyclic garbage collector since the last reset."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections += 1

    def reset(self) -> None:
        self.seconds, self.collections = 0.0, 0


GC = GcClock()


@dataclass
class Timing:
    best: float  # seconds, the fastest run
    runs: list[float] = field(default_factory=list)
    gc: float | None = None  # seconds in the garbage collector during the fastest run

    def to_dict(self) -> dict[str, Any]:
        return {
            "best_s": round(self.best, 4),
            "runs_s": [round(r, 4) for r in self.runs],
            **({"gc_s": round(self.gc, 4)} if self.gc is not None else {}),
        }


def best_of(fn: Callable[[], T], repeat: int, budget: float) -> tuple[Timing, T]:
    """Run ``fn`` up to ``repeat`` times (fewer once ``budget`` seconds are used)."""
    runs: list[float] = []
    gcs: list[float] = []
    result: T | None = None
    spent = 0.0
    for _ in range(repeat):
        result = None  # the previous run's objects must not weigh on this one's GC
        gc.collect()
        GC.reset()
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        runs.append(elapsed)
        gcs.append(GC.seconds)
        spent += elapsed
        if spent >= budget:
            break
    best = min(range(len(runs)), key=runs.__getitem__)
    return Timing(runs[best], runs, gcs[best]), cast(T, result)


def best_of_process(cmd: Sequence[str], cwd: Path, repeat: int, budget: float) -> dict[str, Any]:
    """Time a command (split into batches if the file list is too long for one command line)."""
    batches = _batches(list(cmd))
    runs: list[float] = []
    spent, returncodes, tail = 0.0, [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        returncodes = []
        for batch in batches:
            done = subprocess.run(batch, cwd=cwd, capture_output=True, text=True, check=False)
            returncodes.append(done.returncode)
            if done.returncode:
                tail = (done.stdout + done.stderr)[-2000:]
        elapsed = time.perf_counter() - start
        runs.append(elapsed)
        spent += elapsed
        if spent >= budget:
            break
    result = Timing(min(runs), runs).to_dict()
    result.update(processes=len(batches), returncodes=sorted(set(returncodes)))
    if tail:
        result["output_tail"] = tail
    return result


def _batches(cmd: list[str]) -> list[list[str]]:
    """``cmd`` is ``[program, options..., "--", files...]``; split the files over commands."""
    if "--" not in cmd:
        return [cmd]
    split = cmd.index("--")
    head, files = cmd[:split], cmd[split + 1 :]
    batches: list[list[str]] = [[]]
    size = 0
    for name in files:
        if size + len(name) + 1 > MAX_ARGS_BYTES and batches[-1]:
            batches.append([])
            size = 0
        batches[-1].append(name)
        size += len(name) + 1
    return [[*head, *batch] for batch in batches]


def median_ms(
    fn: Callable[[], Any], min_calls: int = 5, max_calls: int = 200, budget: float = 2.0
) -> tuple[float, int]:
    """The median time of a call in ms, over as many calls as fit in ``budget`` seconds."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_calls and (
        len(times) < min_calls or time.perf_counter() - start < budget
    ):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000, len(times)


def rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# ------------------------------------------------------------------------------ the machine
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "packages": {
            name: version(name)
            for name in (
                "infradex",
                "pydantic",
                "pydantic-core",
                "PyYAML",
                "octodns",
                "check-jsonschema",
                "jsonschema",
                "ruamel.yaml",
                "rich",
            )
        },
        "infradex_imported_from": str(Path(infradex.__file__).resolve().parent),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": git("rev-parse", "--short", "HEAD"),
        "worktree_dirty": bool(git("status", "--porcelain", "--", "src")),
        "src_state": src_state(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def src_state() -> str:
    """A fingerprint of the code measured: HEAD plus any uncommitted change under src/."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    diff = subprocess.run(
        ["git", "diff", "HEAD", "--", "src"], cwd=ROOT, capture_output=True, check=False
    ).stdout
    return f"{head[:12]}+{hashlib.sha256(diff).hexdigest()[:12]}" if diff else head[:12]


# ------------------------------------------------------------------------------ one size
def parse_yaml_files(files: Sequence[Path]) -> int:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    count = 0
    for path in files:
        count += sum(1 for _ in yaml.load_all(path.read_bytes().decode("utf-8"), Loader=loader))
    return count


def busiest(catalog: Catalog, kind: str, relation: str) -> Ref:
    return max(
        catalog.of_kind(kind), key=lambda e: (len(catalog.related(e.ref, relation)), e.name)
    ).ref


def infradex_command() -> list[str]:
    script = Path(sys.executable).parent / "infradex"
    return [str(script)] if script.exists() else [sys.executable, "-m", "infradex"]


def check_jsonschema_command() -> list[str]:
    script = Path(sys.executable).parent / "check-jsonschema"
    return [str(script)] if script.exists() else [sys.executable, "-m", "check_jsonschema"]


def bench_size(
    n: int,
    args: argparse.Namespace,
    workdir: Path,
    schema: Path,
    step: Callable[[str], None],
    result: dict[str, Any],
) -> dict[str, Any]:
    """Measure one size, filling ``result`` as it goes (so a crash leaves partial results)."""
    result["entities"] = n

    step("generate")
    start = time.perf_counter()
    synthetic = generate(n, args.seed)
    multi_dir, single_dir = workdir / f"multi-{n}", workdir / f"single-{n}"
    multi_files = write_catalog(multi_dir, n, args.seed, "multi", catalog=synthetic)
    single_files = write_catalog(single_dir, n, args.seed, "single", catalog=synthetic)
    assert synthetic.counts is not None
    result["counts"] = asdict(synthetic.counts)
    result["files"] = {"multi": len(multi_files), "single": len(single_files)}
    result["bytes"] = sum(p.stat().st_size for p in multi_files)
    result["generate_s"] = round(time.perf_counter() - start, 3)
    del synthetic

    step("load (single-doc files)")
    single_timing, single = best_of(lambda: load(single_dir), args.repeat, args.budget)
    if single.errors:
        raise SystemExit(f"the one-document-per-file catalog of {n} entities has errors")
    result["load_single_files"] = single_timing.to_dict()
    del single

    step("load")
    timing, loaded = best_of(lambda: load(multi_dir), args.repeat, args.budget)
    if loaded.errors:
        shown = "\n".join(str(p) for p in loaded.errors[:10])
        raise SystemExit(f"the synthetic catalog of {n} entities has errors:\n{shown}")
    assert loaded.catalog is not None
    result["load"] = timing.to_dict()
    result["warnings"] = len(loaded.warnings)
    result["rss_after_load_mb"] = rss_mb()

    queries_and_docs(loaded.catalog, loaded.problems, args, step, result)
    del loaded
    gc.collect()

    step("PyYAML parse")
    timing, documents = best_of(lambda: parse_yaml_files(multi_files), args.repeat, args.budget)
    assert documents == n, (documents, n)
    result["pyyaml_parse"] = timing.to_dict()

    relative = [p.relative_to(single_dir).as_posix() for p in single_files]
    step("check-jsonschema")
    result["check_jsonschema"] = best_of_process(
        [*check_jsonschema_command(), "--schemafile", str(schema), "--", *relative],
        single_dir,
        args.repeat,
        args.budget,
    )
    step("infradex validate")
    result["infradex_validate_cli"] = best_of_process(
        [*infradex_command(), "validate", "."], single_dir, args.repeat, args.budget
    )
    if not args.keep:
        shutil.rmtree(multi_dir, ignore_errors=True)
        shutil.rmtree(single_dir, ignore_errors=True)
    return result


def queries_and_docs(
    catalog: Catalog,
    problems: Sequence[Problem],
    args: argparse.Namespace,
    step: Callable[[str], None],
    result: dict[str, Any],
) -> None:
    step("impact")
    targets = {
        "cdn": Ref("provider", "cdn-0000"),
        "datacenter": busiest(catalog, "datacenter", "contains"),
        "host": busiest(catalog, "host", "hosts"),
    }
    result["impact"] = {}
    for label, ref in targets.items():
        answer = impact(catalog, ref)
        ms, calls = median_ms(lambda ref=ref: impact(catalog, ref), budget=args.impact_budget)
        down = sum(a.effect == "down" for a in answer.affected)
        result["impact"][label] = {
            "ref": str(ref),
            "median_ms": round(ms, 3),
            "calls": calls,
            "affected": len(answer.affected),
            "down": down,
            "degraded": len(answer.affected) - down,
            "us_per_affected": round(ms * 1000 / max(1, len(answer.affected)), 2),
        }

    result["docs"] = {}
    for fmt in ("html", "markdown"):
        step(f"docs {fmt}")
        timing, files = best_of(
            lambda fmt=fmt: render_site(catalog, fmt, problems), args.repeat, args.budget
        )
        result["docs"][fmt] = {
            **timing.to_dict(),
            "files": len(files),
            "bytes": sum(len(text) for text in files.values()),
        }
        del files


def startup_costs(workdir: Path, schema: Path) -> dict[str, float]:
    """What each command costs on a one-entity catalog: interpreter start and imports."""
    one = workdir / "one"
    write_catalog(one, 100, 1, "single")
    keep = one / "providers" / "cdn-0000.yaml"
    for path in one.rglob("*.yaml"):
        if path != keep:
            path.unlink()
    costs = {}
    for name, cmd in (
        (
            "check_jsonschema",
            [*check_jsonschema_command(), "--schemafile", str(schema), "--", keep.name],
        ),
        ("infradex_validate_cli", [*infradex_command(), "validate", "."]),
    ):
        cwd = keep.parent if name == "check_jsonschema" else one
        costs[name] = best_of_process(cmd, cwd, 3, 60.0)["best_s"]
    shutil.rmtree(one, ignore_errors=True)
    return costs


# ------------------------------------------------------------------------------ reporting
def per_1k(seconds: float, n: int) -> float:
    """Milliseconds per 1,000 entities."""
    return seconds * 1000 / (n / 1000)


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a and b else "—"


@dataclass
class ResultTable:
    """A table of results, printed with rich or as Markdown (for docs/benchmarks.md)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def rich(self) -> Table:
        out = Table(title=self.title, title_justify="left")
        for column in self.columns:
            out.add_column(column, justify="right")
        for row in self.rows:
            out.add_row(*row)
        return out

    def markdown(self) -> str:
        lines = [
            f"**{self.title}**",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "---:|" * len(self.columns),
        ]
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        return "\n".join(lines) + "\n"


def tables(results: dict[str, Any]) -> list[ResultTable]:
    sizes = results["sizes"]

    def cost(key: Callable[[dict[str, Any]], float], index: int) -> str:
        """ms per 1k entities, and (in brackets) that cost ÷ the previous size's: 1.00 = linear."""
        here = sizes[index]
        text = f"{per_1k(key(here), here['entities']):.0f}"
        if index:
            before = sizes[index - 1]
            growth = (key(here) / here["entities"]) / (key(before) / before["entities"])
            text += f" ({growth:.2f})"
        return text

    def table(title: str, *columns: str) -> ResultTable:
        return ResultTable(title, columns)

    validation = table(
        "Load + validate, in process (s, best of runs; ms/1k entities (growth: 1.00 = linear))",
        "entities",
        "load()",
        "ms/1k",
        "of it GC",
        "PyYAML parse",
        "ms/1k",
        "load ÷ parse",
    )
    peers = table(
        "Validators as subprocesses, same one-document-per-file copy (s, best of runs)",
        "entities",
        "files",
        "check-jsonschema",
        "infradex validate",
        "infradex ÷ cjs",
        "load() on these files",
    )
    queries = table(
        "impact(): median ms (entities affected)",
        "entities",
        "CDN provider",
        "busiest data center",
        "busiest host",
    )
    docs = table(
        "Docs, render_site() (s, best of runs; ms per 1k entities (growth))",
        "entities",
        "html",
        "ms/1k",
        "of it GC",
        "markdown",
        "ms/1k",
        "of it GC",
        "pages (html)",
        "html size",
    )
    for index, size in enumerate(sizes):
        n = f"{size['entities']:,}"
        load_s, parse_s = size["load"]["best_s"], size["pyyaml_parse"]["best_s"]
        validation.add_row(
            n,
            f"{load_s:.2f}",
            cost(lambda s: s["load"]["best_s"], index),
            f"{size['load']['gc_s']:.2f}",
            f"{parse_s:.2f}",
            cost(lambda s: s["pyyaml_parse"]["best_s"], index),
            ratio(load_s, parse_s),
        )
        cjs, cli = size["check_jsonschema"], size["infradex_validate_cli"]
        peers.add_row(
            n,
            f"{size['files']['single']:,}",
            f"{cjs['best_s']:.2f}" + ("" if cjs["returncodes"] == [0] else " (failed)"),
            f"{cli['best_s']:.2f}" + ("" if cli["returncodes"] == [0] else " (failed)"),
            ratio(cli["best_s"], cjs["best_s"]),
            f"{size['load_single_files']['best_s']:.2f}",
        )
        queries.add_row(
            n,
            *(
                f"{item['median_ms']:.2f} ({item['affected']:,})"
                for item in (size["impact"][k] for k in ("cdn", "datacenter", "host"))
            ),
        )
        html, markdown = size["docs"]["html"], size["docs"]["markdown"]
        docs.add_row(
            n,
            f"{html['best_s']:.2f}",
            cost(lambda s: s["docs"]["html"]["best_s"], index),
            f"{html['gc_s']:.2f}",
            f"{markdown['best_s']:.2f}",
            cost(lambda s: s["docs"]["markdown"]["best_s"], index),
            f"{markdown['gc_s']:.2f}",
            f"{html['files']:,}",
            f"{html['bytes'] / 1e6:,.0f} MB",
        )
    return [validation, peers, queries, docs]


def targets(results: dict[str, Any]) -> list[str]:
    at = [s for s in results["sizes"] if s["entities"] == TARGET_ENTITIES]
    if not at:
        return [f"(targets are checked at {TARGET_ENTITIES:,} entities, not measured here)"]
    size = at[0]
    lines = []
    load_s = size["load"]["best_s"]
    verdict = "met" if load_s < TARGET_LOAD_S else "NOT met"
    lines.append(
        f"target: {TARGET_ENTITIES:,} entities validated in < {TARGET_LOAD_S:g} s: "
        f"{verdict} ({load_s:.2f} s)"
    )
    for label, item in size["impact"].items():
        verdict = "met" if item["median_ms"] < TARGET_IMPACT_MS else "NOT met"
        lines.append(
            f"target: impact({item['ref']}) < {TARGET_IMPACT_MS:g} ms: {verdict} "
            f"({item['median_ms']:.2f} ms, {item['affected']:,} affected) [{label}]"
        )
    return lines


# ------------------------------------------------------------------------------ main
def report(results: dict[str, Any], console: Console, markdown: bool = False) -> None:
    for table in tables(results):
        if markdown:
            print(table.markdown())
        else:
            console.print(table.rich())
    m = results["machine"]
    measured = f"commit {m['commit']}" + (" (src modified)" if m["worktree_dirty"] else "")
    if Path(m["infradex_imported_from"]) != ROOT / "src" / "infradex":
        measured = f"infradex from {m['infradex_imported_from']}"
    elif m["src_state_at_end"] != m["src_state"]:
        console.print("[bold red]warning:[/] src/ changed while the benchmark ran")
    console.print(f"{m['cpu']}, {m['nproc']} CPUs, Python {m['python']}, {measured}")
    startup = results["startup_s"]
    console.print(
        "check-jsonschema and infradex validate ran as subprocesses on the one-document-per-file "
        "copy; start-up alone (one-entity catalog): "
        f"check-jsonschema {startup['check_jsonschema']:.2f} s, "
        f"infradex validate {startup['infradex_validate_cli']:.2f} s"
    )
    for line in targets(results):
        console.print(line)


class Steps:
    """Moves the progress bar: called with the name of each step as it starts."""

    def __init__(self, progress: Progress, task: TaskID, save: Callable[[str], None]) -> None:
        self.progress, self.task, self.save = progress, task, save
        self.started = 0
        self.size = 0

    def __call__(self, name: str) -> None:
        self.save(f"{self.size}: {name}")
        self.progress.update(
            self.task, completed=self.started, description=f"{self.size:,} entities: {name}"
        )
        self.started += 1


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        factor = 1000 if part.endswith("k") else 1
        sizes.append(int(float(part.rstrip("k")) * factor))
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("1000,10000,50000"),
        help="entities in the catalogs, comma-separated (1000,10000,50000; 10k works too)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="stop repeating a measurement once its runs took this many seconds",
    )
    parser.add_argument(
        "--impact-budget", type=float, default=2.0, help="seconds of impact() calls per target"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--workdir", type=Path, help="where to write catalogs (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated catalogs")
    parser.add_argument(
        "--report", type=Path, metavar="JSON", help="only print the tables of an earlier run"
    )
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = parser.parse_args(argv)

    console = Console()
    if not console.is_terminal:
        console = Console(width=110)
    if args.report:
        report(json.loads(args.report.read_text(encoding="utf-8")), console, args.markdown)
        return 0
    results: dict[str, Any] = {
        "benchmark": "catalog_scale",
        "machine": machine(),
        "config": {
            "sizes": args.sizes,
            "repeat": args.repeat,
            "budget_s": args.budget,
            "seed": args.seed,
            "command": " ".join(
                [Path(sys.executable).name, "bench/catalog_scale.py", *sys.argv[1:]]
            ),
        },
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="infradex-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        schema = workdir / "infradex-catalog.schema.json"
        schema.write_text(json.dumps(json_schema(), indent=2), encoding="utf-8")
        results["startup_s"] = startup_costs(workdir, schema)
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with progress:
            task = progress.add_task("catalog scale", total=len(args.sizes) * len(STEPS))

            def save(step: str) -> None:
                results["last_step"] = step
                results["peak_rss_mb"] = round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                )
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

            steps = Steps(progress, task, save)
            for n in args.sizes:
                steps.size = n
                results["sizes"].append({"entities": n})
                bench_size(n, args, workdir, schema, steps, results["sizes"][-1])
                progress.update(task, completed=steps.started)
            save("done")

    results["machine"]["src_state_at_end"] = src_state()
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    report(results, console, args.markdown)
    console.print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
