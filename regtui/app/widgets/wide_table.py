"""A table a newcomer can read and reach, built on Textual's public Line API: :class:`WideTable`.

It is every table of the dashboard (Running stats, Results, Worked numbers, History). A ScrollView
draws it line by line (``render_line``, as Textual's own Log widget does): each row's cells are
rendered once with Rich and kept in an LRU cache, so scrolling only crops lines again. The first
column names the row (variant, model, quantity, run id): it is pinned while the others scroll.

With it focused (tab to its view, or click it), Left/Right scroll it sideways one column at a time,
Home/End to the first/last column, Up/Down move the row cursor and, past the last (first) row, into
the next (previous) table of the view; Enter (or a click on the cursor's row) posts ``RowSelected``.
While columns are cut off, its bottom border says how many and which way ("3 more columns →"). A
column cut at the view's edge shows no prefix of its text (see :mod:`.table_sideways`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets.data_table import ColumnKey, RowKey

from regtui.app.widgets.table_data import Column, TableData
from regtui.app.widgets.table_lines import Styles, TableLines
from regtui.app.widgets.table_sideways import Sideways, cut_text
from regtui.app.widgets.table_views import InView


class WideTable(InView, ScrollView, can_focus=True):
    """A row-cursor table whose every column is reachable by keyboard, with a hint while some are cut."""

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "column_right", "Next column", show=False),
        Binding("left", "column_left", "Previous column", show=False),
        Binding("home", "first_column", "First column", show=False),
        Binding("end", "last_column", "Last column", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "first_row", "First row", show=False),
        Binding("ctrl+end", "last_row", "Last row", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "wide-table--header",
        "wide-table--fixed",
        "wide-table--even-row",
        "wide-table--odd-row",
        "wide-table--cursor",
        "wide-table--fixed-cursor",
    }

    # DataTable's look (its colours and its cursor), which the snapshots pin.
    DEFAULT_CSS = """
    WideTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .wide-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .wide-table--header {
                background-tint: $foreground 5%;
            }
            & > .wide-table--fixed-cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
        }
        &:dark > .wide-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .wide-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .wide-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .wide-table--fixed {
            background: $secondary-muted;
            color: $foreground;
        }
        & > .wide-table--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .wide-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .wide-table--fixed-cursor {
            background: $block-cursor-blurred-background;
            color: $foreground;
        }
    }
    WideTable.-cut {
        border-bottom: solid $foreground 30%;
        border-subtitle-align: left;
        border-subtitle-color: $text;
        border-subtitle-style: bold;
    }
    WideTable.-cut:focus {
        border-bottom: solid $accent;
    }
    """

    class RowSelected(Message):
        """Enter on a row (or a click on the cursor's row)."""

        def __init__(self, table: WideTable, cursor_row: int, row_key: RowKey) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> WideTable:
            return self.table

    cursor_row: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None, classes: str | None = None, fixed_columns: int = 1) -> None:
        super().__init__(id=id, classes=classes)
        self.data = TableData()
        self.fixed_columns = fixed_columns
        self.cell_padding = 1
        self.header_height = 1
        self.cut = (0, 0)  # columns cut off on the left and on the right now
        self.lines = TableLines()
        self._frame: Styles | None = None  # while render_lines draws

    # --- the data (DataTable's methods of the same names) ----------------------------------------

    @property
    def columns(self) -> dict[ColumnKey, Column]:
        return self.data.columns

    @property
    def ordered_columns(self) -> list[Column]:
        return self.data.ordered_columns

    @property
    def row_count(self) -> int:
        return self.data.row_count

    def add_column(self, label: str | Text, *, width: int | None = None, key: str | None = None) -> ColumnKey:
        column_key = self.data.add_column(label, width, key)
        self._changed()
        return column_key

    def add_columns(self, *labels: str | Text) -> list[ColumnKey]:
        return [self.add_column(label) for label in labels]

    def add_row(self, *cells: Any, key: str | None = None) -> RowKey:
        """A row at the bottom, as tall as its tallest cell (a cell wraps in a column of set width)."""
        row_key = self.data.add_row(cells, key, self.app.console)
        self._changed()
        return row_key

    def add_rows(self, rows: Iterable[tuple[str | None, Sequence[Any]]], at: int | None = None) -> list[RowKey]:
        """Rows ``(key, cells)`` at the bottom (or from index ``at`` on), measured once for all of them."""
        console = self.app.console
        keys = [self.data.add_row(tuple(cells), key, console) for key, cells in rows]
        if at is not None and keys:
            self.data.move_rows(keys, at)
        if keys:
            self._changed()
        return keys

    def update_cell(self, row_key: str | RowKey, column_key: str | ColumnKey, value: Any) -> None:
        self.data.update_cell(row_key, column_key, value, self.app.console)
        self._changed()

    def remove_row(self, row_key: str | RowKey) -> None:
        self.data.remove_row(row_key, self.app.console)
        self._changed()

    def clear(self, columns: bool = False) -> None:
        """Remove every row (and the columns too)."""
        self.data.clear(columns)
        self.cursor_row = 0
        self._changed()

    def get_cell(self, row_key: str | RowKey, column_key: str | ColumnKey) -> Any:
        """The cell at a row and a column, as it was given."""
        return self.data.cell(row_key, column_key)

    def get_row_at(self, index: int) -> list[Any]:
        """The cells of row ``index``, as they were given."""
        return list(self.data.values[self.data.row_keys[index]])

    def set_column_width(self, key: str, width: int | None) -> bool:
        """Give a column a set width (its longer cells wrap) or None (as wide as its cells); whether it
        changed."""
        column = self.data.column(key)
        if column is None or not self.data.set_width(column, width, self.app.console):
            return False
        self._changed()
        return True

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = row

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, self.row_count - 1))

    def watch_cursor_row(self, row: int) -> None:
        self._scroll_to_row(row)

    def _changed(self) -> None:
        """The data changed: the size follows, the cursor stays on a row, the lines are drawn again."""
        self._fit_size()
        if self.cursor_row >= self.row_count:
            self.cursor_row = self.row_count - 1
        self.refresh()
        self.update_hint()

    def _fit_size(self) -> None:
        self.virtual_size = Size(self.sideways().virtual_width(), self.header_height + self.data.height)

    # --- sideways: a column at a time ----------------------------------------------------------

    def column_spans(self) -> list[tuple[int, int]]:
        """(x, width) of each column in the table's virtual space, the cell padding included."""
        spans, x = [], 0
        for column in self.ordered_columns:
            width = column.text_width + 2 * self.cell_padding
            spans.append((x, width))
            x += width
        return spans

    def sideways(self) -> Sideways:
        """The columns' geometry in the view now (see :class:`.table_sideways.Sideways`)."""
        view = self.scrollable_content_region.width
        return Sideways(tuple(self.column_spans()), self.fixed_columns, self.cell_padding, view, round(self.scroll_x))

    def cut_columns(self) -> tuple[list[int], list[int]]:
        """Indexes of the columns cut off on the left and on the right."""
        return self.sideways().cut_columns()

    def _scroll_to_stop(self, x: int) -> None:
        self._fit_size()  # the view's width may have changed (a vertical scrollbar came)
        self.scroll_to(x=min(max(0, x), self.max_scroll_x), animate=False, immediate=True)

    def action_column_right(self) -> None:
        self._fit_size()
        target = self.sideways().right(self.max_scroll_x)
        if target is not None:
            self._scroll_to_stop(target)

    def action_column_left(self) -> None:
        target = self.sideways().left()
        if target is not None:
            self._scroll_to_stop(target)

    def action_first_column(self) -> None:
        self._scroll_to_stop(0)

    def action_last_column(self) -> None:
        self._fit_size()
        self._scroll_to_stop(self.sideways().end_stop()[0])

    # --- rows: the cursor, and the view's other tables past the first and the last row ----------

    def action_cursor_down(self) -> None:
        if self.row_count == 0 or self.cursor_row >= self.row_count - 1:
            table = self.neighbour(1)
            if table is not None:
                self.screen.set_focus(table)
                return
        self.cursor_row += 1

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            table = self.neighbour(-1)
            if table is not None:
                self.screen.set_focus(table)
                return
        self.cursor_row -= 1

    def action_page_down(self) -> None:
        self.cursor_row = self._row_a_page_away(1)

    def action_page_up(self) -> None:
        self.cursor_row = self._row_a_page_away(-1)

    def action_first_row(self) -> None:
        self.cursor_row = 0

    def action_last_row(self) -> None:
        self.cursor_row = self.row_count - 1

    def action_select_cursor(self) -> None:
        if self.row_count:
            row = self.cursor_row
            self.post_message(self.RowSelected(self, row, self.data.row_keys[row]))

    def _row_a_page_away(self, step: int) -> int:
        """The row a view's height of lines below (step 1) or above (-1) the cursor's."""
        room = max(1, self.scrollable_content_region.height - self.header_height)
        row, lines = self.cursor_row, 0
        while 0 <= row + step < self.row_count and lines + self.data.heights[row + step] <= room:
            row += step
            lines += self.data.heights[row]
        return row

    def _scroll_to_row(self, row: int) -> None:
        """Scroll the rows (under the header) so that the cursor's row is in view."""
        if not 0 <= row < self.row_count:
            return
        top, height = self.data.tops[row], self.data.heights[row]
        room = self.scrollable_content_region.height - self.header_height
        y = round(self.scroll_y)
        if room > 0 and top < y:
            y = top
        elif room > 0 and top + height > y + room:
            y = top + height - room
        if y != round(self.scroll_y):
            self.scroll_to(y=y, animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to its row; a click on the cursor's row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < self.header_height:
            return
        at = self.data.row_at_line(offset.y - self.header_height + round(self.scroll_y))
        if at is None:
            return
        event.stop()
        if at[0] == self.cursor_row:
            self.action_select_cursor()
        else:
            self.cursor_row = at[0]

    # --- the hint while columns are cut ---------------------------------------------------------

    def on_resize(self) -> None:
        self._fit_size()
        self.update_hint()

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        self.update_hint()

    def update_hint(self) -> None:
        """The bottom border says which columns are cut off (and the class ``-cut`` draws it)."""
        if not self.is_mounted or not self.ordered_columns or self.scrollable_content_region.width <= 0:
            cut = (0, 0)
        else:
            left, right = self.cut_columns()
            cut = (len(left), len(right))
        if cut == self.cut:
            return
        self.cut = cut
        self.set_class(any(cut), "-cut")
        self.border_subtitle = cut_text(*cut)

    # --- drawing: the Line API (see :mod:`.table_lines`) ------------------------------------------

    @property
    def cells_rendered(self) -> int:
        """Cells drawn with Rich so far (the cache saves the rest): scrolling draws none anew."""
        return self.lines.cells_rendered

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame = Styles.of(self)  # once for all the lines of this refresh
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        return self.lines.line(self, y, self._frame or Styles.of(self))
