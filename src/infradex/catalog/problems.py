"""A problem found in a catalog: where it is, what is wrong, and what would fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from infradex.errors import InfradexError

__all__ = ["CatalogInvalid", "Problem", "Severity", "dotted", "sort_problems"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning. ``file`` is relative to the catalog root; ``field`` is a dotted
    path such as ``spec.checks[0].url``; ``entity`` is a reference such as ``service:docs``."""

    severity: Severity
    code: str
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    entity: str | None = None
    field: str | None = None

    @property
    def location(self) -> str:
        if self.file is None:
            return "<catalog>"
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        subject = " ".join(part for part in (self.entity, self.field) if part)
        text = f"{self.location}: {self.severity}: "
        text += f"{subject}: {self.message}" if subject else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Errors first, then by file and line, so output reads top to bottom and is stable."""
    return sorted(
        problems,
        key=lambda p: (
            p.severity != "error",
            p.file or "",
            p.line or 0,
            p.column or 0,
            p.code,
            p.message,
        ),
    )


def dotted(path: tuple[str | int, ...]) -> str:
    """``("spec", "checks", 0, "url")`` → ``spec.checks[0].url``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class CatalogInvalid(InfradexError):
    """The catalog has at least one error; ``problems`` holds all of them. It lives with
    :class:`Problem` rather than in ``infradex.errors`` so that module imports nothing of
    infradex's (a leaf, as every package may raise its errors)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(
            f"the catalog has {len(errors)} error(s); run `infradex validate` to list them"
        )
