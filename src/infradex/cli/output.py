"""Terminal output shared by every command: rich for people, JSON for scripts."""

from __future__ import annotations

import json
import os
import re
import sys
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.text import Text

from infradex.inert import terminal_text

__all__ = ["Format", "InertConsole", "console", "err_console", "print_json"]


class Format(StrEnum):
    text = "text"
    json = "json"


def _width() -> int | None:
    """The terminal's width; piped output uses $COLUMNS or 120 (tables stay readable)."""
    if sys.stdout.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else 120


class InertConsole(Console):
    """A console that writes no escape sequence it did not make itself.

    Every string printed (tables, titles, messages) passes through :meth:`render_str`, where
    catalog text loses ESC sequences, control characters and bidi overrides before rich adds
    its own styling. Rich markup is ours: catalog text put into a markup string is passed
    through ``rich.markup.escape`` (or printed with ``markup=False``).
    """

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(terminal_text(text), **options)


# emoji=False: rich would turn "services.yaml:100:" into an emoji
console = InertConsole(width=_width(), highlight=False, soft_wrap=True, emoji=False)
err_console = InertConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)

# JSON escapes C0 controls itself; C1 controls (a terminal may read U+009B as CSI), bidi
# overrides and lone surrogates (which cannot even be encoded) are written as \uXXXX escapes:
# the same JSON value, nothing a terminal acts on
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def print_json(data: Any) -> None:
    """JSON on stdout, sorted and indented: stable for scripts and diffs."""
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
    sys.stdout.write(text + "\n")
