""":class:`LiveTable`: a :class:`~regtui.app.widgets.wide_table.WideTable` updated in place by row and
column keys, the cells that changed last highlighted.

Columns keep the JSON document's names as keys and its order; their headers are short
(``short_header``) so that a table fits the width where it can; numbers have 4 significant digits.
A column of prose (norms' 'made for', bn-eval's error) wraps, its rows growing taller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.widget import Widget

from regtui.app.widgets.wide_table import WideTable
from regtui.numbers import fmt

HOT = "bold reverse"  # visible without colour too (NO_COLOR)
DIGITS = 4  # significant digits of a cell
WRAP_AT = 36  # a cell longer than this wraps in a column this wide (or narrower, to stay in view)
PROSE_MIN = 20  # the narrowest a wrapped column gets

# Whole names first, then parts; the JSON keeps the long names (the caption says so).
HEADERS = {
    "iteration": "iter",
    "running_mean": "run mean",
    "running_var": "run var",
    "batch_mean": "b mean",
    "batch_var_biased": "b var",
    "batch_var_unbiased": "b var N-1",
    "batch_var": "b var N-1",  # the unbiased variance too (engine/bn.py, the custom runs)
    "max_abs_diff": "max|Δ|",
    "running_buffers": "run stats",
    "reduces_over": "over",
    "weight_shape": "γ shape",
    "bias_shape": "β shape",
    "test_loss_recalibrated": "test loss (recal.)",
    "predicted_var_ratio": "pred. var ratio",
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


class LiveTable(WideTable):
    """Rows are identified by a key; ``upsert`` updates cells in place instead of refilling."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns_shown: tuple[str, ...] = ()
        self.shown_texts: dict[str, tuple[str, ...]] = {}  # row key -> displayed texts
        self.hot: set[tuple[str, str]] = set()  # (row key, column) highlighted now
        self.updates = 0  # cells updated in place, for tests and the benchmark

    def set_columns(self, columns: Sequence[str]) -> None:
        """(Re)define the columns; a change of columns clears the table."""
        columns = tuple(str(c) for c in columns)
        if columns == self.columns_shown:
            return
        self.clear(columns=True)
        self.shown_texts.clear()
        self.hot.clear()
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
            old = self.shown_texts.get(key)
            if old is None:
                pending.append((key, texts))
                continue
            for column, before, after in zip(self.columns_shown, old, texts):
                if before != after:
                    hot.add((key, column))
            self.shown_texts[key] = texts
        # Cool down the cells that were hot last time and did not change now.
        for key, column in self.hot - hot:
            if key in self.shown_texts:
                self._set(key, column, plain=True)
        for key, column in hot:
            if key in self.shown_texts:
                self._set(key, column, plain=not highlight)
        self.shown_texts.update(pending)
        if pending:
            self.add_rows(pending)
        self.wrap_long_columns()
        self.hot = hot if highlight else set()

    def wrap_long_columns(self) -> None:
        """A column of prose wraps, and its rows grow taller: one column wider than the screen could
        never be read whole by scrolling. It is as wide as the other columns leave room for (between
        PROSE_MIN and WRAP_AT), so that it is in view where it can be."""
        for column in self.ordered_columns:
            if column.auto_width and column.content_width > WRAP_AT:
                self.set_column_width(str(column.key.value), WRAP_AT)
        for column in self.ordered_columns:
            if not column.auto_width:
                self.set_column_width(str(column.key.value), self._prose_width(column.key.value))

    def _prose_width(self, name: str | None) -> int:
        """The width a prose column gets: what the view's width leaves after the other columns."""
        parent = self.parent
        room = self.scrollable_content_region.width if self.size.width else 0
        if not room and isinstance(parent, Widget):
            room = parent.scrollable_content_region.width
        if room <= 0:
            return WRAP_AT
        others = sum(c.text_width + 2 * self.cell_padding for c in self.ordered_columns if c.key.value != name)
        return max(PROSE_MIN, min(WRAP_AT, room - others - 2 * self.cell_padding))

    def on_resize(self) -> None:  # WideTable.on_resize runs too (Textual dispatches along the MRO)
        self.wrap_long_columns()

    def _set(self, key: str, column: str, plain: bool) -> None:
        text = self.shown_texts[key][self.columns_shown.index(column)]
        self.update_cell(key, column, text if plain else Text(text, style=HOT))
        self.updates += 1

    def replace_all(self, columns: Sequence[str], rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Show exactly these rows (small summary tables): keyed update, stale rows removed."""
        self.set_columns(columns)
        rows = list(rows)
        keep = {key for key, _ in rows}
        for key in [k for k in self.shown_texts if k not in keep]:
            self.remove_row(key)
            del self.shown_texts[key]
        self.hot = {(k, c) for k, c in self.hot if k in keep}
        self.upsert(rows, highlight=False)
