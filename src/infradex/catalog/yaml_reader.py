"""Read catalog files from disk: a directory searched recursively, several documents a file.

Every value keeps the line and column it came from, so every later problem can point at the
exact field. Nothing here raises on bad input: unreadable files, non-UTF-8 bytes, YAML syntax
errors, symlink loops and empty directories all become :class:`Problem` values.

Catalog text arrives by pull request, so reading it is bounded: only regular files inside the
catalog root (after resolving symbolic links), at most ``MAX_FILE_BYTES`` each, opened without
blocking (a FIFO would wait for a writer forever), and values nested at most ``MAX_DEPTH``
levels deep (deeper ones would exhaust the Python stack).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infradex.catalog.problems import Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Positions",
    "RawDocument",
    "ReadResult",
    "find_yaml_files",
    "inside",
    "read_yaml_file",
    "read_yaml_text",
]

#: the largest catalog (or zone) file read (the PSF example's largest file is 14 KiB)
MAX_FILE_BYTES = 10 * 1024 * 1024
#: the deepest nesting of lists and mappings in a document; the format needs 7
MAX_DEPTH = 64

try:  # the C parser is several times faster; fall back when libyaml is missing
    _Base: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader

_STR_TAG = "tag:yaml.org,2002:str"
#: first letters of plain scalars that YAML 1.1 may read as something other than text
_MAYBE_TYPED = frozenset("yYnNtTfFoO")


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader with a fast path in tag resolution, which the parser asks for every
    scalar: plain text starting with a letter that no bool or null starts with is text."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and value:
            first = value[0]
            if first.isalpha() and first not in _MAYBE_TYPED:
                return _STR_TAG
        return super().resolve(kind, value, implicit)


#: path inside a document, e.g. ("spec", "checks", 0, "url") → (line, column), both 1-based
Positions = dict[tuple[str | int, ...], tuple[int, int]]


@dataclass(slots=True)
class RawDocument:
    """One YAML document as plain Python values, with where each value was written."""

    file: str  # display path, relative to the catalog root
    path: Path
    line: int
    column: int
    data: Any
    positions: Positions = field(default_factory=dict)

    def where(self, path: tuple[str | int, ...]) -> tuple[int, int]:
        """The position of ``path`` or, if it was not written, of its closest written parent."""
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.line, self.column


@dataclass(slots=True)
class ReadResult:
    documents: list[RawDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _error(
    code: str,
    message: str,
    hint: str,
    file: str,
    line: int | None = None,
    column: int | None = None,
) -> Problem:
    return Problem("error", code, message, hint, file, line, column)


def find_yaml_files(root: Path) -> tuple[list[Path], list[Problem]]:
    """Every ``*.yaml``/``*.yml`` below ``root`` in a stable order, following symlinks once.

    Hidden files and directories (``.git``) are skipped. A symlink loop is reported, not
    followed forever.
    """
    problems: list[Problem] = []
    if not root.exists():
        problems.append(
            _error(
                "missing-catalog",
                f"{root} does not exist",
                "check the path; the catalog is a directory of *.yaml files (or one file)",
                str(root),
            )
        )
        return [], problems
    if not root.is_dir():  # one file; if it is not a regular one, reading it says so
        return [root], problems
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    real_root = root.resolve()

    def walk(directory: Path) -> Iterator[Path]:
        if inside(real_root, directory) is None:
            problems.append(_outside(_rel(directory, root)))
            return
        try:
            info = directory.stat()
        except OSError as exc:
            problems.append(
                _error(
                    "unreadable",
                    f"cannot read {directory}: {exc.strerror}",
                    "check the path and its permissions",
                    _rel(directory, root),
                )
            )
            return
        key = (info.st_dev, info.st_ino)
        if key in seen:
            problems.append(
                _error(
                    "symlink-loop",
                    f"{_rel(directory, root)} leads back to a directory already read",
                    "remove the symbolic link that points to a parent directory",
                    _rel(directory, root),
                )
            )
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            problems.append(
                _error(
                    "unreadable",
                    f"cannot list {directory}: {exc.strerror}",
                    "check the directory's permissions",
                    _rel(directory, root),
                )
            )
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                yield from walk(path)
            elif entry.name.endswith((".yaml", ".yml")):
                if not path.exists():
                    problems.append(
                        _error(
                            "broken-symlink",
                            f"{entry.name} is a broken link",
                            "remove it or point it at a file",
                            _rel(path, root),
                        )
                    )
                    continue
                yield path

    found.extend(walk(root))
    if not found and not problems:
        problems.append(
            _error(
                "empty-catalog",
                f"no *.yaml or *.yml files in {root}",
                "add entity files, e.g. services.yaml; see docs/catalog.md for the format",
                str(root),
            )
        )
    return found, problems


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def inside(root: Path, path: Path | str) -> Path | None:
    """``path`` (relative to ``root``, or absolute) with symbolic links resolved, if that is
    inside ``root`` (itself resolved); else None. Whether the file exists plays no part."""
    try:
        real = (root / path).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return real if real == root or real.is_relative_to(root) else None


def _outside(display: str) -> Problem:
    return _error(
        "outside-catalog",
        f"{display} leads outside the catalog directory",
        "only files inside the catalog are read; copy the file in or remove the link",
        display,
    )


_SPECIAL = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def _read_regular(path: Path, display: str, root: Path | None) -> bytes | Problem:
    """The bytes of ``path`` if it is a regular file (inside ``root``, when given) of at most
    ``MAX_FILE_BYTES``; else the problem that says why it was refused."""
    if root is not None and inside(root, path) is None:
        return _outside(display)

    def special(mode: int) -> Problem | None:
        if stat.S_ISREG(mode):
            return None
        what = _SPECIAL.get(stat.S_IFMT(mode), "not a regular file")
        return _error(
            "not-a-file",
            f"not a regular file: {what}",
            "catalog files are plain files; remove it or rename it so it does not end in .yaml",
            display,
        )

    def too_large() -> Problem:
        return _error(
            "too-large",
            f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most a catalog file may be",
            "split it into several files",
            display,
        )

    try:
        # stat first so a device is never even opened; then check what was opened, since the
        # path may have been replaced in between. O_NONBLOCK: opening a FIFO does not wait.
        refused = special(os.stat(path).st_mode)
        if refused is not None:
            return refused
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(path, flags)
        try:
            info = os.fstat(descriptor)
            refused = special(info.st_mode)
            if refused is not None:
                return refused
            if info.st_size > MAX_FILE_BYTES:
                return too_large()
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_FILE_BYTES:  # the file may grow while it is read
                chunk = os.read(descriptor, MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(descriptor)
    except OSError as exc:
        return _error(
            "unreadable",
            f"cannot read file: {exc.strerror}",
            "check the file's permissions",
            display,
        )
    if size > MAX_FILE_BYTES:
        return too_large()
    return b"".join(chunks)


def read_yaml_file(path: Path, display: str, root: Path | None = None) -> ReadResult:
    """Read one file: every document in it, or the problems that stop it being read. With
    ``root`` (resolved), a file whose real path is outside it is refused."""
    raw = _read_regular(path, display, root)
    if isinstance(raw, Problem):
        return ReadResult(problems=[raw])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return ReadResult(
            problems=[
                _error(
                    "encoding",
                    f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                    "save the file as UTF-8",
                    display,
                    line,
                    column,
                )
            ]
        )
    return read_yaml_text(text, display, path)


def read_yaml_text(text: str, display: str, path: Path | None = None) -> ReadResult:
    result = ReadResult()
    may_alias = "*" in text  # no alias without a '*': skip the alias-bomb check
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - an empty stream
                continue
            doc = RawDocument(
                display,
                path or Path(display),
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                None,
            )
            doc.data = _convert_document(loader, node, doc, result.problems, may_alias)
            if doc.data is not None:
                result.documents.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        result.problems.append(
            _error(
                "yaml-syntax",
                f"YAML syntax error: {message}",
                "fix the YAML; check indentation, colons and quotes near this line",
                display,
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            )
        )
    except yaml.reader.ReaderError as exc:  # a character YAML refuses: it has no mark
        # libyaml counts the position in UTF-8 bytes; find the character itself instead
        refused = yaml.reader.Reader.NON_PRINTABLE.search(text)
        position = refused.start() if refused else exc.position
        line, column = _line_column(text, position)
        code = ord(refused[0]) if refused else int(exc.character)
        result.problems.append(
            _error(
                "yaml-character",
                f"character U+{code:04X} is not allowed in YAML",
                "remove it; YAML refuses control characters other than tab and line breaks",
                display,
                line,
                column,
            )
        )
    except yaml.YAMLError as exc:
        result.problems.append(_error("yaml-syntax", f"YAML error: {exc}", "fix the YAML", display))
    finally:
        loader.dispose()
    return result


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of the character at ``position``."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


_SEXAGESIMAL_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
#: a document may expand (through aliases) to at most this many values: refuses YAML bombs
MAX_VALUES = 1_000_000


def _expanded_size(node: yaml.Node) -> int | None:
    """How many values ``node`` stands for once aliases are expanded; None if an alias
    refers to a node that contains it (a recursive structure)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(current: yaml.Node) -> int | None:
        key = id(current)
        if key in sizes:
            return sizes[key]
        if key in active:
            return None
        if len(active) >= MAX_DEPTH:  # ``active`` is the path from the document down to here
            raise _TooDeep(current)
        active.add(key)
        total = 1
        children: list[yaml.Node] = []
        if isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        elif isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        for child in children:
            child_size = size(child)
            if child_size is None:
                return None
            total = min(total + child_size, MAX_VALUES + 1)
        active.discard(key)
        sizes[key] = total
        return total

    return size(node)


class _TooDeep(Exception):
    """A value nested more than ``MAX_DEPTH`` levels deep, at ``node``."""

    def __init__(self, node: yaml.Node) -> None:
        super().__init__()
        self.node = node


def _convert_document(
    loader: Any, node: yaml.Node, doc: RawDocument, problems: list[Problem], may_alias: bool
) -> Any:
    """A document's node → plain values, or None (with a problem) if it cannot be expanded."""
    try:
        return _expand_document(loader, node, doc, problems, may_alias)
    except _TooDeep as exc:
        problems.append(
            _error(
                "yaml-too-deep",
                f"this value is nested more than {MAX_DEPTH} levels deep",
                "flatten it; no catalog field needs more than a few levels",
                doc.file,
                exc.node.start_mark.line + 1,
                exc.node.start_mark.column + 1,
            )
        )
        return None


def _expand_document(
    loader: Any, node: yaml.Node, doc: RawDocument, problems: list[Problem], may_alias: bool
) -> Any:
    if not may_alias:
        return _convert(loader, node, (), doc, problems)
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    size = _expanded_size(node)
    if size is None:
        problems.append(
            _error(
                "yaml-alias",
                "an alias refers to a node that contains it",
                "remove the recursive alias (*name inside &name)",
                doc.file,
                line,
                column,
            )
        )
        return None
    if size > MAX_VALUES:
        problems.append(
            _error(
                "yaml-too-large",
                f"this document expands to more than {MAX_VALUES:,} values "
                "(through aliases or nesting)",
                "write the values out; deep alias chains are refused",
                doc.file,
                line,
                column,
            )
        )
        return None
    return _convert(loader, node, (), doc, problems)


def _convert(
    loader: Any,
    node: yaml.Node,
    path: tuple[str | int, ...],
    doc: RawDocument,
    problems: list[Problem],
    depth: int = 0,
) -> Any:
    """A composed YAML node → plain values, recording each value's position in ``doc``."""
    if depth > MAX_DEPTH:  # counts merges too, which nest without adding to ``path``
        raise _TooDeep(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key == "<<":  # merge key: fold the merged mapping in, explicit keys win
                merged = _convert(loader, value_node, path, doc, problems, depth + 1)
                for merged_map in merged if isinstance(merged, list) else [merged]:
                    if isinstance(merged_map, dict):
                        for merged_key, merged_value in merged_map.items():
                            out.setdefault(merged_key, merged_value)
                continue
            if key in out:
                first = doc.positions.get((*path, key), position)
                problems.append(
                    _error(
                        "duplicate-key",
                        f"key {key!r} appears twice in one mapping (first on line {first[0]})",
                        "keep one of them",
                        doc.file,
                        *position,
                    )
                )
            doc.positions[(*path, key)] = position
            out[key] = _convert(loader, value_node, (*path, key), doc, problems, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            doc.positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(_convert(loader, item, (*path, index), doc, problems, depth + 1))
        return items
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # keep dates as written; the models parse them
    if node.tag in _SEXAGESIMAL_TAGS and ":" in node.value:
        return node.value  # YAML 1.1 reads 09:00 as 540; people mean a time of day
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, KeyError, yaml.YAMLError) as exc:
        problems.append(
            _error(
                "yaml-value",
                f"cannot read {node.value!r} as {node.tag.rsplit(':', 1)[-1]}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                "remove the explicit tag or fix the value",
                doc.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        )
        return None
