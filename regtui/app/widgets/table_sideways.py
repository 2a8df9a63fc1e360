"""A wide table's sideways scrolling, a column at a time, and how it draws a column cut by its edge.

The table's first columns are pinned; the others scroll to "stops": the scroll positions where a
column begins right beside the pinned ones. A column that the view's right (or left) edge cuts is not
drawn as a prefix of its text (a cut "1.021e-39" would read "1.02"): its cells are blanked and its
header ends in "…". A single column wider than the view is shown from its start, its cut side marked
"…", and Right/Left page through it. All of it is arithmetic on the columns' spans (no widget here).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from textual.strip import Strip

Span = tuple[int, int]  # a column's (x, width) in the table's virtual space, its padding included


@dataclass(frozen=True)
class Clips:
    """What to change on a line, in the line's x: cells to blank (their style kept, so the row cursor
    and the stripes stay), header cells that get "…", cells that get "…" on every line with text in
    the scrolling part (a single column wider than the view keeps its text), and the scrolling part."""

    blank: tuple[Span, ...]  # (x, x_end)
    header: tuple[int, ...]
    every: tuple[int, ...]
    scrolling: Span  # (x, x_end)

    def apply(self, strip: Strip, header: bool) -> Strip:
        if header:
            marks = self.header + self.every
        else:
            marks = self.every if self.every and strip.crop(*self.scrolling).text.strip() else ()
            for a, b in self.blank:
                strip = blanked(strip, a, b)
        for x in marks:
            strip = marked(strip, x)
        return strip


@dataclass(frozen=True)
class Sideways:
    """The columns' spans, how many are pinned, the cell padding, the view's width and the scroll x."""

    spans: tuple[Span, ...]
    fixed: int
    pad: int
    view: int
    sx: int

    @property
    def fixed_width(self) -> int:
        return sum(w for _, w in self.spans[: self.fixed])

    @property
    def scrolling(self) -> tuple[Span, ...]:
        return self.spans[self.fixed :]

    def window(self) -> tuple[int, int]:
        """(left edge, right edge) of the scrolling part in view, in virtual x."""
        return self.sx + self.fixed_width, self.sx + self.view

    def cut_columns(self) -> tuple[list[int], list[int]]:
        """Indexes of the columns cut off on the left and on the right (their text, not just padding)."""
        start, end = self.window()
        left = [i for i, (x, _) in enumerate(self.spans) if i >= self.fixed and x + self.pad < start]
        right = [i for i, (x, w) in enumerate(self.spans) if x + w - self.pad > end]
        return left, right

    def stops(self) -> list[int]:
        """The column-aligned scroll positions: each scrolling column's start beside the pinned ones."""
        return [x - self.fixed_width for x, _ in self.scrolling]

    def end_stop(self) -> tuple[int, bool]:
        """The stop that shows the last column whole (and as many before it as fit), or the last
        column's start where it alone is wider than the view; and whether the last column fits."""
        if not self.scrolling:
            return 0, True
        fixed = self.fixed_width
        room = self.view - fixed
        x_last, w_last = self.scrolling[-1]
        end = x_last + w_last - self.pad
        stop = next((x - fixed for x, _ in self.scrolling if end - x <= room), None)
        return (x_last - fixed, False) if stop is None else (stop, True)

    def virtual_width(self) -> int:
        """Where the End stop's view ends: scroll x reaches every stop, so the column beside the pinned
        ones always starts at its left boundary (room after the last column is blank, as when a table
        is narrower than its view; at most the last column's right padding is left out). A last
        column wider than the view keeps the width that shows its end."""
        if not self.spans:
            return 0
        x, w = self.spans[-1]
        if self.view <= 0:
            return x + w
        stop, fits = self.end_stop()
        return stop + self.view if stop > 0 and fits else x + w

    def _at_left_edge(self) -> Span | None:
        """The scrolling column at the left boundary now (None past the last)."""
        start, _ = self.window()
        return next(((x, w) for x, w in self.scrolling if x + w > start), None)

    def right(self, max_scroll: int) -> int | None:
        """The scroll x after Right: the next stop, or a page further inside a column wider than the
        view, until its end is in view; None when nothing is cut on the right."""
        if not self.cut_columns()[1]:
            return None
        start, end = self.window()
        target = min((stop for stop in self.stops() if stop > self.sx), default=max_scroll)
        column = self._at_left_edge()
        if column is not None and column[0] + column[1] - self.pad > end:
            x, w = column
            target = min(target, self.sx + (end - start), x + w - (end - self.sx))
        return target

    def left(self) -> int | None:
        """The scroll x after Left (None at the start): the previous stop, or a page back inside a
        column wider than the view."""
        if self.sx <= 0:
            return None
        start, end = self.window()
        target = max((stop for stop in self.stops() if stop < self.sx), default=0)
        column = self._at_left_edge()
        if column is not None and column[0] - self.fixed_width < self.sx - (end - start):
            target = max(target, self.sx - (end - start))
        return target

    def clips(self) -> Clips | None:
        """What to blank and mark on the lines now; None: every column in view is whole."""
        if not self.spans or self.view <= 0:
            return None
        start, end = self.window()
        fixed, sx, pad = self.fixed_width, self.sx, self.pad
        shown = [(x, w) for x, w in self.scrolling if x < end and x + w > start]
        if not shown:
            return None
        (x0, w0), (x1, w1) = shown[0], shown[-1]
        cut_left, cut_right = x0 + pad < start, x1 + w1 - pad > end
        if not (cut_left or cut_right):
            return None
        if len(shown) == 1:
            every = tuple(x - sx for x, cut in ((start, cut_left), (end - 1, cut_right)) if cut)
            return Clips((), (), every, (fixed, end - sx))
        blank: list[Span] = []
        header: list[int] = []
        if cut_left:
            blank.append((fixed, x0 + w0 - sx))
            if x0 + w0 - start > 1:
                header.append(fixed)
        if cut_right:
            blank.append((x1 - sx, end - sx))
            if end - x1 > 1:
                header.append(end - sx - 1)
        return Clips(tuple(blank), tuple(header), (), (fixed, end - sx))


def blanked(strip: Strip, a: int, b: int) -> Strip:
    """``strip`` with its cells a..b blank, each keeping its style."""
    if b <= a:
        return strip
    before, middle, after = strip.divide([a, b, strip.cell_length])
    spaces = [Segment(" " * cell_len(segment.text), segment.style) for segment in middle]
    return Strip.join([before, Strip(spaces, middle.cell_length), after])


def marked(strip: Strip, x: int) -> Strip:
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
