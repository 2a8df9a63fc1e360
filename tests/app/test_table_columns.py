"""A WideTable never shows a column cut so that it reads as something else (a new user read 1.021e-39,
cut at the right edge, as "1.02"), and its sideways scrolling is column-aligned: after Right, Left,
Home or End the column beside the pinned one starts at its own left boundary ("la" was all that showed
of the header "formula"). The checks read what the screen shows."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult

from regtui.app.widgets.wide_table import WideTable

from . import screen_text

COLUMNS = ("variant", "formula", "predicted", "measured", "agreement")
ROWS = [
    ("factor", "√(n·(1/(3n))/2) = √(1/6)", "0.4082", "0.404", "-1%"),
    ("std_last_block", "√(1 − 1/π)·factor^100", "1.021e-39", "3.612e-40", "×0.35"),
    ("overflow_block", "first L with factor^L > float32 max ≈ 3.4e38", "7.4e+105", "1.89e+105", "×0.26"),
    ("subnormal_block", "first L with factor^L < float32's smallest normal ≈ 1.18e-38", "98", "97", "-1%"),
]
NOTE = (
    "measured_over is the geometric mean of the std ratio between consecutive blocks, blocks 1–100, "
    "of the net without normalisation"
)
PINNED = len("subnormal_block") + 2  # the first column: its longest name and the cell padding
# (84, 12): "predicted" begins 4 cells before the right edge; (100, 16): only "agreement" is cut.
SIZES = [(84, 12), (100, 16)]
CUT_AT_HOME = {(84, 12): ["predicted", "measured", "agreement"], (100, 16): ["agreement"]}
IDS = ["84x12", "100x16"]


class TableApp(App[None]):
    def __init__(self, note: bool = False) -> None:
        super().__init__()
        self.note = note

    def compose(self) -> ComposeResult:
        yield WideTable(id="table")

    def on_mount(self) -> None:
        table = self.query_one(WideTable)
        if self.note:
            table.add_columns(*COLUMNS, "note")
            for row in ROWS:
                table.add_row(*row, NOTE if row[0] == "factor" else "")
        else:
            table.add_columns(*COLUMNS)
            for row in ROWS:
                table.add_row(*row)
        table.focus()


def view_width(table: WideTable) -> int:
    return table.scrollable_content_region.width


def screen_lines(table: WideTable) -> list[str]:
    """The table's lines as the screen shows them (its content region, up to a vertical scrollbar)."""
    lines = [line.ljust(table.app.size.width) for line in screen_text.screen_lines(table.app)]
    region = table.content_region
    bottom = region.y + table.header_height + table.row_count
    return [lines[y][region.x : region.x + view_width(table)] for y in range(region.y, bottom)]


def drawn_lines(table: WideTable) -> list[str]:
    """The table's lines as it draws them now (without waiting for a screen refresh)."""
    return [table.render_line(y).text[: view_width(table)] for y in range(table.header_height + len(ROWS))]


def chunks(line: str) -> list[str]:
    """The cells of the scrolling part of a line (cells are apart by two or more blanks)."""
    return [c for c in re.split(r"\s{2,}", line[PINNED:].strip()) if c]


def assert_nothing_misread(lines: list[str], note: bool = False) -> None:
    """Every cell in view is a whole value (or header) of its line, or is marked cut with "…"."""
    header, *rows = lines
    labels = {*COLUMNS, "note"}
    for chunk in chunks(header):
        assert chunk in labels or chunk.endswith("…") or chunk.startswith("…"), (chunk, header)
    for line, row in zip(rows, ROWS):
        whole = {*row, NOTE} if note else set(row)
        assert line[:PINNED].strip() == row[0], line
        for chunk in chunks(line):
            assert chunk in whole or chunk.endswith("…") or chunk.startswith("…"), (chunk, line)


def after_pinned(line: str) -> str:
    return line[PINNED:]


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_no_cut_number_reads_as_another_and_right_starts_at_a_column(size):
    app = TableApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(WideTable)
        lines = screen_lines(table)
        assert_nothing_misread(lines)
        text = "".join(lines)
        assert "1.021e-39" in text or "1.0" not in text, "no prefix of 1.021e-39 at the right edge"
        assert after_pinned(lines[0]).startswith(" formula ")
        drawn = table.cells_rendered

        await pilot.press("right")
        await pilot.pause()
        lines = screen_lines(table)
        assert_nothing_misread(lines)
        # The column beside the pinned one starts at its left boundary: header and every row.
        assert after_pinned(lines[0]).startswith(" predicted "), lines[0]
        for line, row in zip(lines[1:], ROWS):
            assert after_pinned(line).startswith(f" {row[2]} "), line
        assert "1.021e-39" in lines[2] and "7.4e+105" in lines[3]
        assert table.cells_rendered == drawn, "scrolling sideways draws no cell anew: it crops the lines again"

        await pilot.press("left")
        await pilot.pause()
        assert table.scroll_x == 0 and after_pinned(screen_lines(table)[0]).startswith(" formula ")


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_end_then_home_round_trips_and_the_hint_counts_the_cut_column(size):
    app = TableApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(WideTable)
        home = screen_lines(table)
        # At 84x12 "predicted" shows 4 of its cells (blanked): it counts as one of the 3 more columns;
        # at 100x16 "agreement" likewise.
        _, right = table.cut_columns()
        cut = CUT_AT_HOME[size]
        assert [COLUMNS[i] for i in right] == cut
        hint = f"{len(cut)} more column{'s' if len(cut) > 1 else ''} →"
        assert table.cut == (0, len(cut)) and hint in str(table.border_subtitle)
        assert hint in screen_text.screen_lines(app)[table.region.bottom - 1], "on the border"

        await pilot.press("end")
        await pilot.pause()
        lines = screen_lines(table)
        assert_nothing_misread(lines)
        assert after_pinned(lines[0]).startswith(" predicted ") and "agreement" in lines[0]
        assert [chunks(line)[-1] for line in lines[1:]] == [row[-1] for row in ROWS], "the last column whole"
        left = len(COLUMNS) - 1 - len(chunks(lines[0]))
        assert table.cut == (left, 0) and str(table.border_subtitle).startswith(f" ← {left} column")
        assert "more column" not in str(table.border_subtitle)
        assert table.scroll_x == table.max_scroll_x, "Right stops where End does"

        await pilot.press("home")
        await pilot.pause()
        assert table.scroll_x == 0 and screen_lines(table) == home
        assert table.cut == (0, len(cut))


async def test_every_scroll_position_keeps_cut_columns_unreadable():
    """Wherever the table is scrolled to (a mouse, the scrollbar), a cut column shows no prefix."""
    app = TableApp()
    async with app.run_test(size=(84, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(WideTable)
        assert table.max_scroll_x > 0
        for x in range(table.max_scroll_x + 1):
            table.scroll_to(x=x, animate=False, immediate=True)
            assert_nothing_misread(drawn_lines(table))


async def test_the_row_cursor_covers_the_blanked_cells():
    app = TableApp()
    async with app.run_test(size=(84, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(WideTable)
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 1
        strip = table.render_line(table.header_height + 1)  # the cursor row: std_last_block
        edge = view_width(table) - 2  # inside the blanked "predicted"
        styles = {x: next(iter(strip.crop(x, x + 1))).style for x in (PINNED + 2, edge)}
        assert strip.crop(edge - 2, edge + 1).text == "   "
        assert styles[PINNED + 2].bgcolor == styles[edge].bgcolor, "the cursor's background reaches the edge"
        await pilot.press("right")
        await pilot.pause()
        assert table.cursor_row == 1, "Right scrolls; the row cursor stays"


async def test_a_column_wider_than_the_view_shows_its_start_marked_and_pages_through():
    app = TableApp(note=True)
    async with app.run_test(size=(84, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(WideTable)
        await pilot.press("end")
        await pilot.pause()
        lines = screen_lines(table)
        assert_nothing_misread(lines, note=True)
        assert after_pinned(lines[0]).startswith(" note ") and lines[0].endswith("…")
        assert after_pinned(lines[1]).startswith(" measured_over is") and lines[1].endswith("…")
        assert table.cut[1] == 1, "the note is cut: the hint says 1 more column"
        seen = [after_pinned(lines[1])]
        for _ in range(5):
            await pilot.press("right")
            await pilot.pause()
            seen.append(after_pinned(screen_lines(table)[1]))
            if table.cut[1] == 0:
                break
        assert table.cut[1] == 0 and seen[-1].rstrip().endswith("of the net without normalisation")
        assert seen[-1].startswith("…"), "the page that begins inside the note is marked"
        await pilot.press("home")
        await pilot.pause()
        assert table.scroll_x == 0 and after_pinned(screen_lines(table)[0]).startswith(" formula ")
