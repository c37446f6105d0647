"""Printing a benchmark's result tables: rich in a terminal, or Markdown for docs/benchmarks.md
(``--markdown``). The first heading named like a label (``store``, ``system``) is left-aligned,
the numbers right-aligned."""

from __future__ import annotations

LABELS = ("store", "system", "side")


def print_table(
    title: str, headings: list[str], rows: list[list[str]], markdown: bool, width: int = 200
) -> None:
    if markdown:
        print(f"\n{title}\n")
        print("| " + " | ".join(headings) + " |")
        print("|" + "|".join("---" if h in LABELS else "---:" for h in headings) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for heading in headings:
        table.add_column(heading, justify="left" if heading in LABELS else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=width).print(table)
