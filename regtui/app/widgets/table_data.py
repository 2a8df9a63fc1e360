"""What a :class:`~regtui.app.widgets.wide_table.WideTable` holds, apart from how it is drawn: its
columns (labels, widths), its rows (keyed cells) and each row's height and place.

A column is as wide as its widest cell (``width`` None) or has a set width, and then its longer cells
wrap: their row grows as tall as its tallest cell. Widths and heights are kept up to date as cells
change, so the table knows its size at once (no measuring deferred to an idle moment).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.widgets.data_table import ColumnKey, RowKey


def as_text(value: Any) -> Text:
    """A cell's text: a Text as given, anything else as plain text (never read as markup)."""
    if isinstance(value, Text):
        return value
    return Text("" if value is None else str(value), end="")


def text_width(text: Text) -> int:
    """The cells its widest line takes."""
    return max((cell_len(line) for line in text.plain.split("\n")), default=0)


@dataclass
class Column:
    """A column: its key, its header, and its width (None: as wide as its widest cell)."""

    key: ColumnKey
    label: Text
    width: int | None = None
    content_width: int = 0  # the widest of its label and cells

    @property
    def auto_width(self) -> bool:
        return self.width is None

    @property
    def text_width(self) -> int:
        """The cells its text gets (without the padding)."""
        return self.content_width if self.width is None else self.width


class TableData:
    """The columns and rows of a table, their widths and heights; ``console`` wraps long cells."""

    def __init__(self) -> None:
        self.columns: dict[ColumnKey, Column] = {}
        self.ordered_columns: list[Column] = []
        self.row_keys: list[RowKey] = []
        self.values: dict[RowKey, list[Any]] = {}  # as given (``get_row_at``)
        self.texts: dict[RowKey, list[Text]] = {}
        self.heights: list[int] = []
        self.tops: list[int] = []  # each row's first line, below the header
        self.versions: dict[RowKey, int] = {}  # bumped when a row's cells change (its drawing is stale)
        self._index: dict[RowKey, int] = {}

    # --- columns -------------------------------------------------------------------------------

    def add_column(self, label: str | Text, width: int | None, key: str | None) -> ColumnKey:
        column_key = ColumnKey(key)
        if column_key in self.columns:
            raise ValueError(f"the column key {key!r} already exists")
        text = as_text(label)
        column = Column(column_key, text, width, text_width(text))
        self.columns[column_key] = column
        self.ordered_columns.append(column)
        for row_key in self.row_keys:
            self.values[row_key].append(None)
            self.texts[row_key].append(as_text(None))
        return column_key

    def column(self, key: str | ColumnKey) -> Column | None:
        return self.columns.get(key if isinstance(key, ColumnKey) else ColumnKey(key))

    def set_width(self, column: Column, width: int | None, console: Console) -> bool:
        """Give a column a set width (None: as wide as its cells); whether it changed."""
        if column.width == width:
            return False
        column.width = width
        self.relayout(console)
        return True

    # --- rows ----------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.row_keys)

    @property
    def height(self) -> int:
        """The lines all rows take."""
        return self.tops[-1] + self.heights[-1] if self.row_keys else 0

    def add_row(self, cells: tuple[Any, ...], key: str | None, console: Console) -> RowKey:
        if len(cells) > len(self.ordered_columns):
            raise ValueError(f"{len(cells)} cells for {len(self.ordered_columns)} columns")
        row_key = RowKey(key)
        if row_key in self._index:
            raise ValueError(f"the row key {key!r} already exists")
        values = [*cells, *(None,) * (len(self.ordered_columns) - len(cells))]
        texts = [as_text(v) for v in values]
        for column, text in zip(self.ordered_columns, texts):
            column.content_width = max(column.content_width, text_width(text))
        self._index[row_key] = len(self.row_keys)
        self.tops.append(self.height)
        self.row_keys.append(row_key)
        self.values[row_key], self.texts[row_key] = values, texts
        self.heights.append(self._row_height(texts, console))
        self.versions[row_key] = 0
        return row_key

    def update_cell(self, row: str | RowKey, column: str | ColumnKey, value: Any, console: Console) -> bool:
        """Set one cell; whether the row's height or a column's width changed (the layout did)."""
        row_key = row if isinstance(row, RowKey) else RowKey(row)
        found = self.column(column)
        if row_key not in self._index or found is None:
            raise KeyError(f"no cell at row {row!r}, column {column!r}")
        i = self.ordered_columns.index(found)
        text = as_text(value)
        old = text_width(self.texts[row_key][i])
        self.values[row_key][i], self.texts[row_key][i] = value, text
        self.versions[row_key] += 1
        width = found.content_width
        new = text_width(text)
        if new > width:
            found.content_width = new
        elif new < old == width:
            found.content_width = self._widest(i)
        index = self._index[row_key]
        height = self._row_height(self.texts[row_key], console)
        if found.content_width != width:
            self.relayout(console)
            return True
        if height != self.heights[index]:
            self.heights[index] = height
            self._place()
            return True
        return False

    def move_rows(self, keys: list[RowKey], at: int) -> None:
        """Put these rows (in this order) at index ``at`` of the others, e.g. new rows on top."""
        moved = set(keys)
        others = [key for key in self.row_keys if key not in moved]
        at = max(0, min(at, len(others)))
        heights = {key: self.heights[self._index[key]] for key in self.row_keys}
        self.row_keys = [*others[:at], *keys, *others[at:]]
        self._index = {key: i for i, key in enumerate(self.row_keys)}
        self.heights = [heights[key] for key in self.row_keys]
        self._place()

    def remove_row(self, row: str | RowKey, console: Console) -> None:
        row_key = row if isinstance(row, RowKey) else RowKey(row)
        index = self._index.pop(row_key)
        del self.row_keys[index], self.heights[index]
        del self.values[row_key], self.texts[row_key], self.versions[row_key]
        self._index = {key: i for i, key in enumerate(self.row_keys)}
        for i, column in enumerate(self.ordered_columns):
            column.content_width = self._widest(i)
        self.relayout(console)

    def clear(self, columns: bool = False) -> None:
        self.row_keys, self.heights, self.tops = [], [], []
        self.values, self.texts, self.versions, self._index = {}, {}, {}, {}
        if columns:
            self.columns, self.ordered_columns = {}, []
        for column in self.ordered_columns:
            column.content_width = text_width(column.label)

    def cell(self, row: str | RowKey, column: str | ColumnKey) -> Any:
        """The value of a cell, as it was given."""
        row_key = row if isinstance(row, RowKey) else RowKey(row)
        found = self.column(column)
        if row_key not in self._index or found is None:
            raise KeyError(f"no cell at row {row!r}, column {column!r}")
        return self.values[row_key][self.ordered_columns.index(found)]

    def index_of(self, row: str | RowKey) -> int | None:
        return self._index.get(row if isinstance(row, RowKey) else RowKey(row))

    def row_at_line(self, y: int) -> tuple[int, int] | None:
        """(row index, line within the row) of line ``y`` below the header; None past the last row."""
        if y < 0 or y >= self.height:
            return None
        index = bisect_right(self.tops, y) - 1
        return index, y - self.tops[index]

    # --- layout --------------------------------------------------------------------------------

    def relayout(self, console: Console) -> None:
        """Measure every row's height again (a column's width changed)."""
        self.heights = [self._row_height(self.texts[key], console) for key in self.row_keys]
        self._place()

    def _place(self) -> None:
        top, self.tops = 0, []
        for height in self.heights:
            self.tops.append(top)
            top += height

    def _row_height(self, texts: list[Text], console: Console) -> int:
        """Its tallest cell's lines: a cell longer than its column's set width wraps."""
        height = 1
        for column, text in zip(self.ordered_columns, texts):
            plain = text.plain
            if column.width is None or ("\n" not in plain and cell_len(plain) <= column.width):
                lines = plain.count("\n") + 1
            else:
                lines = len(text.wrap(console, max(1, column.width)))
            height = max(height, lines)
        return height

    def _widest(self, i: int) -> int:
        column = self.ordered_columns[i]
        return max([text_width(column.label), *(text_width(self.texts[key][i]) for key in self.row_keys)])
