"""Render a statement described in plain data as page text, in both engines' layouts.

`render_layout` prints aligned columns as PDFium or LLMWhisperer layout mode do; `render_grid` prints
LLMWhisperer table mode's pipe grid, with its header cells shifted against the value cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Sheet:
    title: str
    rows: list[tuple[str, int, list[str | None]]]
    headers: list[list[str]]
    company: str = "EXAMPLE CORPORATION AND SUBSIDIARIES"
    unit_line: str | None = "(In millions)"
    notes: list[str | None] | None = None
    rules_before: set[int] = field(default_factory=set)


def render_layout(sheet: Sheet, gap: int = 4, indent: int = 3) -> str:
    label_width = max([len(label) + indent * level for label, level, _ in sheet.rows] + [20]) + gap
    cells = [c for _, _, row in sheet.rows for c in row if c] + [h for stack in sheet.headers for h in stack]
    width = max(len(c) for c in cells) + gap if cells else 10
    note_width = 8 if sheet.notes else 0
    page_width = label_width + note_width + width * len(sheet.headers)
    out = ["Table of Contents", ""]
    heading = [sheet.company, sheet.title] + ([sheet.unit_line] if sheet.unit_line else [])
    out += [line.center(page_width).rstrip() for line in heading]
    out.append("")
    depth = max((len(stack) for stack in sheet.headers), default=0)
    for level in range(depth):
        line = " " * label_width + (
            "Notes".rjust(note_width - 2) + "  " if sheet.notes and level == depth - 1 else " " * note_width
        )
        for stack in sheet.headers:
            text = stack[level - depth + len(stack)] if level >= depth - len(stack) else ""
            line += text.rjust(width)
        out.append(line.rstrip())
    for k, (label, level, row) in enumerate(sheet.rows):
        if k in sheet.rules_before:
            out.append(" " * (label_width + note_width) + ("-" * (width - 2)).rjust(width) * len(row))
        line = (" " * (indent * level) + label).ljust(label_width)
        note = sheet.notes[k] if sheet.notes else None
        line += (note or "").rjust(note_width - 2) + "  " if sheet.notes else ""
        line += "".join((cell or "").rjust(width) for cell in row)
        out.append(line.rstrip())
    out += [
        "",
        "See accompanying notes to the consolidated financial statements.".center(page_width),
        "",
        "7",
    ]
    return "\n".join(out) + "\n"


def _grid_line(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " | "


def render_grid(sheet: Sheet, shift: int = 1, spare: int = 2) -> str:
    """Header cells sit `shift` cells right of their values; `spare` empty cells trail every row."""
    n = len(sheet.headers)
    size = 1 + n + shift + spare
    grid: list[list[str]] = []
    depth = max((len(stack) for stack in sheet.headers), default=0)
    for level in range(depth):
        row = [""] * size
        for k, stack in enumerate(sheet.headers):
            if level >= depth - len(stack):
                row[1 + k + shift] = stack[level - depth + len(stack)]
        grid.append(row)
    for label, _level, values in sheet.rows:
        grid.append([label] + [v or "" for v in values] + [""] * (shift + spare))
    widths = [max(len(row[k]) for row in grid) for k in range(size)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+ "
    out = ["Table of Contents", "", sheet.company, sheet.title] + (
        [sheet.unit_line] if sheet.unit_line else []
    )
    out.append("")
    for row in grid:
        out += [rule, _grid_line(row, widths)]
    out += [rule, "", "See accompanying notes to the consolidated financial statements.", "", "7"]
    return "\n".join(out) + "\n"
