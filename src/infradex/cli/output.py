"""Terminal output shared by every command: rich for people, JSON for scripts."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Any

from rich.console import Console

__all__ = ["Format", "console", "err_console", "print_json"]


class Format(StrEnum):
    text = "text"
    json = "json"


def _width() -> int | None:
    """The terminal's width; piped output uses $COLUMNS or 120 (tables stay readable)."""
    if sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else 120


# emoji=False: rich would turn "services.yaml:100:" into an emoji
console = Console(width=_width(), highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def print_json(data: Any) -> None:
    """JSON on stdout, sorted and indented: stable for scripts and diffs."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")
