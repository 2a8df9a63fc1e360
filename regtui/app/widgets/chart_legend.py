"""A chart's legend, drawn under the plot (plotext's own legend box hides curves)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from regtui.app import plotting

GAP = "   "  # between two items


class ChartLegend(Static):
    DEFAULT_CSS = """
    ChartLegend {
        height: auto;
        max-height: 8;  /* every series listed: a sweep of 8 variants × 2 metrics wraps onto several lines */
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last = ""
        self._items: list[tuple[str, str | int, str]] = []
        self._note = ""

    def show(self, items: list[tuple[str, str | int, str]], note: str = "") -> None:
        """``items``: (marker, plotext colour, label); ``note``: a first line (the chart's
        ``legend_note``: which variant is in focus and the keys)."""
        self._items = list(items)
        self._note = note
        self._layout()

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        """One line break between items, never inside one: a marker stays beside its label."""
        width = self.content_size.width or 1 << 16  # before the first layout: one line, wrapped later
        text, used = Text(), 0
        if self._note:
            text.append(self._note + ("\n" if self._items else ""), style="dim")
        for marker, color, label in self._items:
            shown = "·" if marker == plotting.BAND_MARKER else marker
            size = cell_len(f"{shown} {label}")
            if used and used + len(GAP) + size > width:
                text.append("\n")
                used = 0
            elif used:
                text.append(GAP)
                used += len(GAP)
            text.append(shown, style=plotting.rich_of(color))
            text.append(f" {label}")
            used += size
        if text.plain != self._last:
            self._last = text.plain
            self.update(text)
