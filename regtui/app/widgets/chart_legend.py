"""A chart's legend, drawn under the plot (plotext's own legend box hides curves)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from regtui.app import plotting


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

    def show(self, items: list[tuple[str, str | int, str]]) -> None:
        """``items``: (marker, plotext colour, label)."""
        text = Text()
        for marker, color, label in items:
            shown = "·" if marker == plotting.BAND_MARKER else marker
            text.append(shown, style=plotting.rich_of(color))
            text.append(f" {label}   ")
        if text.plain != self._last:
            self._last = text.plain
            self.update(text)
