"""How a :class:`~regtui.app.widgets.wide_table.WideTable` draws a line (Textual's Line API).

Each row's cells are rendered once with Rich (padding, the row's stripe, the cursor's colours) into
segments, kept in an LRU cache under what they depend on (the row's cells, the column widths, the
cursor, the styles of the frame); a line is then the pinned cells and the scrolling cells cropped to
the scroll position, with the cut columns blanked (:class:`.table_sideways.Clips`). Scrolling only
crops again. The look is DataTable's (its colours, its row cursor), which the snapshots pin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widgets.data_table import RowKey

if TYPE_CHECKING:
    from regtui.app.widgets.wide_table import WideTable

# One line of a row: the pinned cells' segments, the scrolling cells' segments, the style of the room
# after the last column.
Line = tuple[list[Segment], list[Segment], Style]


class Styles(NamedTuple):
    """The styles of one frame (they follow the theme and the focus)."""

    base: Style
    header: Style
    fixed: Style
    even: Style
    odd: Style
    cursor: Style
    fixed_cursor: Style

    @classmethod
    def of(cls, table: WideTable) -> Styles:
        style = table.get_component_rich_style
        return cls(
            table.rich_style,
            style("wide-table--header"),
            style("wide-table--fixed"),
            style("wide-table--even-row"),
            style("wide-table--odd-row"),
            style("wide-table--cursor"),
            style("wide-table--fixed-cursor"),
        )


class TableLines:
    """Draws the lines of one table; ``cells_rendered`` counts the cells drawn with Rich."""

    def __init__(self, size: int = 1024) -> None:
        self.cache: LRUCache[tuple[Any, ...], list[Line]] = LRUCache(size)
        self.cells_rendered = 0

    def line(self, table: WideTable, y: int, styles: Styles) -> Strip:
        """Line ``y`` of the table's region (the header's first, then the rows scrolled to)."""
        width = table.size.width
        if y < table.header_height:
            row, line = -1, y
        else:
            at = table.data.row_at_line(y - table.header_height + round(table.scroll_y))
            if at is None:
                return Strip.blank(width, styles.base)
            row, line = at
        if not table.ordered_columns:
            return Strip.blank(width, styles.base)
        fixed, scrolling, extend = self.row_lines(table, row, styles)[line]
        sideways = table.sideways()
        fixed_width, sx = sideways.fixed_width, sideways.sx
        view = width - fixed_width
        room = sx + view - sum(w for _, w in sideways.scrolling)
        segments = [*scrolling, Segment(" " * room, extend)] if room > 0 else scrolling
        strip = Strip.join([Strip(fixed, fixed_width), Strip(segments).crop(sx, sx + view)])
        strip = strip.adjust_cell_length(width, styles.base).simplify()
        clips = sideways.clips()
        return strip if clips is None else clips.apply(strip, header=row < 0)

    def row_lines(self, table: WideTable, row: int, styles: Styles) -> list[Line]:
        """Row ``row``'s lines (-1: the header), from the cache when nothing they show changed."""
        cursor = row == table.cursor_row
        key = table.data.row_keys[row] if row >= 0 else None
        widths = tuple(column.text_width for column in table.ordered_columns)
        version = table.data.versions[key] if key is not None else 0
        cache_key = (row, key, version, cursor, widths, styles)
        lines = self.cache.get(cache_key)
        if lines is None:
            lines = self.draw_row(table, row, key, cursor, styles)
            self.cache[cache_key] = lines
        return lines

    def draw_row(self, table: WideTable, row: int, key: RowKey | None, cursor: bool, styles: Styles) -> list[Line]:
        """Render a row's cells with Rich: the pinned ones in their own style, the others striped."""
        null = Style()
        if key is None:
            texts = [column.label for column in table.ordered_columns]
            height, row_style, fixed_style = table.header_height, styles.header, styles.header
            mark = fixed_mark = null
        else:
            texts, height = table.data.texts[key], table.data.heights[row]
            row_style, fixed_style = (styles.odd if row % 2 else styles.even), styles.fixed
            mark = styles.cursor if cursor else null
            fixed_mark = styles.cursor + styles.fixed_cursor if cursor else null
        console, options = table.app.console, table.app.console_options
        pad = table.cell_padding
        fixed: list[list[Segment]] = [[] for _ in range(height)]
        scrolling: list[list[Segment]] = [[] for _ in range(height)]
        for i, (column, text) in enumerate(zip(table.ordered_columns, texts)):
            pinned = i < table.fixed_columns
            base, over = (fixed_style, fixed_mark) if pinned else (row_style, mark)
            # The cursor's colour over the cell's own (DataTable's cursor_foreground_priority "css").
            post = Style.from_color(over.color) if cursor else null
            cell_options = options.update_dimensions(column.text_width + 2 * pad, height)
            if height == 1:
                cell_options = cell_options.update(no_wrap=True)
            rendered = console.render_lines(Padding(text, (0, pad)), cell_options)
            self.cells_rendered += 1
            style = base + over
            for line, segments in zip(fixed if pinned else scrolling, rendered):
                line.extend(Segment.apply_style(segments, style, post))
        return [(f, s, row_style + mark) for f, s in zip(fixed, scrolling)]
