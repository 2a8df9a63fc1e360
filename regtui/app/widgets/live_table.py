"""A DataTable updated in place by row and column keys, the cells that changed last highlighted.

Columns keep the JSON document's names as keys and its order; their headers are short
(``short_header``) so that a table fits the width where it can; numbers have 4 significant
digits. With the table focused, Left/Right scroll it sideways (the row cursor moves up/down).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from regtui.numbers import fmt

HOT = "bold reverse"  # visible without colour too (NO_COLOR)
DIGITS = 4  # significant digits of a cell

# Whole names first, then parts; the JSON keeps the long names (the caption says so).
HEADERS = {
    "iteration": "iter",
    "running_mean": "run mean",
    "running_var": "run var",
    "batch_mean": "b mean",
    "batch_var_biased": "b var",
    "batch_var_unbiased": "b var N-1",
    "max_abs_diff": "max|Δ|",
    "running_buffers": "run stats",
    "reduces_over": "over",
    "weight_shape": "γ shape",
    "bias_shape": "β shape",
}
PARTS = (
    ("test_accuracy (batch ", "acc b"),
    ("train_accuracy (batch ", "train acc b"),
    ("test_accuracy", "acc"),
    ("train_accuracy", "train acc"),
    ("_", " "),
)


def cell_text(value: Any) -> str:
    return fmt(value, DIGITS)


def short_header(name: str) -> str:
    """'run mean' for running_mean, 'acc b2' for 'test_accuracy (batch 2)': what fits a column."""
    if name in HEADERS:
        return HEADERS[name]
    for long, short in PARTS:
        name = name.replace(long, short)
    return name.replace("(", "").replace(")", "") if name.startswith(("acc b", "train acc b")) else name


class LiveTable(DataTable):
    """Rows are identified by a key; ``upsert`` updates cells in place instead of refilling."""

    DEFAULT_CSS = """
    LiveTable {
        height: auto;
        max-height: 100%;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, zebra_stripes=True, cursor_type="row")
        self.columns_shown: tuple[str, ...] = ()
        self._values: dict[str, tuple[str, ...]] = {}  # row key -> displayed texts
        self._hot: set[tuple[str, str]] = set()  # (row key, column) highlighted now
        self.updates = 0  # update_cell calls, for tests and the benchmark

    def set_columns(self, columns: Sequence[str]) -> None:
        """(Re)define the columns; a change of columns clears the table."""
        columns = tuple(str(c) for c in columns)
        if columns == self.columns_shown:
            return
        self.clear(columns=True)
        self._values.clear()
        self._hot.clear()
        self.columns_shown = columns
        for name in columns:
            self.add_column(short_header(name), key=name)

    def upsert(self, rows: Iterable[tuple[str, Sequence[Any]]], highlight: bool = True) -> None:
        """Add or update rows ``(key, values)``; only the cells of shown rows that changed are
        highlighted (a new row is new, not changed: highlighting it would light up the whole
        table after a run)."""
        hot: set[tuple[str, str]] = set()
        pending: list[tuple[str, tuple[str, ...]]] = []
        for key, values in rows:
            texts = tuple(cell_text(v) for v in values)
            texts = texts + ("",) * (len(self.columns_shown) - len(texts))
            old = self._values.get(key)
            if old is None:
                pending.append((key, texts))
                continue
            for column, before, after in zip(self.columns_shown, old, texts):
                if before != after:
                    hot.add((key, column))
            self._values[key] = texts
        # Cool down the cells that were hot last time and did not change now.
        for key, column in self._hot - hot:
            if key in self._values:
                self._set(key, column, plain=True)
        for key, column in hot:
            if key in self._values:
                self._set(key, column, plain=not highlight)
        for key, texts in pending:
            self._values[key] = texts
            self.add_row(*texts, key=key)
        self._hot = hot if highlight else set()

    # --- the keyboard reaches the view's other tables: Down on the last row, Up on the first ---

    def action_cursor_down(self) -> None:
        if self.row_count == 0 or self.cursor_row >= self.row_count - 1:
            neighbour = self._neighbour(1)
            if neighbour is not None:
                self.screen.set_focus(neighbour)
                return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0:
            neighbour = self._neighbour(-1)
            if neighbour is not None:
                self.screen.set_focus(neighbour)
                return
        super().action_cursor_up()

    def _neighbour(self, step: int) -> LiveTable | None:
        """The next (step 1) or previous (-1) shown table beside this one in its view."""
        parent = self.parent
        if parent is None:
            return None
        tables = [w for w in parent.children if isinstance(w, LiveTable) and w.display]
        i = tables.index(self) + step if self in tables else -1
        return tables[i] if 0 <= i < len(tables) else None

    def _set(self, key: str, column: str, plain: bool) -> None:
        text = self._values[key][self.columns_shown.index(column)]
        self.update_cell(key, column, text if plain else Text(text, style=HOT))
        self.updates += 1

    def replace_all(self, columns: Sequence[str], rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Show exactly these rows (small summary tables): keyed update, stale rows removed."""
        self.set_columns(columns)
        rows = list(rows)
        keep = {key for key, _ in rows}
        for key in [k for k in self._values if k not in keep]:
            self.remove_row(key)
            del self._values[key]
        self._hot = {(k, c) for k, c in self._hot if k in keep}
        self.upsert(rows, highlight=False)
