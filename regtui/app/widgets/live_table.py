"""DataTables a newcomer can read and reach: :class:`WideTable` and :class:`LiveTable`.

:class:`WideTable` is every table of the dashboard (Running stats, Results, Worked numbers,
History). With it focused (tab to its view, or click it), Left/Right scroll it sideways one
column at a time, Home/End to the first/last column, Up/Down move the row cursor and, past the
last (first) row, into the next (previous) table of the view. While columns are cut off, its
bottom border says how many and which way ("3 more columns →"); the scrolling is Textual's own, to
column starts. A column cut at the view's edge shows no prefix of its text (blank cells, its header
ending in "…"): a cut 1.021e-39 would read 1.02.

:class:`LiveTable` is updated in place by row and column keys, the cells that changed last
highlighted. Columns keep the JSON document's names as keys and its order; their headers are
short (``short_header``) so that a table fits the width where it can; numbers have 4 significant
digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.containers import ScrollableContainer
from textual.css.scalar import Scalar
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Static, Tabs
from textual.widgets.data_table import ColumnKey

from regtui.numbers import fmt

HOT = "bold reverse"  # visible without colour too (NO_COLOR)
DIGITS = 4  # significant digits of a cell
CAPTION_LINES = 2  # a table's caption in a view of tables (with its padding)
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


# A line's clips (see WideTable._clips): cells blanked (x, x_end), header cells marked "…", cells of
# every line with text marked "…", the scrolling part (x, x_end).
Clips = tuple[tuple[tuple[int, int], ...], tuple[int, ...], tuple[int, ...], tuple[int, int]]


class WideTable(DataTable[Any]):
    """A row-cursor DataTable whose every column is reachable by keyboard, with a hint while some are cut."""

    DEFAULT_CSS = """
    WideTable {
        height: auto;
        max-height: 100%;
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

    def __init__(self, *, id: str | None = None, classes: str | None = None, fixed_columns: int = 1) -> None:
        # The first column names the row (variant, model, quantity, run id): pinned, it stays in view
        # while the others scroll sideways.
        super().__init__(id=id, classes=classes, zebra_stripes=True, cursor_type="row", fixed_columns=fixed_columns)
        self.cut = (0, 0)  # columns cut off on the left and on the right now
        self._clips_now: Clips | None = None  # the clips of all lines, while render_lines draws
        self._drawing = False
        self._drawn: dict[int, tuple[Strip, Clips, Strip]] = {}  # y -> DataTable's line, clips, clipped

    # --- sideways: a column at a time, column-aligned ----------------------------------------------
    #
    # The scrolling is Textual's own (scroll_x), moved only to "stops": the scroll positions where a
    # column begins right beside the pinned one. A column that the view's right (or left) edge cuts
    # is not drawn as a prefix of its text (a cut "1.021e-39" would read "1.02"): its cells are
    # blanked and its header ends in "…". A single column wider than the view is shown from its
    # start, its cut side marked "…", and Right/Left page through it.

    def _spans(self) -> list[tuple[int, int]]:
        """(x, width) of each column in the table's virtual space."""
        x = self._row_label_column_width
        spans = []
        for column in self.ordered_columns:
            width = column.get_render_width(self)
            spans.append((x, width))
            x += width
        return spans

    def _window(self) -> tuple[int, int, int]:
        """(left edge, right edge, fixed width on the left) of what is in view, in virtual x."""
        left = self._get_fixed_offset().left
        sx = round(self.scroll_x)
        return sx + left, sx + self.scrollable_content_region.width, left

    def _cut_columns(self) -> tuple[list[int], list[int]]:
        """Indexes of the columns cut off on the left and on the right (their text, not just padding)."""
        start, end, _ = self._window()
        pad = self.cell_padding
        fixed = self.fixed_columns
        left = [i for i, (x, w) in enumerate(self._spans()) if i >= fixed and x + pad < start]
        right = [i for i, (x, w) in enumerate(self._spans()) if x + w - pad > end]
        return left, right

    def _stops(self) -> list[int]:
        """The column-aligned scroll positions: each scrolling column's start beside the pinned ones."""
        _, _, fixed = self._window()
        return [x - fixed for x, _ in self._spans()[self.fixed_columns :]]

    def _end_stop(self) -> tuple[int, bool]:
        """The stop that shows the last column whole (and as many before it as fit), or the last
        column's start where it alone is wider than the view; and whether the last column fits."""
        spans = self._spans()[self.fixed_columns :]
        if not spans:
            return 0, True
        _, _, fixed = self._window()
        room = self.scrollable_content_region.width - fixed
        x_last, w_last = spans[-1]
        end = x_last + w_last - self.cell_padding
        stop = next((x - fixed for x, _ in spans if end - x <= room), None)
        return (x_last - fixed, False) if stop is None else (stop, True)

    def validate_virtual_size(self, size: Size) -> Size:
        """The virtual width ends where the End stop's view does: scroll_x reaches every stop, so the
        column beside the pinned ones always starts at its left boundary (room after the last column
        is blank, as when a table is narrower than its view; at most the last column's right padding
        is left out). A last column wider than the view keeps the width that shows its end."""
        view = self.scrollable_content_region.width
        if not self.columns or view <= 0:
            return size
        x, w = self._spans()[-1]
        stop, fits = self._end_stop()
        width = stop + view if stop > 0 and fits else x + w
        return Size(width, size.height)

    def _fit_width(self) -> None:
        """Re-validate the virtual width (the view's width changed, or a vertical scrollbar came)."""
        if self.is_mounted:
            self.virtual_size = self.virtual_size

    def _scroll_to_stop(self, x: int) -> None:
        self._fit_width()
        self.scroll_to(x=min(max(0, x), self.max_scroll_x), animate=False, immediate=True)

    def _at_left_edge(self) -> tuple[int, int] | None:
        """(x, width) of the scrolling column at the left boundary now (None past the last)."""
        start, _, _ = self._window()
        return next(((x, w) for x, w in self._spans()[self.fixed_columns :] if x + w > start), None)

    def action_cursor_right(self) -> None:
        if self.cursor_type in ("cell", "column"):
            super().action_cursor_right()
            return
        self._set_hover_cursor(False)
        _, right = self._cut_columns()
        if not right:
            return
        start, end, fixed = self._window()
        sx = start - fixed
        target = min((stop for stop in self._stops() if stop > sx), default=self.max_scroll_x)
        column = self._at_left_edge()
        if column is not None and column[0] + column[1] - self.cell_padding > end:
            # Wider than the view: a page further, until its end is in view; then the next column.
            x, w = column
            target = min(target, sx + (end - start), x + w - (end - sx))
        self._scroll_to_stop(target)

    def action_cursor_left(self) -> None:
        if self.cursor_type in ("cell", "column"):
            super().action_cursor_left()
            return
        self._set_hover_cursor(False)
        start, end, fixed = self._window()
        sx = start - fixed
        if sx <= 0:
            return
        target = max((stop for stop in self._stops() if stop < sx), default=0)
        column = self._at_left_edge()
        if column is not None and column[0] - fixed < sx - (end - start):
            target = max(target, sx - (end - start))  # a page back inside a column wider than the view
        self._scroll_to_stop(target)

    def action_scroll_home(self) -> None:
        if self.cursor_type in ("cell", "column"):
            super().action_scroll_home()
            return
        self._set_hover_cursor(False)
        self._scroll_to_stop(0)

    def action_scroll_end(self) -> None:
        if self.cursor_type in ("cell", "column"):
            super().action_scroll_end()
            return
        self._set_hover_cursor(False)
        self._fit_width()
        self._scroll_to_stop(self._end_stop()[0])

    # --- drawing: no column shown cut as if it were whole ----------------------------------------

    def _clips(self) -> Clips | None:
        """What to change on a line now, in the line's x: the cells of cut columns to blank (their
        style, and so the row cursor and the stripes, kept), the header's cells that get "…" (the
        cut side of those columns), and the cells that get "…" on every line with text in the
        scrolling part (a single column wider than the view, which keeps its text); None: nothing."""
        if not self.columns or self.scrollable_content_region.width <= 0:
            return None
        start, end, fixed = self._window()
        sx = start - fixed
        pad = self.cell_padding
        shown = [(x, w) for x, w in self._spans()[self.fixed_columns :] if x < end and x + w > start]
        if not shown:
            return None
        (x0, w0), (x1, w1) = shown[0], shown[-1]
        cut_left, cut_right = x0 + pad < start, x1 + w1 - pad > end
        if not (cut_left or cut_right):
            return None
        if len(shown) == 1:
            every = tuple(x - sx for x, cut in ((start, cut_left), (end - 1, cut_right)) if cut)
            return (), (), every, (fixed, end - sx)
        blank: list[tuple[int, int]] = []
        header: list[int] = []
        if cut_left:
            blank.append((fixed, x0 + w0 - sx))
            if x0 + w0 - start > 1:
                header.append(fixed)
        if cut_right:
            blank.append((x1 - sx, end - sx))
            if end - x1 > 1:
                header.append(end - sx - 1)
        return tuple(blank), tuple(header), (), (fixed, end - sx)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._clips_now, self._drawing = self._clips(), True  # once for all the lines of this refresh
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = False

    def render_line(self, y: int) -> Strip:
        base = super().render_line(y)
        clips = self._clips_now if self._drawing else self._clips()
        if clips is None:
            return base
        drawn = self._drawn.get(y)
        if drawn is not None and drawn[0] is base and drawn[1] == clips:
            return drawn[2]  # DataTable's cached line, clipped as last time
        blank, header, every, scrolling = clips
        strip = base
        if self.show_header and y < self.header_height:
            marks = header + every
        else:
            marks = every if every and strip.crop(*scrolling).text.strip() else ()
            for a, b in blank:
                strip = _blanked(strip, a, b)
        for x in marks:
            strip = _marked(strip, x)
        self._drawn[y] = (base, clips, strip)
        return strip

    # --- in a view of several tables: the focused one is shown whole, under its caption -------------

    def on_focus(self) -> None:
        self.call_after_refresh(self._show_whole, True)

    def on_mount(self) -> None:  # Textual calls ScrollView's own on_mount too
        self.fit_room()

    def fit_room(self) -> None:
        """In a scrolling view, at most its height less a caption's two lines: caption, header, rows and
        the cut-columns hint then show together."""
        parent = self.parent
        if isinstance(parent, ScrollableContainer) and parent.size.height > 0:
            room = max(6, parent.scrollable_content_region.height - CAPTION_LINES)
            if self.styles.max_height != Scalar.from_number(room):
                self.styles.max_height = room

    def _show_whole(self, again: bool = False) -> None:
        parent = self.parent
        if not isinstance(parent, ScrollableContainer) or not self.is_mounted:
            return
        self.fit_room()
        siblings = list(parent.children)
        index = siblings.index(self) if self in siblings else 0
        caption = siblings[index - 1] if index > 0 and isinstance(siblings[index - 1], Static) else None
        top = (caption or self).virtual_region.y
        bottom = self.virtual_region.bottom
        if top < parent.scroll_y or bottom > parent.scroll_y + parent.scrollable_content_region.height:
            parent.scroll_to(y=top, animate=False)
        if again:  # once more after the layout that a new max height (or new tables) brings
            self.call_after_refresh(self._show_whole)

    # --- the hint while columns are cut ---------------------------------------------------------

    def watch_scroll_x(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_x(old_value, new_value)
        self._hint()

    def watch_virtual_size(self) -> None:
        self._hint()

    def on_resize(self) -> None:
        self._fit_width()
        self._hint()

    def _hint(self) -> None:
        if not self.is_mounted or not self.columns or self.scrollable_content_region.width <= 0:
            cut = (0, 0)
        else:
            left, right = self._cut_columns()
            cut = (len(left), len(right))
        if cut == self.cut:
            return
        self.cut = cut
        self.set_class(any(cut), "-cut")
        self.border_subtitle = cut_text(*cut)

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

    def _neighbour(self, step: int) -> WideTable | None:
        """The next (step 1) or previous (-1) shown table beside this one in its view."""
        parent = self.parent
        if parent is None:
            return None
        tables = [w for w in parent.children if isinstance(w, WideTable) and w.display]
        i = tables.index(self) + step if self in tables else -1
        return tables[i] if 0 <= i < len(tables) else None


def _blanked(strip: Strip, a: int, b: int) -> Strip:
    """``strip`` with its cells a..b blank, each keeping its style."""
    if b <= a:
        return strip
    before, middle, after = strip.divide([a, b, strip.cell_length])
    spaces = [Segment(" " * cell_len(segment.text), segment.style) for segment in middle]
    return Strip.join([before, Strip(spaces, middle.cell_length), after])


def _marked(strip: Strip, x: int) -> Strip:
    """``strip`` with "…" in cell x (in that cell's style)."""
    if not 0 <= x < strip.cell_length:
        return strip
    before, cell, after = strip.divide([x, x + 1, strip.cell_length])
    style = next(iter(cell), Segment("")).style
    return Strip.join([before, Strip([Segment("…", style)], 1), after])


def cut_text(left: int, right: int) -> str:
    """'3 more columns →  (←/→ scroll)': what a table's bottom border says while columns are cut."""
    if not (left or right):
        return ""
    parts = []
    if left:
        parts.append(f"← {left} column{'' if left == 1 else 's'}")
    if right:
        parts.append(f"{right} more column{'' if right == 1 else 's'} →")
    return f" {' · '.join(parts)}  (←/→ scroll, Home/End) "


class LiveTable(WideTable):
    """Rows are identified by a key; ``upsert`` updates cells in place instead of refilling."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
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
        if self._wrap_long_columns([texts for _, texts in pending]):
            self._refill()  # a prose column's width changed: every row's height with it
        else:
            for key, texts in pending:
                self._add(key, texts)
        self._hot = hot if highlight else set()

    def _add(self, key: str, texts: tuple[str, ...]) -> None:
        long = any(cell_len(t) > WRAP_AT for t in texts)
        self.add_row(*texts, key=key, height=None if long else 1)

    def _refill(self) -> None:
        """Add every row again (its height is measured when it is added)."""
        self.clear()
        for key, texts in self._values.items():
            self._add(key, texts)

    def _wrap_long_columns(self, rows: list[tuple[str, ...]]) -> bool:
        """A column of prose (norms' 'made for', bn-eval's error) wraps, and its rows grow taller:
        one column wider than the screen could never be read whole by scrolling. It is as wide as
        the other columns leave room for (between PROSE_MIN and WRAP_AT), so that it is in view
        where it can be. Returns whether the width of a column that has rows changed."""
        for texts in rows:
            for name, text in zip(self.columns_shown, texts):
                column = self.columns.get(ColumnKey(name))
                if column is not None and column.auto_width and cell_len(text) > WRAP_AT:
                    column.auto_width = False
                    column.width = WRAP_AT
        changed = False
        for name in self.columns_shown:
            column = self.columns.get(ColumnKey(name))
            if column is None or column.auto_width:
                continue
            width = self._prose_width(name)
            if width != column.width:
                column.width = width
                changed = changed or self.row_count > 0
        return changed

    def _prose_width(self, name: str) -> int:
        """The width a prose column gets: what the view's width leaves after the other columns."""
        parent = self.parent
        room = self.scrollable_content_region.width if self.size.width else 0
        if not room and isinstance(parent, Widget):
            room = parent.scrollable_content_region.width
        if room <= 0:
            return WRAP_AT
        others = 0
        for i, other in enumerate(self.columns_shown):
            if other == name:
                continue
            column = self.columns.get(ColumnKey(other))
            if column is None:
                continue
            width = column.width if not column.auto_width else cell_len(short_header(other))
            if column.auto_width:
                width = max([width, *(cell_len(texts[i]) for texts in self._values.values() if i < len(texts))])
            others += width + 2 * self.cell_padding
        return max(PROSE_MIN, min(WRAP_AT, room - others - 2 * self.cell_padding))

    def on_resize(self) -> None:  # WideTable.on_resize runs too (Textual dispatches along the MRO)
        if self._wrap_long_columns([]):
            self._refill()

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


class TableFocus:
    """For a view (a TabPane) whose content is tables drawn only once it is shown: tab to the view
    focuses its first table, at once when it is there, else as soon as it is drawn (unless the
    focus went somewhere else than the tab row meanwhile)."""

    _focus_pending = False

    def _tables(self) -> list[WideTable]:
        assert isinstance(self, Widget)
        return [t for t in self.walk_children(WideTable) if t.display]

    def focus_content(self) -> bool:
        """Its first table, at once (the next key of a burst, Right or End, scrolls it)."""
        assert isinstance(self, Widget)
        tables = self._tables()
        self._focus_pending = not tables
        if tables:
            self.screen.set_focus(tables[0])
        return bool(tables)

    def focus_when_drawn(self) -> None:
        """Call after drawing: a pending focus goes to the first table once it is mounted."""
        assert isinstance(self, Widget)
        if self._focus_pending:
            self.call_after_refresh(self._take_pending_focus, 3)

    def _take_pending_focus(self, tries: int) -> None:
        assert isinstance(self, Widget)
        tables = self._tables()
        if not self._focus_pending:
            return
        if not tables:  # mounting: look again after the next refresh
            if tries > 0:
                self.call_after_refresh(self._take_pending_focus, tries - 1)
            return
        self._focus_pending = False
        focused = self.screen.focused
        tabbed = self.parent.parent if self.parent is not None else None  # ContentSwitcher, TabbedContent
        on_tab_row = focused is None or (isinstance(focused, Tabs) and focused.parent is tabbed)
        if on_tab_row and self.display and self.parent is not None and getattr(self.parent, "current", None) == self.id:
            self.screen.set_focus(tables[0])


class Refills:
    """For a container that empties itself and fills again with tables of the same ids (a new run, a
    stored run opened): Textual removes widgets a moment later, so a table must wait until the one of
    its id has gone (``leaving``), else mounting it fails (DuplicateIds). Widgets without an id (the
    hint) are not waited for."""

    _leaving: tuple[Widget, ...] = ()
    _deferred = False  # a fill waits for the removed widgets to go

    def on_resize(self) -> None:
        assert isinstance(self, Widget)
        for table in self.query_children(WideTable):
            table.fit_room()

    def empty(self) -> None:
        assert isinstance(self, Widget)
        self._leaving = (*self._leaving, *self.children)
        self._deferred = False
        self.remove_children()

    def leaving(self) -> bool:
        """Some of the widgets removed by :meth:`empty` that have an id are still there (a hint or
        a caption, without one, never holds a fill back: the view would show blank meanwhile)."""
        assert isinstance(self, Widget)
        self._leaving = tuple(w for w in self._leaving if w in self.children and w.id is not None)
        return bool(self._leaving)

    def defer(self, callback: Callable[..., object], *args: object) -> bool:
        """While removed widgets are still there: call ``callback(*args)`` after the next refresh
        and return True (the caller stops); else False (fill now)."""
        assert isinstance(self, Widget)
        self._deferred = self.leaving()
        if self._deferred:
            self.call_after_refresh(callback, *args)
        return self._deferred

    def settled(self) -> bool:
        """No fill waits for removed widgets to go: the next frame shows what it was last given."""
        return not self._deferred
