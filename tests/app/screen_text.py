"""The dashboard's screen as lines of text, from its public screenshot (``App.export_screenshot``).

Tests assert on what a user sees: a number cut off at the screen's edge, a column scrolled out of
view or a key the footer dropped is not in these lines, whatever the widgets hold.
"""

from __future__ import annotations

import html
import re

from textual.app import App

_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>(.*?)</text>')


# Where Rich's SVG export puts row n: y = n * LINE + TOP (its character height 20, line height 1.22 of it).
TOP, LINE = 20.0, 20.0 * 1.22


def screen_lines(app: App[object]) -> list[str]:
    """Every row of the screen (``app.size.height`` of them), each cell where the screenshot puts
    it (blank cells as spaces)."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for match in _TEXT.finditer(app.export_screenshot()):
        x, y, length, raw = float(match[1]), float(match[2]), float(match[3]), match[4]
        text = html.unescape(raw).replace("\xa0", " ")
        if not text:
            continue
        width = length / len(text)
        rows.setdefault(round((y - TOP) / LINE), []).append((round(x / width), text))
    lines = []
    for row in range(app.size.height):
        line = ""
        for column, text in sorted(rows.get(row, [])):
            line = line.ljust(column) + text
        lines.append(line)
    return lines


def screen_text(app: App[object]) -> str:
    return "\n".join(screen_lines(app))
